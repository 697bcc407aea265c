// SPDX-License-Identifier: MIT
// The Cortex-M4 path of mt_dwconv2d_q8_grad_in: a phase column by column through tables of
// sign-extended weights, the tap loop in asm (same bytes as the general loop).
#include "mt_dwconv2d_q8_grad_in_phase.h"

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"

// The DSP path walks the phase column by column (one mx, so one set of x taps): a table holds
// the column's taps of a 4-channel group, row-major, each with its weights sign-extended
// (channels 0 and 2, 1 and 3 as int16 pairs) and the offset of its q from the q of the row's
// first tap in row 0. A pixel's taps are then a run of rows of the table, walked flat.

typedef struct {
    int32_t off, w02, w13;
} dw_tap;

// The same int8 as mt_grad_put (the destination is int8 here), as sign and magnitude: float
// addition rounds to nearest even, which is odd-symmetric, so t + (t >= 0 ? 0.5 : -0.5) is
// +-(|t| + 0.5), and the truncation and the clamp to +-127 are odd-symmetric too. NaN: 0 both
// ways (vcvt gives 0); -0.0: 0; +-inf and |t| >= 2^31: vcvt saturates, then +-127.
static inline void store_q8(int8_t *dst, float v, float inv) {
    const float t = v * inv;
    int32_t sign;
    __builtin_memcpy(&sign, &t, 4);
    sign >>= 31;  // 0 or -1
    const int32_t m = (int32_t)__usat((int32_t)(__builtin_fabsf(t) + 0.5f), 7);
    *dst = (int8_t)((m ^ sign) - sign);
}

// max(m, |acc|) for m >= 0, |acc| <= 2^31 - 1 (kh * kw is bounded): |acc| as (acc ^ s) - s with
// s = acc >> 31 (2 instructions, where gcc's cmp, it, neg takes 3).
static inline int32_t abs_max(int32_t m, int32_t acc) {
    int32_t a;
    __asm__("eor %[a], %[acc], %[acc], asr #31\n"
            "   sub %[a], %[a], %[acc], asr #31\n"
            "   cmp %[m], %[a]\n"
            "   it lt\n"
            "   movlt %[m], %[a]\n"
            : [m] "+r"(m), [a] "=&r"(a)
            : [acc] "r"(acc)
            : "cc");
    return m;
}

// The table of x taps [b0, b0 + cols) of the phase (all its y taps).
static void table_build(const dw_phase *ph, dw_tap *e, int32_t b0, int32_t cols) {
    const dw_ctx *x = ph->x;
    const int32_t c = x->in->c, kw = x->filter->w, q_row = x->out->w * c;
    const int32_t sh = x->params->stride_h, sw = x->params->stride_w;
    for (int32_t a = 0; a < ph->ay.taps; a++) {
        for (int32_t b = 0; b < cols; b++, e++) {
            const int32_t ky = ph->ay.phase + a * sh, kx = ph->ax.phase + (b0 + b) * sw;
            const int32_t wv = load_s8x4(x->w + (ky * kw + kx) * c + ph->g->ch);
            e->off = -(a * q_row + b * c);
            e->w02 = __sxtb16(wv);
            e->w13 = sxtb16_ror8(wv);
        }
    }
}

// The sums of the taps [e, end) from base (the address of table offset 0), e != end: the first
// tap multiplies (smulxy) rather than adding to zeros, the others accumulate.
static inline void sums4_flat(uintptr_t base, const dw_tap *e, const dw_tap *end, int32_t s[4]) {
    int32_t s0, s1, s2, s3, q02;
    __asm__("   ldmia %[e]!, {r4, r5, r6}\n"
            "   ldr r4, [%[b], r4]\n"
            "   sxtb16 %[q02], r4\n"
            "   sxtb16 r4, r4, ror #8\n"
            "   smulbb %[s0], %[q02], r5\n"
            "   smultt %[s2], %[q02], r5\n"
            "   smulbb %[s1], r4, r6\n"
            "   smultt %[s3], r4, r6\n"
            "   cmp %[e], %[end]\n"
            "   beq 2f\n"
            "1: ldmia %[e]!, {r4, r5, r6}\n"
            "   ldr r4, [%[b], r4]\n"
            "   sxtb16 %[q02], r4\n"
            "   sxtb16 r4, r4, ror #8\n"
            "   smlabb %[s0], %[q02], r5, %[s0]\n"
            "   smlatt %[s2], %[q02], r5, %[s2]\n"
            "   smlabb %[s1], r4, r6, %[s1]\n"
            "   smlatt %[s3], r4, r6, %[s3]\n"
            "   cmp %[e], %[end]\n"
            "   bne 1b\n"
            "2:\n"
            : [e] "+r"(e), [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3),
              [q02] "=&r"(q02)
            : [b] "r"(base), [end] "r"(end)
            : "r4", "r5", "r6", "cc", "memory");
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}

// One column: where its pixels' taps start, and what the row loop needs (copied once, so the
// int8 stores of the output do not make the compiler reload them).
typedef struct {
    const dw_tap *tab;
    int32_t cols;      // x taps per table row
    const int8_t *q;   // image 0, output row 0, the column's first x tap, channel ch
    int32_t i;         // image 0, row sy.i0, the column's element of channel ch
    dw_axis ay;
    dw_span sy;
    int32_t n, q_row, q_image, i_row, i_image;
} dw_column;

// The taps of the pixel of row my of image n: its run of table rows [e, *end) and base, the
// address of table offset 0. Rows past an edge drop out; base is computed as an integer, since
// it lies outside grad_out then (only the taps' own addresses are inside).
static inline const dw_tap *pixel_taps(const dw_column *col, int32_t n, int32_t my,
                                       uintptr_t *base, const dw_tap **end) {
    const dw_run ry = run_at(&col->ay, my);
    const int32_t first = ry.count > 0 ? ry.first : 0, count = ry.count > 0 ? ry.count : 0;
    *base = (uintptr_t)col->q + (uintptr_t)(n * col->q_image + my * col->q_row);
    *end = col->tab + (first + count) * col->cols;
    return col->tab + first * col->cols;
}

// The rows [lo, hi) (as y) of the column whose pixels have every y tap: my in
// [taps - 1, out_h - 1].
static inline int32_t full_lo(const dw_column *col) {
    const int32_t y = col->ay.taps - 1 - col->sy.m0;
    return y < 0 ? 0 : (y > col->sy.count ? col->sy.count : y);
}

static inline int32_t full_hi(const dw_column *col, int32_t lo) {
    const int32_t y = col->ay.size_out - col->sy.m0;
    return y < lo ? lo : (y > col->sy.count ? col->sy.count : y);
}

// What the values need, copied once.
typedef struct {
    float c[4], old_scale, inv;
    int accumulate, store;  // store: pass 1, else pass 0 with accumulate (amax)
} dw_put;

// `count` pixels with the same taps, the table entries [tab, end) (not empty: see taps_run):
// base moves by step from one to the next. Pass 0 without accumulate: max |acc| per channel into m. These run functions are
// kept out of line: in a small function gcc keeps the tap loop's values in registers.
__attribute__((noinline)) static void full_max(const dw_tap *tab, const dw_tap *end,
                                               uintptr_t base, int32_t step, int32_t count,
                                               int32_t m[4]) {
    int32_t m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3];
    for (int32_t k = 0; k < count; k++, base += (uintptr_t)step) {
        int32_t s[4];
        sums4_flat(base, tab, end, s);
        m0 = abs_max(m0, s[0]);
        m1 = abs_max(m1, s[1]);
        m2 = abs_max(m2, s[2]);
        m3 = abs_max(m3, s[3]);
    }
    m[0] = m0;
    m[1] = m1;
    m[2] = m2;
    m[3] = m3;
}

// The same through the values (output dst moving by dst_step); returns the running amax.
// accumulate and store are constants in each caller below, and the values are copied out of
// *p so the int8 stores do not make the compiler reload them. taps = 0: no taps, the sums 0.
MT_DSP_INLINE float full_put_body(const dw_tap *tab, const dw_tap *end, uintptr_t base,
                                  int32_t step, int32_t count, int8_t *dst, int32_t dst_step,
                                  const dw_put *p, float amax, int accumulate, int store,
                                  int taps) {
    const float c0 = p->c[0], c1 = p->c[1], c2 = p->c[2], c3 = p->c[3];
    const float old_scale = p->old_scale, inv = p->inv;
    for (int32_t k = 0; k < count; k++, base += (uintptr_t)step, dst += dst_step) {
        int32_t s[4] = {0, 0, 0, 0};
        if (taps) {
            sums4_flat(base, tab, end, s);
        }
        float v0 = (float)s[0] * c0, v1 = (float)s[1] * c1;
        float v2 = (float)s[2] * c2, v3 = (float)s[3] * c3;
        if (accumulate) {
            v0 = old_scale * (float)dst[0] + v0;
            v1 = old_scale * (float)dst[1] + v1;
            v2 = old_scale * (float)dst[2] + v2;
            v3 = old_scale * (float)dst[3] + v3;
        }
        if (store) {
            store_q8(dst, v0, inv);
            store_q8(dst + 1, v1, inv);
            store_q8(dst + 2, v2, inv);
            store_q8(dst + 3, v3, inv);
        } else {
            amax = mt_abs_max(amax, v0);
            amax = mt_abs_max(amax, v1);
            amax = mt_abs_max(amax, v2);
            amax = mt_abs_max(amax, v3);
        }
    }
    return amax;
}

__attribute__((noinline)) static float full_store(const dw_tap *tab, const dw_tap *end,
                                                  uintptr_t base, int32_t step, int32_t count,
                                                  int8_t *dst, int32_t dst_step,
                                                  const dw_put *p) {
    return full_put_body(tab, end, base, step, count, dst, dst_step, p, 0.0f, 0, 1, 1);
}

__attribute__((noinline)) static float full_store_acc(const dw_tap *tab, const dw_tap *end,
                                                      uintptr_t base, int32_t step,
                                                      int32_t count, int8_t *dst,
                                                      int32_t dst_step, const dw_put *p) {
    return full_put_body(tab, end, base, step, count, dst, dst_step, p, 0.0f, 1, 1, 1);
}

__attribute__((noinline)) static float full_amax_acc(const dw_tap *tab, const dw_tap *end,
                                                     uintptr_t base, int32_t step,
                                                     int32_t count, int8_t *dst,
                                                     int32_t dst_step, const dw_put *p,
                                                     float amax) {
    return full_put_body(tab, end, base, step, count, dst, dst_step, p, amax, 1, 0, 1);
}

// Pixels with no taps (rare: an edge row or column, or a phase past the kernel).
__attribute__((noinline)) static float zero_put(int32_t count, int8_t *dst, int32_t dst_step,
                                                const dw_put *p, float amax) {
    return full_put_body(0, 0, 0, 0, count, dst, dst_step, p, amax, p->accumulate, p->store, 0);
}

static float full_put(const dw_tap *tab, const dw_tap *end, uintptr_t base, int32_t step,
                      int32_t count, int8_t *dst, int32_t dst_step, const dw_put *p,
                      float amax) {
    if (!p->store) {  // pass 0 with accumulate (without: full_max)
        return full_amax_acc(tab, end, base, step, count, dst, dst_step, p, amax);
    }
    if (p->accumulate) {
        full_store_acc(tab, end, base, step, count, dst, dst_step, p);
    } else {
        full_store(tab, end, base, step, count, dst, dst_step, p);
    }
    return amax;
}

// `count` pixels with the taps [e, end): base moves by step, the output by dst_step.
static void taps_run(dw_group *g, dw_out *o, const dw_put *p, const dw_tap *e, const dw_tap *end,
                     uintptr_t base, int32_t step, int32_t count, int8_t *dst, int32_t dst_step) {
    if (e == end) {  // the sums are 0: max |acc| stays
        if (!o->by_max) {
            o->amax = zero_put(count, dst, dst_step, p, o->amax);
        }
    } else if (o->by_max) {
        full_max(e, end, base, step, count, g->max_acc);
    } else {
        o->amax = full_put(e, end, base, step, count, dst, dst_step, p, o->amax);
    }
}

// One column, image n: the rows with every y tap in one run; the others one by one when
// partial_rows (else phase_tab runs them along the row).
static void column_image(const dw_column *col, dw_group *g, dw_out *o, const dw_put *p,
                         int32_t n, int partial_rows) {
    const int32_t lo = full_lo(col), hi = full_hi(col, lo);
    int8_t *const dst = o->dst->q + col->i + n * col->i_image;
    if (lo < hi) {
        const uintptr_t base = (uintptr_t)col->q +
                               (uintptr_t)(n * col->q_image + (col->sy.m0 + lo) * col->q_row);
        taps_run(g, o, p, col->tab, col->tab + col->ay.taps * col->cols, base, col->q_row,
                 hi - lo, dst + lo * col->i_row, col->i_row);
    }
    for (int32_t y = 0; partial_rows && y < col->sy.count; y++) {
        if (y == lo && lo < hi) {
            y = hi - 1;
            continue;
        }
        uintptr_t base;
        const dw_tap *end, *e = pixel_taps(col, n, col->sy.m0 + y, &base, &end);
        taps_run(g, o, p, e, end, base, col->q_row, 1, dst + y * col->i_row, col->i_row);
    }
}

// The phase with tables: first the columns missing some x taps (a table each, all their rows),
// then the columns with every x tap (one table): their rows with every y tap column by column,
// the other rows each in one run along the row.
void mt_dw_q8_phase_tab(const dw_phase *ph, dw_span sy, dw_span sx) {
    const dw_ctx *x = ph->x;
    const mt_dims *in = x->in;
    const int32_t c = in->c, sw = x->params->stride_w, q_row = x->out->w * c;
    dw_tap tab[DW_TAB_TAPS];
    dw_group *g = ph->g;
    const dw_put p = {{g->c[0], g->c[1], g->c[2], g->c[3]}, ph->o->old_scale, ph->o->inv,
                      ph->o->accumulate != 0, ph->o->pass == 1};
    int32_t k_lo = sx.count, k_hi = 0;  // the columns with every x tap: [k_lo, k_hi)
    dw_column col = {tab, 0, 0, 0, ph->ay, sy, in->n, q_row, x->out->h * q_row,
                     x->params->stride_h * in->w * c, in->h * in->w * c};
    for (int full = 0; full < 2; full++) {
        if (full) {
            table_build(ph, tab, 0, ph->ax.taps);
        }
        for (int32_t k = 0; k < sx.count; k++) {
            const int32_t mx = sx.m0 + k, ix = sx.i0 + k * sw;
            const dw_run rx = run_at(&ph->ax, mx);
            const int32_t cols = rx.count > 0 ? rx.count : 0;
            if ((cols == ph->ax.taps && rx.first == 0) != full) {
                continue;
            }
            if (full) {
                k_lo = k < k_lo ? k : k_lo;
                k_hi = k + 1;
            } else {
                table_build(ph, tab, rx.first, cols);
            }
            col.cols = cols;
            col.q = x->q + (mx - rx.first) * c + g->ch;
            col.i = (sy.i0 * in->w + ix) * c + g->ch;
            for (int32_t n = 0; n < in->n; n++) {
                column_image(&col, g, ph->o, &p, n, !full);
            }
        }
    }
    if (k_lo >= k_hi) {
        return;
    }
    // The rows missing some y taps, over the columns [k_lo, k_hi) (col.cols: every x tap).
    col.q = x->q + (sx.m0 + k_lo) * c + g->ch;
    col.i = (sy.i0 * in->w + sx.i0 + k_lo * sw) * c + g->ch;
    const int32_t lo = full_lo(&col), hi = full_hi(&col, lo);
    for (int32_t n = 0; n < in->n; n++) {
        for (int32_t y = 0; y < sy.count; y++) {
            if (y >= lo && y < hi) {
                continue;
            }
            uintptr_t base;
            const dw_tap *end, *e = pixel_taps(&col, n, sy.m0 + y, &base, &end);
            taps_run(g, ph->o, &p, e, end, base, c, k_hi - k_lo,
                     ph->o->dst->q + col.i + n * col.i_image + y * col.i_row, c * sw);
        }
    }
}
#else
typedef int mt_dwconv2d_q8_grad_in_m4_unused;  // ISO C: a translation unit is never empty
#endif
