// SPDX-License-Identifier: MIT
#include "mt_conv_q8_grad_in.h"

#include "mt_grad_sink.h"
#include "mt_pwconv2d_s8_fwd.h"
#include "mt_pwconv2d_split_s8_fwd.h"
#include "mt_x64.h"
#include "mt_xtensa.h"

// Scratch sizes are counted in 4-byte words below this.
#define MT_SCRATCH_WORDS_MAX (INT32_MAX / 4)

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"
#endif

// The hand-written inner steps: Thumb-2 only (A32 ldrd wants an even/odd register pair).
#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
#define MT_Q8_GIN_ASM 1
#else
#define MT_Q8_GIN_ASM 0
#endif

// ---- the inner sums -------------------------------------------------------------------------

#if defined(__ARM_FEATURE_DSP)
// {lo: a.lo, hi: b.lo} and {lo: a.hi, hi: b.hi}: on two rows' weight words (bytes a0..a3,
// b0..b3) they give bytes {a0, a1, b0, b1} and {a2, a3, b2, b3}, which sxtb16 (and its ror #8
// form) turn into the smlad pairs {a0, b0}, {a1, b1} and {a2, b2}, {a3, b3}.
static inline int32_t pack_lo(int32_t a, int32_t b) {
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

static inline int32_t pack_hi(int32_t a, int32_t b) {
    int32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(b), "r"(a));
    return r;
}

static inline int32_t load_s16x2(const int16_t *p) {
    int32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

// s[0..4) += q2.lo * w[0..4) + q2.hi * w[w_stride + 0..4): two output channels' rows.
static inline void row_pair_sums4(int32_t q2, const int8_t *w, int32_t w_stride, int32_t s[4]) {
    const int32_t a = load_s8x4(w), b = load_s8x4(w + w_stride);
    const int32_t ab01 = pack_lo(a, b), ab23 = pack_hi(a, b);
    s[0] = __smlad(__sxtb16(ab01), q2, s[0]);
    s[1] = __smlad(sxtb16_ror8(ab01), q2, s[1]);
    s[2] = __smlad(__sxtb16(ab23), q2, s[2]);
    s[3] = __smlad(sxtb16_ror8(ab23), q2, s[3]);
}
#endif

#if MT_Q8_GIN_ASM
// One row pair of quad_rows_sums4's step: rows a = [w], b = [w + w_stride], then w moves on two
// rows; %[q] holds the pair's (qm[o], qm[o+1]).
#define MT_ROW_PAIR_ASM(q)                          \
    "ldr     %[b], [%[w], %[ws]]\n\t"               \
    "ldr     %[a], [%[w]]\n\t"                      \
    "add     %[w], %[w], %[ws], lsl #1\n\t"         \
    "pkhbt   %[t], %[a], %[b], lsl #16\n\t"         \
    "pkhtb   %[b], %[b], %[a], asr #16\n\t"         \
    "sxtb16  %[a], %[t]\n\t"                        \
    "smlad   %[s0], %[a], " q ", %[s0]\n\t"         \
    "sxtb16  %[a], %[t], ror #8\n\t"                \
    "smlad   %[s1], %[a], " q ", %[s1]\n\t"         \
    "sxtb16  %[a], %[b]\n\t"                        \
    "smlad   %[s2], %[a], " q ", %[s2]\n\t"         \
    "sxtb16  %[b], %[b], ror #8\n\t"                \
    "smlad   %[s3], %[b], " q ", %[s3]\n\t"

// Four rows: one ldrd reads their four qm (4-byte aligned), then two row pairs.
#define MT_QUAD_ROWS_ASM                          \
    "ldrd    %[q01], %[q23], [%[qm]], #8\n\t"     \
    MT_ROW_PAIR_ASM("%[q01]") MT_ROW_PAIR_ASM("%[q23]")

#define MT_QUAD_ROWS_OPERANDS                                                                   \
    : [qm] "+r"(qm), [w] "+r"(w), [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3),   \
      [q01] "=&r"(q01), [q23] "=&r"(q23), [a] "=&r"(a), [b] "=&r"(b), [t] "=&r"(t)              \
    : [ws] "r"(w_stride)                                                                        \
    : "memory"

// s[0..4) += the first `rows` rows (a multiple of 4) of qm and w, eight then four at a time, one
// asm block a step: in C gcc runs out of registers (13 are live) and keeps two rows a step, 16
// instructions per 8 MACs; here 56 per 32.
MT_DSP_INLINE void quad_rows_sums4(const int16_t *qm, int32_t rows, const int8_t *w,
                                   int32_t w_stride, int32_t s[4]) {
    int32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], q01, q23, a, b, t;
    for (const int16_t *end = qm + (rows & ~7); qm != end;) {
        __asm__(MT_QUAD_ROWS_ASM MT_QUAD_ROWS_ASM MT_QUAD_ROWS_OPERANDS);
    }
    if (rows & 4) {
        __asm__(MT_QUAD_ROWS_ASM MT_QUAD_ROWS_OPERANDS);
    }
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
}
#endif

// s[0..4) += sum over o of qm[o] * w[o * w_stride + 0..4): four input channels of one tap.
static inline void tap_sums4(const int16_t *qm, const int8_t *w, int32_t w_stride,
                             int32_t c_out, int32_t s[4]) {
    int32_t o = 0;
#if defined(__ARM_FEATURE_DSP)
    // smlad pairs (qm[o], qm[o+1]) with (w[o,i], w[o+1,i]): four rows a step in asm, then
    // a last pair in C.
#if MT_Q8_GIN_ASM
    o = c_out & ~3;
    quad_rows_sums4(qm, o, w, w_stride, s);
    w += o * w_stride;
#endif
    for (; o + 1 < c_out; o += 2, w += 2 * w_stride) {
        row_pair_sums4(load_s16x2(qm + o), w, w_stride, s);
    }
#endif
    for (; o < c_out; o++, w += w_stride) {
        const int32_t q = qm[o];
        s[0] += q * w[0];
        s[1] += q * w[1];
        s[2] += q * w[2];
        s[3] += q * w[3];
    }
}

// sum over o of qm[o] * w[o * w_stride]: one input channel of one tap.
static inline int32_t tap_sum1(const int16_t *qm, const int8_t *w, int32_t w_stride,
                               int32_t c_out) {
    int32_t s = 0;
    for (int32_t o = 0; o < c_out; o++, w += w_stride) {
        s += qm[o] * *w;
    }
    return s;
}

// ---- conv2d / pwconv2d / fc -----------------------------------------------------------------

typedef struct {
    const mt_conv_params *params;
    const mt_dims *in, *filter, *out;
    const int8_t *w, *q;
    const int16_t *m;  // m[c_out]
    int16_t *qm;       // q * m of one output pixel [c_out]
    int32_t *acc;      // one sum per input channel (kh * kw > 1 only)
    float c;
    // A layer learning k input channels (mt_pwconv2d_split_q8_grad_in): column channels[j] of
    // the filter is learned[. * k + j]; NULL otherwise.
    const int8_t *learned;
    const int32_t *channels;
    int32_t k;
} conv_ctx;

mt_status mt_conv_q8_grad_in_scratch(const mt_dims *filter_dims, int32_t *bytes) {
    const int32_t c_out = filter_dims->n, c_in = filter_dims->c;
    const int multi_tap = filter_dims->h * filter_dims->w > 1;
    if (c_out >= MT_SCRATCH_WORDS_MAX || c_in > MT_SCRATCH_WORDS_MAX - 1 - c_out) {
        return MT_ERR_SHAPE;
    }
    *bytes = 4 * (c_out + (c_out & 1)) + (multi_tap ? 4 * c_in : 0);
    return MT_OK;
}

static void fill_qm(int16_t *qm, const int8_t *q, const int16_t *m, int32_t c_out) {
    for (int32_t o = 0; o < c_out; o++) {
        qm[o] = (int16_t)(q[o] * m[o]);  // -128 * 256 .. 127 * 256: fits
    }
}

#if MT_X64
// tap_run with the x64 tap sums (mt_x64.h), a block of input channels at a time.
static void tap_run_x64(const conv_ctx *x, const int8_t *w, int32_t w_stride, int32_t c_in,
                        int32_t *acc, sink *out) {
    const int32_t c_out = x->out->c;
    const float c = x->c;
    sink o = *out;
    for (int32_t i = 0; i < c_in; i += MT_X64_TAP_BLOCK) {
        const int32_t n = c_in - i < MT_X64_TAP_BLOCK ? c_in - i : MT_X64_TAP_BLOCK;
        if (acc) {
            mt_conv_q8_tap_sums_x64(x->qm, w + i, w_stride, c_out, n, acc + i);
            continue;
        }
        int32_t s[MT_X64_TAP_BLOCK];
        for (int32_t j = 0; j < n; j++) {
            s[j] = 0;
        }
        mt_conv_q8_tap_sums_x64(x->qm, w + i, w_stride, c_out, n, s);
        if (o.by_sum) {
            o.max_sum = mt_x64_sums_abs_max(s, n, o.max_sum);
            o.i += n;
        } else if (o.pass == 1 && !o.accumulate && !o.dst->f) {
            mt_x64_sums_q8_store(s, n, c, o.inv, o.dst->q + o.i);
            o.i += n;
        } else {
            for (int32_t j = 0; j < n; j++) {
                sink_put(&o, s[j], c);
            }
        }
    }
    *out = o;
}
#endif

// The sums of c_in consecutive input channels of one tap, column i at w + i, its rows
// w_stride apart: added to acc[] (multi-tap) or put out in channel order.
// (The context's fields and the sink are copied into locals: every int8 store of the output may
// alias them, and gcc would reload them after each.)
static void tap_run(const conv_ctx *x, const int8_t *w, int32_t w_stride, int32_t c_in,
                    int32_t *acc, sink *out) {
#if MT_X64
    if (mt_x64_level() != MT_X64_PORTABLE) {
        tap_run_x64(x, w, w_stride, c_in, acc, out);
        return;
    }
#endif
    const int32_t c_out = x->out->c;
    const int16_t *const qm = x->qm;
    const float c = x->c;
    sink o = *out;
    int32_t i = 0;
#if MT_XTENSA_MAC16
    // ESP32 / ESP32-S3: each input channel's sum by MAC16 down the filter column, four output
    // channels a step; the last 1..3 in C. (qm's scratch words continue past it with m: the
    // read-ahead word is there.)
    for (const int32_t quads = c_out / 4; i < c_in; i++) {
        int32_t s = mt_xt_dot_s16_s8_strided(qm, w + i, w_stride, quads);
        for (int32_t oc = 4 * quads; oc < c_out; oc++) {
            s += qm[oc] * w[oc * w_stride + i];
        }
        if (acc) {
            acc[i] += s;
        } else {
            sink_put(&o, s, c);
        }
    }
#endif
    for (; i + 3 < c_in; i += 4) {
        int32_t s[4] = {0, 0, 0, 0};
        if (acc) {
            s[0] = acc[i], s[1] = acc[i + 1], s[2] = acc[i + 2], s[3] = acc[i + 3];
        }
        tap_sums4(qm, w + i, w_stride, c_out, s);
        if (acc) {
            acc[i] = s[0], acc[i + 1] = s[1], acc[i + 2] = s[2], acc[i + 3] = s[3];
        } else {
            sink_put(&o, s[0], c);
            sink_put(&o, s[1], c);
            sink_put(&o, s[2], c);
            sink_put(&o, s[3], c);
        }
    }
    for (; i < c_in; i++) {
        const int32_t s = tap_sum1(qm, w + i, w_stride, c_out);
        if (acc) {
            acc[i] += s;
        } else {
            sink_put(&o, s, c);
        }
    }
    *out = o;
}

// One tap of the filter, every input channel.
static void conv_tap(const conv_ctx *x, const int8_t *w, int32_t *acc, sink *out) {
    const int32_t c_in = x->in->c;
    tap_run(x, w, x->filter->h * x->filter->w * c_in, c_in, acc, out);
}

// The one tap of a split pointwise layer, put out in channel order: runs of frozen columns from
// the filter, runs of consecutive learned channels from the learned columns (each input
// channel's sum reads only its own column, so these are the merged filter's sums).
static void split_tap(const conv_ctx *x, sink *out) {
    const int32_t c_in = x->in->c, k = x->k;
    const int32_t *ch = x->channels;
    int32_t at = 0;  // the next input channel to put out
    for (int32_t j = 0; j < k;) {
        const int32_t first = ch ? ch[j] : j;
        int32_t run = 1;
        while (j + run < k && (ch ? ch[j + run] : j + run) == first + run) {
            run++;
        }
        if (first > at) {
            tap_run(x, x->w + at, c_in, first - at, 0, out);
        }
        tap_run(x, x->learned + j, k, run, 0, out);
        at = first + run;
        j += run;
    }
    if (at < c_in) {
        tap_run(x, x->w + at, c_in, c_in - at, 0, out);
    }
}

// Input pixel (n, iy, ix): tap ky reaches output row oy = (ty - ky) / sh when ty - ky >= 0 is a
// multiple of sh and oy < out->h, so only ky = ty % sh, + sh, ... with oy = ty / sh, - 1, ...
// Kept out of line: inlined into the pass loop its registers spill (3x3, fc: 2x slower).
__attribute__((noinline)) static void conv_pixel(const conv_ctx *x, int32_t n, int32_t iy,
                                                 int32_t ix, sink *out) {
    const mt_dims *o = x->out;
    const int32_t kh = x->filter->h, kw = x->filter->w, c_in = x->in->c;
    const int32_t sh = x->params->stride_h, sw = x->params->stride_w;
    const int32_t ty = iy + x->params->pad_h, tx = ix + x->params->pad_w;
    int32_t *acc = x->acc;
    int any = 0;
    if (acc) {
        for (int32_t i = 0; i < c_in; i++) {
            acc[i] = 0;
        }
    }
    for (int32_t ky = ty % sh, oy = ty / sh; ky < kh && oy >= 0; ky += sh, oy--) {
        if (oy >= o->h) {
            continue;
        }
        for (int32_t kx = tx % sw, ox = tx / sw; kx < kw && ox >= 0; kx += sw, ox--) {
            if (ox >= o->w) {
                continue;
            }
            fill_qm(x->qm, x->q + ((n * o->h + oy) * o->w + ox) * o->c, x->m, o->c);
            if (x->learned) {  // pointwise: this is the pixel's one tap
                split_tap(x, out);
            } else {
                conv_tap(x, x->w + (ky * kw + kx) * c_in, acc, out);
            }
            any = 1;
        }
    }
    if (acc || !any) {  // multi-tap sums, or a pixel no tap reaches (all zero)
        const float c = x->c;
        sink s = *out;  // in a local: the int8 stores may alias it
        for (int32_t i = 0; i < c_in; i++) {
            sink_put(&s, acc ? acc[i] : 0, c);
        }
        *out = s;
    }
}

// The checks on the scales, then m[] and c. MT_ERR_PARAM for a scale <= 0, NaN, infinite or so
// small that M / s_max overflows; MT_ERR_SHAPE when no M >= 1 keeps the sums in an int32.
static mt_status multipliers(const float *s_w, int32_t c_out, int32_t terms, float s_g,
                             int16_t *m, float *c) {
    const int32_t big_m = mt_channel_multiplier(terms);
    if (big_m < 1) {
        return MT_ERR_SHAPE;
    }
    float s_max = 0.0f;
    for (int32_t o = 0; o < c_out; o++) {
        if (!(s_w[o] > 0.0f && s_w[o] <= 3.40282347e38f)) {
            return MT_ERR_PARAM;
        }
        s_max = s_w[o] > s_max ? s_w[o] : s_max;
    }
    const float f = (float)big_m / s_max;
    if (!(f <= 3.40282347e38f)) {
        return MT_ERR_PARAM;
    }
    for (int32_t o = 0; o < c_out; o++) {
        m[o] = (int16_t)(int32_t)(s_w[o] * f + 0.5f);  // in [0, M]
    }
    *c = s_g * (s_max / (float)big_m);
    return MT_OK;
}

#if defined(__ARM_FEATURE_DSP)
// A 1x1 stride-1 unpadded conv (pwconv2d, fc with a batch) maps input pixel p to output pixel
// p. With MT_BLOCK_PIXELS_MIN or more pixels, the weights of four input channels are unpacked
// into int16 m[o] * W[o, i] (exact: |m W| <= 256 * 128 fits) and used for every pixel; q is
// then read as is, four int8 at a time. That block lives on the stack, for a chunk of this many
// output channels at a time (8 bytes each):
#define MT_BLOCK_CHUNK 128
// With more output channels, a pixel's sums over the chunks before the last wait in the
// scratch's q*m words (this mode has no use for them): 4 * (c_out + c_out % 2) / 2 bytes, four
// int32 a pixel, so (c_out + c_out % 2) / 8 >= 16 pixels a group; each group unpacks again.
// Unpacking costs about 3 instructions per weight and the sums 1 per MAC (two passes each):
// from this many pixels it beats the tap path's 1.75 per MAC.
#define MT_BLOCK_PIXELS_MIN 8
// Up to this many output channels, blocks of eight input channels (16 bytes per channel).
#define MT_BLOCK8_C_OUT_MAX 64

static int block_mode_fits(const conv_ctx *x) {
    const mt_conv_params *p = x->params;
    return x->filter->h == 1 && x->filter->w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
           p->pad_h == 0 && p->pad_w == 0 &&
           x->in->n * x->in->h * x->in->w >= MT_BLOCK_PIXELS_MIN;
}

static inline int32_t pack_s16x2(int32_t lo, int32_t hi) {
    return (int32_t)((uint32_t)(uint16_t)lo | ((uint32_t)hi << 16));
}

// Column i of the (1x1) filter as the kernel sees it: the frozen filter's, or for a split
// layer the learned one that replaces it; its elements are *stride apart.
static const int8_t *filter_column(const conv_ctx *x, int32_t i, int32_t *stride) {
    if (x->learned) {
        int32_t j = i;  // no list: the first k are learned
        if (x->channels) {  // the first j with channels[j] >= i (the list is increasing)
            int32_t hi = x->k;
            j = 0;
            while (j < hi) {
                const int32_t mid = j + (hi - j) / 2;
                if (x->channels[mid] < i) {
                    j = mid + 1;
                } else {
                    hi = mid;
                }
            }
        }
        if (j < x->k && (x->channels ? x->channels[j] : j) == i) {
            *stride = x->k;
            return x->learned + j;
        }
    }
    *stride = x->in->c;
    return x->w + i;
}

// m[o] * W[o, i] of a column (NULL: past c_in) as an int32, 0 past c_out.
static inline int32_t scaled_weight(const conv_ctx *x, int32_t o, const int8_t *col,
                                    int32_t stride) {
    return o < x->out->c && col ? x->m[o] * col[o * stride] : 0;
}

#if MT_Q8_GIN_ASM
// One group of fill_column: rows a, b, c, d of column w -> {m0 a, m2 c}, {m1 b, m3 d} at dst,
// which moves on `step` bytes (the group's words: 32 or 64).
#define MT_FILL_GROUP_ASM(step)                     \
    "ldrd    %[m01], %[m23], [%[m]], #8\n\t"        \
    "ldrsb   %[a], [%[w]]\n\t"                      \
    "ldrsb   %[b], [%[w], %[st], lsl #1]\n\t"       \
    "smulbb  %[a], %[a], %[m01]\n\t"                \
    "smulbb  %[b], %[b], %[m23]\n\t"                \
    "pkhbt   %[a], %[a], %[b], lsl #16\n\t"         \
    "ldrsb   %[b], [%[w], %[st]]\n\t"               \
    "ldrsb   %[t], [%[w], %[st3]]\n\t"              \
    "add     %[w], %[w], %[st], lsl #2\n\t"         \
    "smulbt  %[b], %[b], %[m01]\n\t"                \
    "smulbt  %[t], %[t], %[m23]\n\t"                \
    "pkhbt   %[b], %[b], %[t], lsl #16\n\t"         \
    "strd    %[a], %[b], [%[dst]], #" step "\n\t"

#define MT_FILL_OPERANDS                                                                        \
    : [m] "+r"(m), [w] "+r"(w), [dst] "+r"(dst), [m01] "=&r"(m01), [m23] "=&r"(m23),           \
      [a] "=&r"(a), [b] "=&r"(b), [t] "=&r"(t)                                                  \
    : [st] "r"(st), [st3] "r"(st3)                                                              \
    : "memory"
#endif

// fill_block's words of one column w (rows st apart) for `rows` (a multiple of 4) output
// channels from m (4-aligned), into dst, then every 2 * width words (width 4 or 8).
static void fill_column(const int8_t *w, int32_t st, const int16_t *m, int32_t rows,
                        int32_t *dst, int32_t width) {
#if MT_Q8_GIN_ASM
    // 15 instructions per group where gcc took 19 (it multiplies the top halves by asr and mul).
    const int32_t st3 = 3 * st;
    int32_t m01, m23, a, b, t;
    const int16_t *end = m + rows;
    if (width == 8) {
        while (m != end) {
            __asm__(MT_FILL_GROUP_ASM("64") MT_FILL_OPERANDS);
        }
    } else {
        while (m != end) {
            __asm__(MT_FILL_GROUP_ASM("32") MT_FILL_OPERANDS);
        }
    }
#else
    for (int32_t o = 0; o < rows; o += 4, dst += 2 * width, w += 4 * st, m += 4) {
        dst[0] = pack_s16x2(m[0] * w[0], m[2] * w[2 * st]);
        dst[1] = pack_s16x2(m[1] * w[st], m[3] * w[3 * st]);
    }
#endif
}

// wb, per group of four output channels o..o+3 of the chunk [o0, o0 + n), per input channel
// i = i0 + j (j < width, 4 or 8): the int16 pairs {mW[o, i], mW[o+2, i]} and {mW[o+1, i],
// mW[o+3, i]}, the lanes sxtb16 gives q[o..o+3]. Zero past c_out and c_in, so those lanes add
// nothing.
static void fill_block(const conv_ctx *x, int32_t i0, int32_t o0, int32_t n, int32_t *wb,
                       int32_t width) {
    const int32_t full = n & ~3;  // whole groups inside c_out
    for (int32_t j = 0; j < width; j++) {
        int32_t st = 0;
        const int8_t *col = i0 + j < x->in->c ? filter_column(x, i0 + j, &st) : 0;
        int32_t *dst = wb + 2 * j;
        int32_t o = 0;
        if (col && full) {
            fill_column(col + o0 * st, st, x->m + o0, full, dst, width);
            o = full, dst += 2 * width * (full / 4);
        }
        for (; o < n; o += 4, dst += 2 * width) {  // the last group (past c_out), or no column
            const int32_t a = o0 + o;
            dst[0] = pack_s16x2(scaled_weight(x, a, col, st), scaled_weight(x, a + 2, col, st));
            dst[1] = pack_s16x2(scaled_weight(x, a + 1, col, st), scaled_weight(x, a + 3, col, st));
        }
    }
}

// s[j] += q[o..o+3] . mW[o..o+3, i0 + j] for one group of wb (qw: the four q as int8).
static inline void block_group(const int32_t *wb, int32_t qw, int32_t s[4]) {
    const int32_t q02 = __sxtb16(qw), q13 = sxtb16_ror8(qw);
    s[0] = __smlad(wb[1], q13, __smlad(wb[0], q02, s[0]));
    s[1] = __smlad(wb[3], q13, __smlad(wb[2], q02, s[1]));
    s[2] = __smlad(wb[5], q13, __smlad(wb[4], q02, s[2]));
    s[3] = __smlad(wb[7], q13, __smlad(wb[6], q02, s[3]));
}

#if MT_Q8_GIN_ASM
// One group of block_sums4's step: four q (int8) from [q], the group's eight words of wb.
#define MT_BLOCK_GROUP_ASM                        \
    "ldr     %[qw], [%[q]], #4\n\t"               \
    "sxtb16  %[q13], %[qw], ror #8\n\t"           \
    "sxtb16  %[qw], %[qw]\n\t"                    \
    "ldrd    %[w0], %[w1], [%[wb]], #8\n\t"       \
    "smlad   %[s0], %[w0], %[qw], %[s0]\n\t"      \
    "smlad   %[s0], %[w1], %[q13], %[s0]\n\t"     \
    "ldrd    %[w0], %[w1], [%[wb]], #8\n\t"       \
    "smlad   %[s1], %[w0], %[qw], %[s1]\n\t"      \
    "smlad   %[s1], %[w1], %[q13], %[s1]\n\t"     \
    "ldrd    %[w0], %[w1], [%[wb]], #8\n\t"       \
    "smlad   %[s2], %[w0], %[qw], %[s2]\n\t"      \
    "smlad   %[s2], %[w1], %[q13], %[s2]\n\t"     \
    "ldrd    %[w0], %[w1], [%[wb]], #8\n\t"       \
    "smlad   %[s3], %[w0], %[qw], %[s3]\n\t"      \
    "smlad   %[s3], %[w1], %[q13], %[s3]\n\t"

#define MT_BLOCK_ASM_OPERANDS                                                                \
    : [q] "+r"(q), [wb] "+r"(wb), [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), \
      [qw] "=&r"(qw), [q13] "=&r"(q13), [w0] "=&r"(w0), [w1] "=&r"(w1)                       \
    :                                                                                        \
    : "memory"
#endif

// s[j] = sum over o of q[o] * mW[o, i0 + j] for one pixel's q[c_out], from fill_block's wb.
// Four groups a step in one asm block (ldrd post-increments wb; gcc used single ldr and an add):
// 63 instructions per 64 MACs, then two groups, one, then the last 1..3 channels in C.
static inline void block_sums4(const int32_t *wb, const int8_t *q, int32_t c_out,
                               int32_t s[4]) {
#if MT_Q8_GIN_ASM
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, qw, q13, w0, w1;
    for (const int32_t *end = wb + 32 * (c_out >> 4); wb != end;) {
        __asm__(MT_BLOCK_GROUP_ASM MT_BLOCK_GROUP_ASM MT_BLOCK_GROUP_ASM MT_BLOCK_GROUP_ASM
                MT_BLOCK_ASM_OPERANDS);
    }
    if (c_out & 8) {
        __asm__(MT_BLOCK_GROUP_ASM MT_BLOCK_GROUP_ASM MT_BLOCK_ASM_OPERANDS);
    }
    if (c_out & 4) {
        __asm__(MT_BLOCK_GROUP_ASM MT_BLOCK_ASM_OPERANDS);
    }
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
#else
    s[0] = s[1] = s[2] = s[3] = 0;
    for (const int32_t *end = wb + 2 * (c_out & ~3); wb < end; wb += 8, q += 4) {
        block_group(wb, load_s8x4(q), s);
    }
#endif
    const int32_t rest = c_out & 3;
    if (rest) {  // the last 1..3 channels: no read past the pixel's q
        uint32_t qw = (uint8_t)q[0];
        qw |= rest > 1 ? (uint32_t)(uint8_t)q[1] << 8 : 0;
        qw |= rest > 2 ? (uint32_t)(uint8_t)q[2] << 16 : 0;
        block_group(wb, (int32_t)qw, s);
    }
}

#if MT_Q8_GIN_ASM
// One group of block_sums8's step: four q from [q], the group's 16 words of wb, eight sums.
#define MT_BLOCK8_PAIR_ASM(s)                   \
    "ldrd    %[w0], %[w1], [%[wb]], #8\n\t"     \
    "smlad   " s ", %[w0], %[qw], " s "\n\t"    \
    "smlad   " s ", %[w1], %[q13], " s "\n\t"
#define MT_BLOCK8_GROUP_ASM                                                                     \
    "ldr     %[qw], [%[q]], #4\n\t"                                                            \
    "sxtb16  %[q13], %[qw], ror #8\n\t"                                                        \
    "sxtb16  %[qw], %[qw]\n\t"                                                                 \
    MT_BLOCK8_PAIR_ASM("%[s0]") MT_BLOCK8_PAIR_ASM("%[s1]") MT_BLOCK8_PAIR_ASM("%[s2]")         \
    MT_BLOCK8_PAIR_ASM("%[s3]") MT_BLOCK8_PAIR_ASM("%[s4]") MT_BLOCK8_PAIR_ASM("%[s5]")         \
    MT_BLOCK8_PAIR_ASM("%[s6]") MT_BLOCK8_PAIR_ASM("%[s7]")
// All 14 allocatable registers: gcc moves one out and back around its loop's test.
#define MT_BLOCK8_OPERANDS                                                                      \
    : [q] "+r"(q), [wb] "+r"(wb), [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3),   \
      [s4] "+r"(s4), [s5] "+r"(s5), [s6] "+r"(s6), [s7] "+r"(s7), [qw] "=&r"(qw),              \
      [q13] "=&r"(q13), [w0] "=&r"(w0), [w1] "=&r"(w1)                                          \
    :                                                                                           \
    : "memory"
#endif

// block_sums4 for eight input channels (fill_block width 8): s[0..8). Four groups a step
// (108 instructions per 128 MACs, and the loop's 5), then two, one, and the last 1..3 channels.
static inline void block_sums8(const int32_t *wb, const int8_t *q, int32_t c_out,
                               int32_t s[8]) {
#if MT_Q8_GIN_ASM
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, qw, q13, w0, w1;
    for (const int32_t *end = wb + 64 * (c_out >> 4); wb != end;) {
        __asm__(MT_BLOCK8_GROUP_ASM MT_BLOCK8_GROUP_ASM MT_BLOCK8_GROUP_ASM MT_BLOCK8_GROUP_ASM
                MT_BLOCK8_OPERANDS);
    }
    if (c_out & 8) {
        __asm__(MT_BLOCK8_GROUP_ASM MT_BLOCK8_GROUP_ASM MT_BLOCK8_OPERANDS);
    }
    if (c_out & 4) {
        __asm__(MT_BLOCK8_GROUP_ASM MT_BLOCK8_OPERANDS);
    }
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3, s[4] = s4, s[5] = s5, s[6] = s6, s[7] = s7;
#else
    for (int32_t j = 0; j < 8; j++) {
        s[j] = 0;
    }
    for (const int32_t *end = wb + 4 * (c_out & ~3); wb < end; wb += 16, q += 4) {
        const int32_t qw = load_s8x4(q);
        block_group(wb, qw, s);
        block_group(wb + 8, qw, s + 4);
    }
#endif
    const int32_t rest = c_out & 3;
    if (rest) {  // the last 1..3 channels: no read past the pixel's q
        uint32_t qw = (uint8_t)q[0];
        qw |= rest > 1 ? (uint32_t)(uint8_t)q[1] << 8 : 0;
        qw |= rest > 2 ? (uint32_t)(uint8_t)q[2] << 16 : 0;
        block_group(wb, (int32_t)qw, s);
        block_group(wb + 8, (int32_t)qw, s + 4);
    }
}

// max(m, |acc|) for m >= 0, |acc| <= 2^31 - 1 (by the choice of M): |acc| as (acc ^ s) - s,
// s = acc >> 31.
static inline int32_t abs_max(int32_t m, int32_t acc) {
    const int32_t s = acc >> 31, a = (acc ^ s) - s;
    return a > m ? a : m;
}

// The int8 mt_grad_put stores for v (the same float operations).
static inline int8_t q8_of_value(float v, float inv) {
    return mt_q8_round(v * inv);
}

static inline int8_t q8_of(int32_t acc, float c, float inv) {
    return q8_of_value((float)acc * c, inv);
}

// Input pixel p's sums of channels i0 + j (j < n) put out at p * c_in + i0 + j: four at a time
// into an int8 output here (the sink's operations: pass 0's max |acc|, or with accumulate its
// max |v|, v = old_scale * q_old + (float)acc * c; pass 1's int8 of v), the rest by the sink.
MT_DSP_INLINE void put_sums(sink *out, int32_t at, const int32_t s[4], int32_t n, float c) {
    if (n == 4 && out->by_sum) {
        out->max_sum = abs_max(abs_max(abs_max(abs_max(out->max_sum, s[0]), s[1]), s[2]), s[3]);
        return;
    }
    if (n == 4 && !out->dst->f) {
        int8_t *d = out->dst->q + at;
        float v[4] = {(float)s[0] * c, (float)s[1] * c, (float)s[2] * c, (float)s[3] * c};
        if (out->accumulate) {
            const float old = out->old_scale;
            for (int32_t j = 0; j < 4; j++) {
                v[j] = old * (float)d[j] + v[j];
            }
        }
        if (out->pass == 0) {
            out->amax = mt_abs_max(mt_abs_max(mt_abs_max(mt_abs_max(out->amax, v[0]), v[1]),
                                              v[2]), v[3]);
            return;
        }
        const float inv = out->inv;
        d[0] = q8_of_value(v[0], inv);
        d[1] = q8_of_value(v[1], inv);
        d[2] = q8_of_value(v[2], inv);
        d[3] = q8_of_value(v[3], inv);
        return;
    }
    for (int32_t j = 0; j < n; j++) {
        sink_put_at(out, at + j, s[j], c);
    }
}

// Pass 0 keeps the exact sums of each pixel's first `stash` input channels in the int8 output
// it does not write otherwise: sum i of pixel p as an int32 at byte p * c_in + 4 * i (stash <=
// c_in / 4, a multiple of the block's width). Pass 1 turns them into their int8 first (ascending i, so each
// byte it writes, p * c_in + i, lies below the sums still to read) and sums only the rest: a
// quarter of pass 1 saved. Only where pass 0 neither reads the output (no accumulate) nor can
// fail after it (mt_grad_begin refuses an infinite amax, and amax <= 2^31 * c).
static int32_t stash_channels(const conv_ctx *x, const mt_grad_params *grad,
                              const mt_grad_dst *grad_in, int32_t width) {
    const int ok = !grad->accumulate && !grad_in->f && 2147483648.0f * x->c <= 3.4e38f;
    return ok ? x->in->c / (4 * width) * width : 0;
}

static inline int32_t load_s32(const int8_t *p) {
    int32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

// Pass 1's int8 of the stashed sums (pass 0 left them).
static void stash_put(const conv_ctx *x, const sink *out, int32_t stash) {
    const int32_t c_in = x->in->c, pixels = x->in->n * x->in->h * x->in->w;
    const float c = x->c, inv = out->inv;
    int8_t *d = out->dst->q;
    for (int32_t p = 0; p < pixels; p++, d += c_in) {
        for (int32_t i = 0; i < stash; i++) {
            d[i] = q8_of(load_s32(d + 4 * i), c, inv);
        }
    }
}

// Pixels [p0, p0 + np) of one chunk [o0, o0 + n) of output channels and four input channels
// i0.. from wb: before the last chunk their sums go to part[] (4 a pixel, the scratch's q*m
// words), with the last out to the sink (and pass 0's stash). Out of line: conv_blocks' frame
// holds wb, this one the loop's registers.
__attribute__((noinline)) static void chunk_pixels(const conv_ctx *x, sink *sink_out,
                                                   int32_t stash, const int32_t *wb, int32_t i0,
                                                   int32_t o0, int32_t n, int32_t p0,
                                                   int32_t np) {
    const int32_t c_in = x->in->c, c_out = x->out->c, ni = c_in - i0 < 4 ? c_in - i0 : 4;
    const int last = o0 + n == c_out;
    const float c = x->c;
    sink o = *sink_out, *out = &o;  // in a local: the int8 stores may alias it
    int8_t *const keep = o.pass == 0 && i0 < stash ? o.dst->q : 0;  // where pass 0 stashes
    const int8_t *q = x->q + p0 * c_out + o0;
    int32_t *ps = (int32_t *)(void *)x->qm;
    for (int32_t p = p0; p < p0 + np; p++, q += c_out, ps += 4) {
        int32_t s[4];
        block_sums4(wb, q, n, s);
        if (o0 > 0) {
            s[0] += ps[0], s[1] += ps[1], s[2] += ps[2], s[3] += ps[3];
        }
        if (!last) {
            ps[0] = s[0], ps[1] = s[1], ps[2] = s[2], ps[3] = s[3];
            continue;
        }
        put_sums(out, p * c_in + i0, s, ni, c);
        if (keep) {
            __builtin_memcpy(keep + p * c_in + 4 * i0, s, 16);
        }
    }
    *sink_out = o;
}

// Every input pixel's sums, four input channels at a time, a chunk of output channels at a
// time (output index p * c_in + i); with more than one chunk, a group of pixels at a time.
static void conv_blocks(const conv_ctx *x, sink *out, int32_t stash) {
    int32_t wb[2 * MT_BLOCK_CHUNK];
    const int32_t c_in = x->in->c, c_out = x->out->c;
    const int32_t pixels = x->in->n * x->in->h * x->in->w;
    const int32_t group = c_out <= MT_BLOCK_CHUNK ? pixels : (c_out + (c_out & 1)) / 8;
    int32_t i0 = 0;
    if (stash && out->pass == 1) {
        stash_put(x, out, stash);
        i0 = stash;
    }
    for (; i0 < c_in; i0 += 4) {
        for (int32_t p0 = 0; p0 < pixels; p0 += group) {
            const int32_t np = pixels - p0 < group ? pixels - p0 : group;
            for (int32_t o0 = 0; o0 < c_out; o0 += MT_BLOCK_CHUNK) {
                const int32_t n = c_out - o0 < MT_BLOCK_CHUNK ? c_out - o0 : MT_BLOCK_CHUNK;
                fill_block(x, i0, o0, n, wb, 4);
                chunk_pixels(x, out, stash, wb, i0, o0, n, p0, np);
            }
        }
    }
}

// conv_blocks eight input channels at a time, for c_out <= MT_BLOCK8_C_OUT_MAX (one chunk):
// the sums take 0.89 instructions per MAC where four channels take 0.98, and the per-pixel
// steps are shared by twice the MACs. (noinline: its stack block and conv_blocks' are not
// both held.)
__attribute__((noinline)) static void conv_blocks8(const conv_ctx *x, sink *sink_out,
                                                   int32_t stash) {
    int32_t wb[4 * MT_BLOCK8_C_OUT_MAX];
    const int32_t c_in = x->in->c, c_out = x->out->c;
    const int32_t pixels = x->in->n * x->in->h * x->in->w;
    const float c = x->c;
    sink o = *sink_out, *out = &o;
    int8_t *const keep = o.pass == 0 ? o.dst->q : 0;  // where pass 0 stashes
    int32_t i0 = 0;
    if (stash && o.pass == 1) {
        stash_put(x, out, stash);
        i0 = stash;
    }
    for (; i0 < c_in; i0 += 8) {
        const int32_t ni = c_in - i0 < 8 ? c_in - i0 : 8;
        fill_block(x, i0, 0, c_out, wb, 8);
        const int8_t *q = x->q;
        for (int32_t p = 0; p < pixels; p++, q += c_out) {
            int32_t s[8];
            block_sums8(wb, q, c_out, s);
            const int32_t at = p * c_in + i0;
            put_sums(out, at, s, ni < 4 ? ni : 4, c);
            if (ni > 4) {
                put_sums(out, at + 4, s + 4, ni - 4, c);
            }
            if (i0 < stash && keep) {
                __builtin_memcpy(keep + p * c_in + 4 * i0, s, 32);
            }
        }
    }
    *sink_out = o;
}
#endif

#if MT_XTENSA_MAC16
// ESP32 / ESP32-S3, a 1x1 stride-1 unpadded conv (pwconv2d, fc with any batch): input pixel p's
// sums are s[p, i] = sum over o of (q[p, o] m[o]) W[o, i], int16 by int16 with MAC16
// (mt_xt_dot_s16, one instruction per MAC). The filter columns of a block of input channels
// are widened once into int16 rows on the stack, zero past c_out; then each pixel's q m is
// widened once per block and dotted with every row. Up to this many output channels (the q m
// vector's stack words):
#define MT_XT_GIN_C_OUT_MAX 256

// Widening a column costs about 10 instructions per weight, and conv_tap's column dots 4 per
// MAC where these take 1: from this many pixels the blocks are cheaper.
#define MT_XT_GIN_BLOCK_PIXELS_MIN 4

static int xtensa_block_fits(const conv_ctx *x) {
    const mt_conv_params *p = x->params;
    return !x->learned && x->filter->h == 1 && x->filter->w == 1 && p->stride_h == 1 &&
           p->stride_w == 1 && p->pad_h == 0 && p->pad_w == 0 &&
           x->out->c <= MT_XT_GIN_C_OUT_MAX &&
           x->in->n * x->in->h * x->in->w >= MT_XT_GIN_BLOCK_PIXELS_MIN;
}

static void conv_blocks_xtensa(const conv_ctx *x, sink *sink_out) {
    int32_t rows_words[MT_XT_VEC_HALVES_MAX / 2 + 1], qm_words[MT_XT_GIN_C_OUT_MAX / 2 + 1];
    int16_t *const rows = (int16_t *)rows_words, *const qm = (int16_t *)qm_words;
    const int32_t c_in = x->in->c, c_out = x->out->c, c4 = (c_out + 3) & ~3;
    const int32_t pixels = x->in->n * x->in->h * x->in->w;
    const int32_t block = MT_XT_VEC_HALVES_MAX / c4;  // >= 4 rows
    const float c = x->c;
    sink o = *sink_out;  // in a local: the int8 stores may alias it
    rows[block * c4] = rows[block * c4 + 1] = 0;  // the last row's read-ahead word
    for (int32_t i0 = 0; i0 < c_in; i0 += block) {
        const int32_t n = c_in - i0 < block ? c_in - i0 : block;
        for (int32_t j = 0; j < n; j++) {
            const int8_t *w = x->w + i0 + j;
            int16_t *row = rows + j * c4;
            for (int32_t oc = 0; oc < c4; oc++, w += c_in) {
                row[oc] = (int16_t)(oc < c_out ? *w : 0);
            }
        }
        const int8_t *q = x->q;
        for (int32_t p = 0, at = i0; p < pixels; p++, q += c_out, at += c_in) {
            mt_xt_widen_s8(q, x->m, c_out, 0, qm);
            for (int32_t j = 0; j < n; j++) {
                sink_put_at(&o, at + j, mt_xt_dot_s16(qm, rows + j * c4, c4 / 4), c);
            }
        }
    }
    *sink_out = o;
}
#endif

static mt_status conv_passes(const conv_ctx *x, const mt_grad_params *grad,
                             const mt_grad_dst *grad_in) {
    const float old_scale = *grad_in->scale;
    float inv = 0.0f;
    mt_status st;
    sink out;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && (st = mt_grad_begin(grad_in, sink_amax(&out, x->c), &inv)) != MT_OK) {
            return st;
        }
        sink_start(&out, grad_in, pass, grad->accumulate, old_scale, inv, 1);
#if defined(__ARM_FEATURE_DSP)
        if (block_mode_fits(x)) {
            const int32_t width = x->out->c <= MT_BLOCK8_C_OUT_MAX ? 8 : 4;
            const int32_t stash = stash_channels(x, grad, grad_in, width);
            if (width == 8) {
                conv_blocks8(x, &out, stash);
            } else {
                conv_blocks(x, &out, stash);
            }
            continue;
        }
#endif
#if MT_XTENSA_MAC16
        if (xtensa_block_fits(x)) {
            conv_blocks_xtensa(x, &out);
            continue;
        }
#endif
        for (int32_t n = 0; n < x->in->n; n++) {
            for (int32_t iy = 0; iy < x->in->h; iy++) {
                for (int32_t ix = 0; ix < x->in->w; ix++) {
                    conv_pixel(x, n, iy, ix, &out);
                }
            }
        }
    }
    return MT_OK;
}

// The checks and the two passes of both entries; split: the learned columns, or NULL.
typedef struct {
    const int8_t *learned;
    const int32_t *channels;
    int32_t k;
} learned_cols;

static mt_status grad_in_run(const mt_conv_params *params, const mt_grad_params *grad,
                             const mt_dims *input_dims, const mt_grad_dst *grad_in,
                             const mt_dims *filter_dims, const int8_t *filter,
                             const mt_dims *output_dims, const mt_grad_src *grad_out,
                             const learned_cols *split, void *scratch, size_t scratch_len) {
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    if (filter_dims->n != output_dims->c || filter_dims->c != input_dims->c) {
        return MT_ERR_SHAPE;
    }
    if (grad_in->f || grad_out->f || !grad_in->q || !grad_out->q) {
        return MT_ERR_PARAM;
    }
    int32_t need;
    if ((st = mt_conv_q8_grad_in_scratch(filter_dims, &need)) != MT_OK) {
        return st;
    }
    if (scratch_len < (size_t)need || ((uintptr_t)scratch & 3u) != 0) {
        return MT_ERR_BUFFER_SIZE;
    }
    const int32_t c_out = output_dims->c, pairs = c_out + (c_out & 1);
    const int with_acc = filter_dims->h * filter_dims->w > 1;
    int16_t *qm = (int16_t *)scratch, *m = qm + pairs;
    conv_ctx x = {params, input_dims, filter_dims, output_dims, filter, grad_out->q, m, qm,
                  with_acc ? (int32_t *)(m + pairs) : 0, 0.0f,
                  split ? split->learned : 0, split ? split->channels : 0, split ? split->k : 0};
    if ((st = multipliers(grad->filter_scale, c_out, c_out * filter_dims->h * filter_dims->w,
                          grad_out->scale, m, &x.c)) != MT_OK) {
        return st;
    }
    st = conv_passes(&x, grad, grad_in);
    // Leave the scratch zeroed: its contents are then the same on every build and in numpy.
    int32_t *words = (int32_t *)scratch;
    for (int32_t i = 0; i < need / 4; i++) {
        words[i] = 0;
    }
    return st;
}

mt_status mt_conv_q8_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                             const mt_dims *input_dims, const mt_grad_dst *grad_in,
                             const mt_dims *filter_dims, const int8_t *filter,
                             const mt_dims *output_dims, const mt_grad_src *grad_out,
                             void *scratch, size_t scratch_len) {
    return grad_in_run(params, grad, input_dims, grad_in, filter_dims, filter, output_dims,
                       grad_out, 0, scratch, scratch_len);
}

mt_status mt_pwconv2d_split_q8_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                                       const mt_dims *input_dims, const mt_grad_dst *grad_in,
                                       const mt_dims *filter_dims, const int8_t *filter,
                                       const int8_t *learned, const int32_t *channels,
                                       int32_t k, const mt_dims *output_dims,
                                       const mt_grad_src *grad_out, void *scratch,
                                       size_t scratch_len) {
    if (!mt_pwconv2d_s8_fwd_applies(params, filter_dims)) {
        return MT_ERR_PARAM;
    }
    mt_status st = mt_learned_channels_check(channels, k, filter_dims->c);
    if (st != MT_OK) {
        return st;
    }
    const learned_cols split = {learned, channels, k};
    return grad_in_run(params, grad, input_dims, grad_in, filter_dims, filter, output_dims,
                       grad_out, &split, scratch, scratch_len);
}
