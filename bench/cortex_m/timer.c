// SPDX-License-Identifier: MIT
// CMSDK APB timer 0 of the mps2 boards (0x40000000), clocked by the 25 MHz system clock: a
// 32-bit down-counter, so it runs 171 s of virtual time (171e9 instructions) before it wraps.
#include "timer.h"

typedef struct {
    volatile uint32_t ctrl;  // bit 0: enable
    volatile uint32_t value;
    volatile uint32_t reload;
    volatile uint32_t intstatus;
} cmsdk_timer;

#define TIMER0 ((cmsdk_timer *)0x40000000u)

void timer_start(void) {
    TIMER0->ctrl = 0;
    TIMER0->reload = 0xFFFFFFFFu;
    TIMER0->value = 0xFFFFFFFFu;
    TIMER0->ctrl = 1;
}

uint32_t timer_now(void) {
    return ~TIMER0->value;
}
