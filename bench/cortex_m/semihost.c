// SPDX-License-Identifier: MIT
// Semihosting: `bkpt 0xab` with the operation in r0 and its argument in r1; the debugger (here
// qemu with -semihosting-config enable=on,target=native) performs it on the host.
#include "semihost.h"

#include <stdint.h>

enum {
    SYS_WRITE0 = 0x04,         // r1: a NUL-terminated string
    SYS_EXIT_EXTENDED = 0x20,  // r1: {reason, status}
    ADP_STOPPED_APPLICATION_EXIT = 0x20026,
};

static uintptr_t semihost_call(uintptr_t op, const void *arg) {
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void semihost_write(const char *text) {
    semihost_call(SYS_WRITE0, text);
}

_Noreturn void semihost_exit(int status) {
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    for (;;) {
        semihost_call(SYS_EXIT_EXTENDED, block);
    }
}
