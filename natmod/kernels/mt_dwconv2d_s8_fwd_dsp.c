// SPDX-License-Identifier: MIT
// The Cortex-M DSP-extension path of mt_dwconv2d_s8_fwd, 4 channels a word. Per group of 4
// channels the filter is sign-extended and doubled once into a table (one ldrd a tap) and the
// requantization prepared once, then every output pixel of the image in raster order (the
// in-place contract of mt_dwconv2d_s8_fwd.h). A window sums its taps inside the input, a row at
// a time, the row's columns unrolled (Duff's device): 9 instructions a tap for 4 MACs; 3x3
// windows inside the input 8, in asm. The doubled sums start at the doubled bias and the
// requantization is one smmlar with the output offset folded in (requant1): 7 instructions a
// channel. Channels outside its range (folds()) either step once over their reachable sums
// (folds_as_step) or get the portable arithmetic per output (patch_exact): the same bytes as
// the portable path in every case.
#include "mt_dwconv2d_s8_fwd_dsp.h"

#if defined(__ARM_FEATURE_DSP)
#include <stddef.h>

#include "mt_dsp.h"
#include "mt_requant.h"

#define DW_MAX_TAPS 49  // 7x7: the weight table is 392 bytes of stack
// |bias| <= 2^29 and |sum of w (x + offset)| <= 49 * 128 * 255 < 2^21: 2 (bias + sum) fits
// int32, so the doubled sums may start at the doubled bias (the portable path adds the bias
// saturating, which then never saturates).
#define DW_MAX_BIAS (1 << 29)
// Shifts in [DW_MIN_SHIFT, -2]: the output offset folds into the rounding term (requant1).
#define DW_MIN_SHIFT (-22)

// One tap of 4 channels: the weights sign-extended, channels 0 and 2 (even) and 1 and 3 (odd)
// as halfword pairs, side by side for one ldrd.
typedef struct {
    int32_t even, odd;
} dw_tap4;

// The 4 channels' sums: named fields, never indexed, so that they stay in registers.
typedef struct {
    int32_t a0, a1, a2, a3;
} dw_sums4;

// One channel's requantization (requant1): multiplier, rounding term, shift.
typedef struct {
    int32_t m, round, shift;
} dw_requant;

// A group of 4 channels, prepared once per image.
typedef struct {
    dw_tap4 w[DW_MAX_TAPS];  // row-major, kw a row
    dw_requant rq[4];  // the channels that fold (folds())
    uint32_t exact;  // bit k: channel k does not fold; its sum starts at 0, not the bias
    int32_t clamp;  // act_min, act_max narrower than int8
    uint32_t lo4, hi4;  // act_min, act_max in each byte
    const int32_t *bias, *mult, *shift;  // at the group's first channel
    int32_t out_offset, act_min, act_max;
    // run3x3's and run_row's operands in memory (they have no register left for them):
    dw_sums4 start;  // the sums' start (the doubled biases)
    int32_t skip, back;  // run3x3: x from a row's middle tap to the next row; from the window's
                         // end to the next window
    int32_t skip_k, back_k;  // run_row: from a row's last tap to the next row; from the
                             // window's end to the next window
    const dw_tap4 *w_begin, *w_end;  // run_row: the window's rows inside the input
    const int8_t *y_end;  // the run's end
} dw_group;

// a += w (x + offset) for the 4 channels of one tap; then x one column (c bytes) on, w one
// table entry on. In asm: gcc neither post-increments the table pointer nor keeps all of it in
// registers.
MT_DSP_INLINE void tap4(const int8_t **x, const dw_tap4 **w, int32_t c, int32_t offsets,
                        dw_sums4 *a) {
    int32_t v, e, we, wo;
    __asm__("ldr     %[v], [%[x]]\n\t"
            "add     %[x], %[x], %[c]\n\t"
            "ldrd    %[we], %[wo], [%[w]], #8\n\t"
            "sxtab16 %[e], %[off], %[v]\n\t"
            "sxtab16 %[v], %[off], %[v], ror #8\n\t"
            "smlabb  %[a0], %[we], %[e], %[a0]\n\t"
            "smlatt  %[a2], %[we], %[e], %[a2]\n\t"
            "smlabb  %[a1], %[wo], %[v], %[a1]\n\t"
            "smlatt  %[a3], %[wo], %[v], %[a3]"
            : [x] "+r"(*x), [w] "+r"(*w), [a0] "+r"(a->a0), [a1] "+r"(a->a1),
              [a2] "+r"(a->a2), [a3] "+r"(a->a3), [v] "=&r"(v), [e] "=&r"(e), [we] "=&r"(we),
              [wo] "=&r"(wo)
            : [c] "r"(c), [off] "r"(offsets)
            : "memory");
}

// A window's taps inside the input: rows x cols of them, x and w at the first; a row x_row
// bytes and kw table entries on from the last. The columns of a row unrolled up to 7, entered
// where the count says (Duff's device), so no loop test per tap; constant counts (an inside
// 3x3 window) leave straight-line code.
MT_DSP_INLINE void window4(const int8_t *x, const dw_tap4 *w, int32_t rows, int32_t cols,
                           int32_t c, int32_t x_row, int32_t kw, int32_t offsets, dw_sums4 *a) {
    const int32_t x_skip = x_row - cols * c, w_skip = kw - cols;
    for (; rows > 0; rows--, x += x_skip, w += w_skip) {
        int32_t n = cols;
        for (; n > 7; n--) {  // a filter wider than 7
            tap4(&x, &w, c, offsets, a);
        }
        switch (n) {
            case 7: tap4(&x, &w, c, offsets, a);  // fall through
            case 6: tap4(&x, &w, c, offsets, a);  // fall through
            case 5: tap4(&x, &w, c, offsets, a);  // fall through
            case 4: tap4(&x, &w, c, offsets, a);  // fall through
            case 3: tap4(&x, &w, c, offsets, a);  // fall through
            case 2: tap4(&x, &w, c, offsets, a);  // fall through
            case 1: tap4(&x, &w, c, offsets, a);  // fall through
            default: break;
        }
    }
}

// One tap of window3x3 and run_row: the x word at `load`, the table entry at [wr] (then the
// next).
#define DW_TAP(load)                                                        \
    "ldr     %[v], " load "\n\t"                                             \
    "ldrd    %[we], %[wo], [%[wr]], #8\n\t"                                   \
    "sxtab16 %[e], %[off], %[v]\n\t"                                          \
    "sxtab16 %[v], %[off], %[v], ror #8\n\t"                                  \
    "smlabb  %[a0], %[we], %[e], %[a0]\n\t"                                   \
    "smlatt  %[a2], %[we], %[e], %[a2]\n\t"                                   \
    "smlabb  %[a1], %[wo], %[v], %[a1]\n\t"                                   \
    "smlatt  %[a3], %[wo], %[v], %[a3]\n\t"
#define DW_ROW3 DW_TAP("[%[xr]]") DW_TAP("[%[xr], %[c]]") \
    "add     %[xr], %[xr], %[c]\n\t" DW_TAP("[%[xr], %[c]]")

// A 3x3 window inside the input (x at its top-left tap, w at the table), one asm block: 8
// instructions a tap and 2 a row (gcc's loop of tap4 spent 10 a tap).
MT_DSP_INLINE void window3x3(const int8_t *x, const dw_tap4 *w, int32_t c, int32_t x_row,
                             int32_t offsets, dw_sums4 *a) {
    int32_t v, e, we, wo;
    const int32_t row_skip = x_row - c;  // after the row's middle column, to the next row
    __asm__(DW_ROW3 "add     %[xr], %[xr], %[skip]\n\t"
            DW_ROW3 "add     %[xr], %[xr], %[skip]\n\t"
            DW_ROW3
            : [xr] "+&r"(x), [wr] "+&r"(w), [a0] "+r"(a->a0), [a1] "+r"(a->a1),
              [a2] "+r"(a->a2), [a3] "+r"(a->a3), [v] "=&r"(v), [e] "=&r"(e), [we] "=&r"(we),
              [wo] "=&r"(wo)
            : [c] "r"(c), [skip] "r"(row_skip), [off] "r"(offsets)
            : "memory");
}

// One tap of run3x3: x word at `load`, the table entry t at [g, #8 t] (the table is g's first
// field).
#define DW_TAPG(load, t)                                                     \
    "ldr     %[v], " load "\n\t"                                             \
    "ldrd    %[we], %[wo], [%[g], #8*" #t "]\n\t"                             \
    "sxtab16 %[e], %[off], %[v]\n\t"                                          \
    "sxtab16 %[v], %[off], %[v], ror #8\n\t"                                  \
    "smlabb  %[a0], %[we], %[e], %[a0]\n\t"                                   \
    "smlatt  %[a2], %[we], %[e], %[a2]\n\t"                                   \
    "smlabb  %[a1], %[wo], %[v], %[a1]\n\t"                                   \
    "smlatt  %[a3], %[wo], %[v], %[a3]\n\t"
#define DW_ROWG(t0, t1, t2) DW_TAPG("[%[x]]", t0) DW_TAPG("[%[x], %[c]]", t1) \
    "add     %[x], %[x], %[c]\n\t" DW_TAPG("[%[x], %[c]]", t2)
// requant1 of sum a with the rq entry at g + at, temporaries we, wo, e.
#define DW_REQG(a, at)                                                       \
    "ldrd    %[we], %[wo], [%[g], %[" at "]]\n\t"                             \
    "ldr     %[e], [%[g], %[" at "]+8]\n\t"                                   \
    "add     %[wo], %[wo], %[" #a "], asr #31\n\t"                            \
    "smmlar  %[" #a "], %[" #a "], %[we], %[wo]\n\t"                          \
    "asr     %[" #a "], %[" #a "], %[e]\n\t"                                  \
    "ssat    %[" #a "], #8, %[" #a "]\n\t"

// Output pixels y .. g->y_end (a step of c) of a row, 3x3 windows inside the input (x at the
// first one's top-left tap, the next sx c on), every channel folding, the clamp the int8 range:
// the whole loop in one asm block, 120 instructions an output for 36 MACs (in C, gcc spilled
// its loop state around the taps: 136). 13 registers, so the table, the requantization, the
// start sums and the steps are read from g at constant offsets.
MT_DSP_INLINE void run3x3(const dw_group *g, const int8_t *x, int8_t *y, int32_t c,
                          int32_t offsets) {
    int32_t a0, a1, a2, a3, v, e, we, wo;
    __asm__ volatile(
        "1:\n\t"
        "ldrd    %[a0], %[a1], [%[g], %[o_start]]\n\t"
        "ldrd    %[a2], %[a3], [%[g], %[o_start]+8]\n\t"
        DW_ROWG(0, 1, 2)
        "ldr     %[v], [%[g], %[o_skip]]\n\t"
        "add     %[x], %[x], %[v]\n\t"
        DW_ROWG(3, 4, 5)
        "ldr     %[v], [%[g], %[o_skip]]\n\t"
        "add     %[x], %[x], %[v]\n\t"
        DW_ROWG(6, 7, 8)
        "ldr     %[v], [%[g], %[o_back]]\n\t"
        "add     %[x], %[x], %[v]\n\t"
        DW_REQG(a0, "o_rq0") DW_REQG(a1, "o_rq1") DW_REQG(a2, "o_rq2") DW_REQG(a3, "o_rq3")
        "bfi     %[a0], %[a1], #8, #8\n\t"
        "bfi     %[a0], %[a2], #16, #8\n\t"
        "bfi     %[a0], %[a3], #24, #8\n\t"
        "str     %[a0], [%[y]]\n\t"
        "add     %[y], %[y], %[c]\n\t"
        "ldr     %[v], [%[g], %[o_end]]\n\t"
        "cmp     %[y], %[v]\n\t"
        "bne     1b"
        : [x] "+&r"(x), [y] "+&r"(y), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2),
          [a3] "=&r"(a3), [v] "=&r"(v), [e] "=&r"(e), [we] "=&r"(we), [wo] "=&r"(wo)
        : [g] "r"(g), [c] "r"(c), [off] "r"(offsets),
          [o_start] "I"(offsetof(dw_group, start)), [o_skip] "I"(offsetof(dw_group, skip)),
          [o_back] "I"(offsetof(dw_group, back)), [o_end] "I"(offsetof(dw_group, y_end)),
          [o_rq0] "I"(offsetof(dw_group, rq)), [o_rq1] "I"(offsetof(dw_group, rq) + 12),
          [o_rq2] "I"(offsetof(dw_group, rq) + 24), [o_rq3] "I"(offsetof(dw_group, rq) + 36)
        : "cc", "memory");
}

// Two taps of run_row, x moved on past them.
#define DW_TAPW2 DW_TAP("[%[x]]") DW_TAP("[%[x], %[c]]") "add     %[x], %[x], %[c], lsl #1\n\t"

// run3x3 for filters kw = 3, 5 or 7 wide (row_taps: their kw taps) and any run of rows of
// them (g->w_begin .. w_end: the rows inside the input): the rows in an asm loop (the table
// pointer its 14th register), 8.5 instructions a tap.
#define DW_RUN_ROW(row_taps)                                                            \
    int32_t a0, a1, a2, a3, v, e, we, wo;                                               \
    const dw_tap4 *wr;                                                                  \
    __asm__ volatile(                                                                   \
        "1:\n\t"                                                                        \
        "ldrd    %[a0], %[a1], [%[g], %[o_start]]\n\t"                                  \
        "ldrd    %[a2], %[a3], [%[g], %[o_start]+8]\n\t"                                \
        "ldr     %[wr], [%[g], %[o_wbegin]]\n\t"                                        \
        "2:\n\t" row_taps                                                               \
        "ldr     %[v], [%[g], %[o_skip]]\n\t"                                           \
        "add     %[x], %[x], %[v]\n\t"                                                  \
        "ldr     %[v], [%[g], %[o_wend]]\n\t"                                           \
        "cmp     %[wr], %[v]\n\t"                                                       \
        "bne     2b\n\t"                                                                \
        "ldr     %[v], [%[g], %[o_back]]\n\t"                                           \
        "add     %[x], %[x], %[v]\n\t"                                                  \
        DW_REQG(a0, "o_rq0") DW_REQG(a1, "o_rq1") DW_REQG(a2, "o_rq2") DW_REQG(a3, "o_rq3") \
        "bfi     %[a0], %[a1], #8, #8\n\t"                                              \
        "bfi     %[a0], %[a2], #16, #8\n\t"                                             \
        "bfi     %[a0], %[a3], #24, #8\n\t"                                             \
        "str     %[a0], [%[y]]\n\t"                                                     \
        "add     %[y], %[y], %[c]\n\t"                                                  \
        "ldr     %[v], [%[g], %[o_end]]\n\t"                                            \
        "cmp     %[y], %[v]\n\t"                                                        \
        "bne     1b"                                                                    \
        : [x] "+&r"(x), [y] "+&r"(y), [wr] "=&r"(wr), [a0] "=&r"(a0), [a1] "=&r"(a1),   \
          [a2] "=&r"(a2), [a3] "=&r"(a3), [v] "=&r"(v), [e] "=&r"(e), [we] "=&r"(we),   \
          [wo] "=&r"(wo)                                                                \
        : [g] "r"(g), [c] "r"(c), [off] "r"(offsets),                                   \
          [o_start] "I"(offsetof(dw_group, start)), [o_skip] "I"(offsetof(dw_group, skip_k)), \
          [o_back] "I"(offsetof(dw_group, back_k)), [o_wend] "I"(offsetof(dw_group, w_end)), \
          [o_wbegin] "I"(offsetof(dw_group, w_begin)),                                  \
          [o_end] "I"(offsetof(dw_group, y_end)), [o_rq0] "I"(offsetof(dw_group, rq)),  \
          [o_rq1] "I"(offsetof(dw_group, rq) + 12), [o_rq2] "I"(offsetof(dw_group, rq) + 24), \
          [o_rq3] "I"(offsetof(dw_group, rq) + 36)                                      \
        : "cc", "memory")

static void run_row3(const dw_group *g, const int8_t *x, int8_t *y, int32_t c, int32_t offsets) {
    DW_RUN_ROW(DW_TAPW2 DW_TAP("[%[x]]"));
}

static void run_row5(const dw_group *g, const int8_t *x, int8_t *y, int32_t c, int32_t offsets) {
    DW_RUN_ROW(DW_TAPW2 DW_TAPW2 DW_TAP("[%[x]]"));
}

static void run_row7(const dw_group *g, const int8_t *x, int8_t *y, int32_t c, int32_t offsets) {
    DW_RUN_ROW(DW_TAPW2 DW_TAPW2 DW_TAPW2 DW_TAP("[%[x]]"));
}


// mt_requant_s8(sum, m, shift, output_offset, -128, 127) for s2 = 2 sum (sum with its bias),
// m >= 0 and e = -shift in [2, -DW_MIN_SHIFT]. mt_requant_dsp_core (mt_requant.h) computes
// floor((p + 2^30 - [sum ^ m < 0] 2^31 + 2^(e+30)) / 2^(31+e)), p = sum m; with m >= 0 the sign
// test is on sum alone, and doubling numerator and denominator gives
// floor((2p + 2^31 + (2^(e-1) - [sum < 0]) 2^32) / 2^(32+e)): smmlar's rounded high word of
// s2 m + ra 2^32 with ra = 2^(e-1) - [sum < 0], shifted by e. The output offset rides in ra too
// ((h + offset 2^e) >> e = (h >> e) + offset; |h| <= 2^30, |offset 2^e| < 2^29.1: no wrap), and
// ssat clamps to int8 (|y| <= 2^30 before the offset: no wrap). q: {m, 2^(e-1) + offset 2^e, e}.
#define DW_REQUANT1(a, at)                                                   \
    "ldrd    %[m], %[round], [%[q], #" #at "]\n\t"                            \
    "ldr     %[e], [%[q], #" #at "+8]\n\t"                                    \
    "add     %[round], %[round], %[" #a "], asr #31\n\t"                      \
    "smmlar  %[" #a "], %[" #a "], %[m], %[round]\n\t"                        \
    "asr     %[" #a "], %[" #a "], %[e]\n\t"                                  \
    "ssat    %[" #a "], #8, %[" #a "]\n\t"

// The 4 doubled sums requantized (q: the group's 4 channels), packed as the 4 output bytes.
MT_DSP_INLINE uint32_t requant4(dw_sums4 a, const dw_requant *q) {
    int32_t m, round, e;
    __asm__(DW_REQUANT1(a0, 0) DW_REQUANT1(a1, 12) DW_REQUANT1(a2, 24) DW_REQUANT1(a3, 36)
            "bfi     %[a0], %[a1], #8, #8\n\t"
            "bfi     %[a0], %[a2], #16, #8\n\t"
            "bfi     %[a0], %[a3], #24, #8"
            : [a0] "+r"(a.a0), [a1] "+r"(a.a1), [a2] "+r"(a.a2), [a3] "+r"(a.a3),
              [m] "=&r"(m), [round] "=&r"(round), [e] "=&r"(e)
            : [q] "r"(q)
            : "memory");
    return (uint32_t)a.a0;
}

// v with the bytes of the channels that do not fold replaced: the portable path's arithmetic
// on their (doubled) sums, which start at 0.
static uint32_t patch_exact(uint32_t v, dw_sums4 a, const dw_group *g) {
    const int32_t sums[4] = {a.a0 >> 1, a.a1 >> 1, a.a2 >> 1, a.a3 >> 1};
    for (uint32_t bits = g->exact; bits != 0; bits &= bits - 1) {
        const int32_t k = __builtin_ctz(bits), at = 8 * k;
        const int8_t y = mt_requant_s8(mt_add_sat_s32(sums[k], g->bias[k]), g->mult[k],
                                       g->shift[k], g->out_offset, g->act_min, g->act_max);
        v = (v & ~(0xffu << at)) | ((uint32_t)(uint8_t)y << at);
    }
    return v;
}

// The 4 output bytes of the sums a to y. With a clamp narrower than int8, each byte clamped
// after requant4 (the same bytes: the clamp lies inside int8): ssub8 sets a flag per byte,
// sel picks per byte.
MT_DSP_INLINE void store4(int8_t *y, dw_sums4 a, const dw_group *g) {
    uint32_t v = requant4(a, g->rq);
    if (g->exact) {
        v = patch_exact(v, a, g);
    }
    if (g->clamp) {
        uint32_t t;
        __asm__("ssub8   %[t], %[v], %[lo]\n\t"
                "sel     %[v], %[v], %[lo]\n\t"
                "ssub8   %[t], %[v], %[hi]\n\t"
                "sel     %[v], %[hi], %[v]"
                : [v] "+r"(v), [t] "=&r"(t)
                : [lo] "r"(g->lo4), [hi] "r"(g->hi4)
                : "cc");
    }
    __builtin_memcpy(y, &v, 4);  // one str (the M4 allows it unaligned)
}

// An output pixel whose window crosses the left or right edge of the input (columns of
// taps x0 .. x0 + kw - 1; x_rows, w_rows at its first row inside, column 0).
static void edge4(const int8_t *x_rows, const dw_tap4 *w_rows, int32_t rows, int32_t x0,
                  int32_t in_w, int32_t kw, int32_t c, int32_t x_row, int32_t offsets,
                  dw_sums4 a, const dw_group *g, int8_t *y) {
    const int32_t kx0 = x0 < 0 ? -x0 : 0, kx1 = in_w - x0 < kw ? in_w - x0 : kw;
    window4(x_rows + (x0 + kx0) * c, w_rows + kx0, rows, kx1 - kx0, c, x_row, kw, offsets, &a);
    store4(y, a, g);
}

// Whether a channel's sums may start at its bias and go through requant4: |bias| <= 2^29,
// m >= 0, shift in [DW_MIN_SHIFT, -2].
static int folds(int32_t bias, int32_t m, int32_t shift) {
    return bias <= DW_MAX_BIAS && bias >= -DW_MAX_BIAS && m >= 0 && shift <= -2 &&
           shift >= DW_MIN_SHIFT;
}

// The portable path's output byte for the sum s (no clamp narrower than int8: store4 adds it).
static int32_t exact_byte(int32_t s, int32_t bias, int32_t m, int32_t shift, int32_t out_offset) {
    return mt_requant_s8(mt_add_sat_s32(s, bias), m, shift, out_offset, -128, 127);
}

// A channel that does not fold (a network's dead channels: scale near 0, shift -29, bias at the
// int32 limits) whose output, over every sum it can reach (|s| <= a = 255 sum |w|), takes one
// value y0 or steps once, to y0 + 1 at s = t (m >= 0: the output never falls as s grows),
// through requant4 all the same: m = 2^30, e = 22 and the sum started at b >= a give
// floor((2 round + s + b + 1) / 2^23) (requant1's formula, s + b >= 0), which is y0 + [s >= t]
// for 2 round = 2^23 (y0 + 1) - t - b - 1, as |s - t| <= 2a + 1 < 2^23. Returns 0 (q, *start2
// untouched) for other channels.
static int folds_as_step(const int8_t *w, int32_t c, int32_t taps, int32_t bias, int32_t m,
                         int32_t shift, int32_t out_offset, dw_requant *q, int32_t *start2) {
    if (m < 0) {
        return 0;
    }
    int32_t a = 0;
    for (int32_t t = 0; t < taps; t++) {
        a += w[t * c] < 0 ? -w[t * c] : w[t * c];
    }
    a *= 255;  // |x + offset| <= 255
    const int32_t y0 = exact_byte(-a, bias, m, shift, out_offset);
    const int32_t y1 = exact_byte(a, bias, m, shift, out_offset);
    if (y1 - y0 > 1) {
        return 0;
    }
    int32_t t = a + 1;  // no step
    if (y1 != y0) {  // the least s with output y1
        int32_t lo = -a, hi = a;
        while (lo < hi) {
            const int32_t mid = lo + ((hi - lo) >> 1);
            if (exact_byte(mid, bias, m, shift, out_offset) == y1) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        t = lo;
    }
    const int32_t b = a + ((((int32_t)1 << 23) * (y0 + 1) - t - a - 1) & 1);  // 2 round even
    q->m = 1 << 30;
    q->round = (((int32_t)1 << 23) * (y0 + 1) - t - b - 1) / 2;
    q->shift = 22;
    *start2 = 2 * b;
    return 1;
}

// The layer, for group4.
typedef struct {
    int32_t in_h, in_w, c, kh, kw, out_h, out_w, sy, sx, pad_h, pad_w;
    int32_t offsets;  // the input offset in both halfwords
    int32_t out_offset, act_min, act_max;
} dw_geom;

// Channels ch..ch+3 of one image (x_img, y_img at its channel ch; filter, bias, mult, shift at
// channel ch): prepare the group, then every output pixel in raster order.
static void group4(const dw_geom *G, dw_group *g, const int8_t *x_img, const int8_t *filter,
                   const int32_t *bias, const int32_t *mult, const int32_t *shift,
                   int8_t *y_img) {
    // In locals: the asm's memory clobber would reload fields of *G.
    const int32_t c = G->c, kh = G->kh, kw = G->kw, sx = G->sx, in_w = G->in_w;
    const int32_t in_h = G->in_h, out_w = G->out_w, pad_w = G->pad_w;
    const int32_t offsets = G->offsets, x_row = in_w * c;
    for (int32_t t = 0; t < kh * kw; t++) {
        const int32_t v = load_s8x4(filter + t * c);
        const int32_t even = __sxtb16(v), odd = sxtb16_ror8(v);
        g->w[t].even = __sadd16(even, even);  // doubled: the sums come out doubled (requant1)
        g->w[t].odd = __sadd16(odd, odd);
    }
    g->exact = 0;
    int32_t start_sums[4];
    for (int32_t k = 0; k < 4; k++) {
        dw_requant *q = &g->rq[k];
        const int32_t e = -shift[k];
        if (folds(bias[k], mult[k], shift[k])) {
            q->m = mult[k];
            q->round = (int32_t)((1u << (e - 1)) + ((uint32_t)G->out_offset << e));
            q->shift = e;
            start_sums[k] = 2 * bias[k];
        } else if (!folds_as_step(filter + k, c, kh * kw, bias[k], mult[k], shift[k],
                                  G->out_offset, q, &start_sums[k])) {
            // requant4 gives 0 here; patch_exact the byte
            q->m = 0;
            q->round = 0;
            q->shift = 0;
            start_sums[k] = 0;
            g->exact |= 1u << k;
        }
    }
    const dw_sums4 start = {start_sums[0], start_sums[1], start_sums[2], start_sums[3]};
    g->start = start;
    g->skip = x_row - c;
    g->back = sx * c - 2 * x_row - c;
    g->skip_k = x_row - (kw - 1) * c;
    g->clamp = G->act_min != -128 || G->act_max != 127;
    g->lo4 = ((uint32_t)G->act_min & 0xffu) * 0x01010101u;
    g->hi4 = ((uint32_t)G->act_max & 0xffu) * 0x01010101u;
    g->bias = bias;
    g->mult = mult;
    g->shift = shift;
    g->out_offset = G->out_offset;
    g->act_min = G->act_min;
    g->act_max = G->act_max;
    // Output columns [ox_lo, ox_hi) have windows inside the input's columns.
    const int32_t ox_lo = (pad_w + sx - 1) / sx < out_w ? (pad_w + sx - 1) / sx : out_w;
    const int32_t last = in_w - kw + pad_w;  // the last inside window's x0 + pad_w
    int32_t ox_hi = last >= 0 ? last / sx + 1 : 0;
    ox_hi = ox_hi > out_w ? out_w : ox_hi < ox_lo ? ox_lo : ox_hi;
    const int32_t x_step = sx * c;
    int8_t *y = y_img;
    for (int32_t oy = 0; oy < G->out_h; oy++) {
        const int32_t y0 = oy * G->sy - G->pad_h;
        const int32_t ky0 = y0 < 0 ? -y0 : 0, ky1 = in_h - y0 < kh ? in_h - y0 : kh;
        const int32_t rows = ky1 - ky0;
        const int8_t *x_rows = x_img + (y0 + ky0) * x_row;  // window row ky0, input column 0
        const dw_tap4 *w_rows = g->w + ky0 * kw;
        int32_t ox = 0;
        for (; ox < ox_lo; ox++, y += c) {
            edge4(x_rows, w_rows, rows, ox * sx - pad_w, in_w, kw, c, x_row, offsets, start, g,
                  y);
        }
        const int8_t *x = x_rows + (ox * sx - pad_w) * c;
        if (kh == 3 && kw == 3 && rows == 3 && !g->exact && !g->clamp && ox < ox_hi) {
            g->y_end = y + (ox_hi - ox) * c;
            run3x3(g, x, y, c, offsets);
            x += (ox_hi - ox) * x_step;
            y += (ox_hi - ox) * c;
            ox = ox_hi;
        } else if ((kw == 3 || kw == 5 || kw == 7) && rows > 0 && !g->exact && !g->clamp &&
                   ox < ox_hi) {
            g->y_end = y + (ox_hi - ox) * c;
            g->w_begin = w_rows;
            g->w_end = w_rows + rows * kw;
            g->back_k = x_step - rows * x_row;
            if (kw == 3) {
                run_row3(g, x, y, c, offsets);
            } else if (kw == 5) {
                run_row5(g, x, y, c, offsets);
            } else {
                run_row7(g, x, y, c, offsets);
            }
            x += (ox_hi - ox) * x_step;
            y += (ox_hi - ox) * c;
            ox = ox_hi;
        } else if (kh == 3 && kw == 3 && rows == 3) {  // constant counts: straight-line taps
            for (; ox < ox_hi; ox++, x += x_step, y += c) {
                dw_sums4 a = start;
                window3x3(x, w_rows, c, x_row, offsets, &a);
                store4(y, a, g);
            }
        } else {
            for (; ox < ox_hi; ox++, x += x_step, y += c) {
                dw_sums4 a = start;
                window4(x, w_rows, rows, kw, c, x_row, kw, offsets, &a);
                store4(y, a, g);
            }
        }
        for (; ox < out_w; ox++, y += c) {
            edge4(x_rows, w_rows, rows, ox * sx - pad_w, in_w, kw, c, x_row, offsets, start, g,
                  y);
        }
    }
}

int32_t mt_dwconv2d_s8_fwd_dsp(const mt_conv_params *params, const mt_quant_params *quant,
                               const mt_dims *input_dims, const int8_t *input,
                               const mt_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const mt_dims *output_dims, int8_t *output) {
    const int32_t c = input_dims->c, groups_end = c & ~3;
    if (groups_end == 0 || (int64_t)filter_dims->h * filter_dims->w > DW_MAX_TAPS) {
        return 0;
    }
    const mt_act_params *act = &params->act;
    const dw_geom G = {input_dims->h, input_dims->w, c, filter_dims->h, filter_dims->w,
                       output_dims->h, output_dims->w, params->stride_h, params->stride_w,
                       params->pad_h, params->pad_w,
                       (int32_t)(((uint32_t)act->input_offset & 0xffffu) * 0x00010001u),
                       act->output_offset, act->act_min, act->act_max};
    dw_group g;
    const int32_t in_image = G.in_h * G.in_w * c, out_image = G.out_h * G.out_w * c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        for (int32_t ch = 0; ch < groups_end; ch += 4) {
            group4(&G, &g, input + b * in_image + ch, filter + ch, bias + ch,
                   quant->multiplier + ch, quant->shift + ch, output + b * out_image + ch);
        }
    }
    return groups_end;
}
#endif
