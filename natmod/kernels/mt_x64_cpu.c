// SPDX-License-Identifier: MIT
// Which x86-64 SIMD level the kernels use (mt_x64.h).
#include "mt_x64.h"

#if defined(__x86_64__)
#include <cpuid.h>

// 0: not asked yet, else level + 1. A plain global without initializer: the natmod loader's
// BSS (NATMOD_FACTS: static BSS would not link).
int mt_x64_level_plus_1;

static int ask_cpu(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1)) {
        return MT_X64_PORTABLE;
    }
    // AVX2: the CPU has it (leaf 7), and the OS saves the ymm state (OSXSAVE, then XCR0 bits
    // 1 and 2), else an AVX instruction faults.
    const int osxsave = (c & bit_OSXSAVE) != 0, avx = (c & bit_AVX) != 0;
    if (!osxsave || !avx || !__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_AVX2)) {
        return MT_X64_SSE41;
    }
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6u) == 6u ? MT_X64_AVX2 : MT_X64_SSE41;
}

int mt_x64_level(void) {
    if (!mt_x64_level_plus_1) {
        const int level = ask_cpu();
        mt_x64_level_plus_1 = (level < MT_X64_SIMD_MAX ? level : MT_X64_SIMD_MAX) + 1;
    }
    return mt_x64_level_plus_1 - 1;
}
#endif
