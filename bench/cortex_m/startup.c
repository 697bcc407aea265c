// SPDX-License-Identifier: MIT
// Vector table and reset handler of the benchmark image: what a Cortex-M4 board's startup code
// does before main (copy .data from its load address, zero .bss, give the FPU access), then
// main's return value becomes the semihosting exit status.
#include <stdint.h>

#include "semihost.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];

int main(void);

#define CPACR (*(volatile uint32_t *)0xE000ED88u)
#define CPACR_CP10_CP11_FULL (0xFu << 20)

void reset_handler(void) {
    const uint32_t *src = __data_load;
    for (uint32_t *dst = __data_start; dst < __data_end;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = __bss_start; dst < __bss_end;) {
        *dst++ = 0;
    }
#if defined(__ARM_FP)
    // The kernels are built with -mfloat-abi=hard: an FP instruction before this would fault.
    CPACR |= CPACR_CP10_CP11_FULL;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    semihost_exit(main());
}

// No interrupts are enabled, so any exception is a fault: say so and stop with status 3.
static void fault_handler(void) {
    semihost_write("fault: exception taken\n");
    semihost_exit(3);
}

typedef void (*vector)(void);

__attribute__((section(".vectors"), used)) static const vector vectors[16] = {
    (vector)(uintptr_t)__stack_top,  // initial main stack pointer
    reset_handler,
    fault_handler,  // NMI
    fault_handler,  // HardFault
    fault_handler,  // MemManage
    fault_handler,  // BusFault
    fault_handler,  // UsageFault
    0, 0, 0, 0,     // reserved
    fault_handler,  // SVCall
    fault_handler,  // DebugMonitor
    0,              // reserved
    fault_handler,  // PendSV
    fault_handler,  // SysTick
};
