// SPDX-License-Identifier: MIT
// A free-running counter read from the emulated clock. Under qemu -icount shift=0 the virtual
// clock advances 1 ns per executed instruction, so ticks * ns-per-tick counts instructions.
#ifndef BENCH_TIMER_H
#define BENCH_TIMER_H

#include <stdint.h>

void timer_start(void);
uint32_t timer_now(void);  // counts up; differences are exact modulo 2^32

#endif
