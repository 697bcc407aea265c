// SPDX-License-Identifier: MIT
// The names of the soft-float functions of mt_softfloat.c and mt_softfloat_v6m.c, and the
// general functions of mt_softfloat.c (mt_softfloat_v6m.c's fast paths fall back on them). Built for the
// host with MT_SOFTFLOAT_TEST (tests/test_natmod_softfloat.py) every function is mt_test_*, so
// it can be compared with the host's hardware; on armv6m the general functions of
// mt_softfloat.c are mt_softfloat_*, the slow paths behind the fast __aeabi_* functions.
#ifndef MT_SOFTFLOAT_H
#define MT_SOFTFLOAT_H

#if defined(MT_SOFTFLOAT_TEST)
#define MT_HELPER(name) mt_test_##name
#define MT_AEABI(name) mt_test_aeabi_##name
#elif defined(__ARM_ARCH_6M__)
#define MT_HELPER(name) mt_softfloat_##name
#define MT_AEABI(name) __aeabi_##name
#else
#define MT_HELPER(name) __##name
#endif

#include <stdint.h>

float MT_HELPER(addsf3)(float a, float b);
float MT_HELPER(subsf3)(float a, float b);
float MT_HELPER(mulsf3)(float a, float b);
float MT_HELPER(divsf3)(float a, float b);
float MT_HELPER(floatsisf)(int32_t i);
float MT_HELPER(floatunsisf)(uint32_t u);
uint32_t MT_HELPER(udivsi3)(uint32_t n, uint32_t d);
uint32_t MT_HELPER(umodsi3)(uint32_t n, uint32_t d);
int32_t MT_HELPER(divsi3)(int32_t n, int32_t d);
int64_t MT_HELPER(muldi3)(int64_t a, int64_t b);

#endif
