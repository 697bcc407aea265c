// SPDX-License-Identifier: MIT
#include "mt_conv_q8_grad_in.h"

#include "mt_conv_q8_grad_in_ctx.h"
#include "mt_pwconv2d_s8_fwd.h"
#include "mt_pwconv2d_split_s8_fwd.h"
#include "mt_x64.h"
#include "mt_xtensa.h"

// Scratch sizes are counted in 4-byte words below this.
#define MT_SCRATCH_WORDS_MAX (INT32_MAX / 4)

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"
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
        if (mt_conv_q8_blocks_fit(x)) {
            mt_conv_q8_blocks(x, grad, grad_in, &out);
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
