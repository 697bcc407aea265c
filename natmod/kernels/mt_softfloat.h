// SPDX-License-Identifier: MIT
// The names of the soft-float functions of mt_softfloat.c and mt_softfloat_v6m.c. Built for the
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

#endif
