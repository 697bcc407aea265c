// SPDX-License-Identifier: MIT
// Helpers of the ESP32 / ESP32-S3 (xtensawin) fast paths, written once: MAC16 multiply-
// accumulates with loads (`mula.da.*.ldinc`, `mula.dd.*.ldinc`) inside zero-overhead loops
// (`loopnez`). Both chips have MAC16 and LOOPS (Espressif's core-isa.h: XCHAL_HAVE_MAC16,
// XCHAL_HAVE_LOOPS, XCHAL_INST_FETCH_WIDTH 4), and so does qemu's de233_fpu, where make test
// runs every byte (docs/xtensa.md). Include it anywhere: it defines MT_XTENSA_MAC16 (1 on
// those cores, 0 elsewhere), and the rest only where it is 1. The dot products are assembly
// functions (mt_xtensa_dot.c, with the zero-overhead loops' alignment rule and how it is kept).
#ifndef MT_XTENSA_H
#define MT_XTENSA_H

#include <stdint.h>

// clang for the bare xtensa target (the CPU is chosen at llc, natmod build) defines __XTENSA__
// only; the xtensawin build adds __XTENSA_WINDOWED_ABI__, as Espressif's gcc defines for these
// cores. The ESP8266's gcc (call0, no MAC16, no loops) defines __XTENSA_CALL0_ABI__ instead.
#if defined(__XTENSA__) && defined(__XTENSA_WINDOWED_ABI__)
#define MT_XTENSA_MAC16 1
#else
#define MT_XTENSA_MAC16 0
#endif

#if MT_XTENSA_MAC16

// The stack vectors of the fast paths: int16 values in word pairs, plus the word the dot
// products' last ldinc reads ahead.
#define MT_XT_VEC_HALVES_MAX 1024

// out[i] = x[i] * scale[i] + offset for i < n as int16 (scale NULL: 1), zero up to the next
// multiple of 4 and one word beyond (what the dot products' last read-ahead loads). The caller
// keeps every value in int16.
static inline void mt_xt_widen_s8(const int8_t *x, const int16_t *scale, int32_t n,
                                  int32_t offset, int16_t *out) {
    int32_t i = 0;
    for (; i < n; i++) {
        out[i] = (int16_t)(x[i] * (scale ? scale[i] : 1) + offset);
    }
    for (; i < ((n + 3) & ~3) + 2; i++) {
        out[i] = 0;
    }
}

// Can mt_xt_rows_s8_s16 take rows of c_in bytes of this filter (word loads: c_in a multiple of
// 4 and the filter word-aligned), with the widened input in a MT_XT_VEC_HALVES_MAX vector?
static inline int mt_xt_s8_rows_fit(int32_t c_in, const int8_t *filter) {
    return c_in % 4 == 0 && c_in + 2 <= MT_XT_VEC_HALVES_MAX && ((uintptr_t)filter & 3u) == 0;
}

// out[r] = sum over i < 4 quads of w[r * 4 quads + i] * x16[i] for r < rows, rows >= 1: w int8,
// x16 int16, both word-aligned, one word of x16 readable past the end; each |sum| < 2^31 (4
// quads <= 65536, |x16| <= 255). 9 instructions per 4 MACs, about 15 a row around them.
void mt_xt_rows_s8_s16(const int8_t *w, const int16_t *x16, int32_t quads, int32_t rows,
                       int32_t *out);

// The rows the kernels pass to one mt_xt_rows_s8_s16 call at most (their sums on the stack).
#define MT_XT_ROWS_MAX 64

// sum over i < 4 quads of a[i] * b[i]: int16, word-aligned, one word of each readable past the
// end; the caller keeps |sum| < 2^31. One instruction per MAC.
int32_t mt_xt_dot_s16(const int16_t *a, const int16_t *b, int32_t quads);

// sum over o < 4 quads of a[o] * w[o * stride]: a int16 word-aligned (one word readable past
// the end), w int8 at any address; the caller keeps |sum| < 2^31. 4 instructions per MAC.
int32_t mt_xt_dot_s16_s8_strided(const int16_t *a, const int8_t *w, int32_t stride,
                                 int32_t quads);

#endif
#endif
