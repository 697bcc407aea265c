// SPDX-License-Identifier: MIT
#include "mt_conv_q8_update.h"

#include "mt_qas_q8.h"
#include "mt_x64.h"

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"
#endif

// Weights whose sums are held at once, on the stack (128 bytes): one pass over a tap's output
// pixels serves them all.
#define CHUNK 32

#if defined(__ARM_FEATURE_DSP) || defined(__ARM_ARCH_6M__)
#define JOIN_RUNS 1
#else
#define JOIN_RUNS 0
#endif

// The most batch items an fc's sums take the direct way (mt_qas_q8_row_products: about 6
// instructions a term on the Cortex-M4); the tap runs of 4 channels cost less a term beyond.
#define FEW_TERMS 8

// What a run of sums reads: one output row's valid pixels against the input pixels of one tap.
typedef struct {
    const int8_t *x;  // input at the run's first pixel, channel j0
    const int8_t *q;  // grad_out at the run's first pixel, channel o (conv) or j0's (depthwise)
    int32_t x_step;   // bytes from one pixel's input to the next (stride_w * k)
    int32_t q_step;   // bytes from one pixel's grad_out to the next (c_out)
    int32_t pixels;
} run;

#if defined(__ARM_FEATURE_DSP)
// One pixel of a conv run's 4 channels: g = q's int8, x + offset extended by sxtab16.
#define CONV_PIXEL(X_AT, Q_AT)                            \
    "ldrsb   %[g], " Q_AT "\n\t"                        \
    "ldr     %[v], " X_AT "\n\t"                        \
    "sxtab16 %[e], %[off2], %[v]\n\t"                   \
    "sxtab16 %[v], %[off2], %[v], ror #8\n\t"           \
    "smlabb  %[a0], %[g], %[e], %[a0]\n\t"              \
    "smlabt  %[a2], %[g], %[e], %[a2]\n\t"              \
    "smlabb  %[a1], %[g], %[v], %[a1]\n\t"              \
    "smlabt  %[a3], %[g], %[v], %[a3]\n\t"

// Depthwise: q's 4 channels too, extended (t even, g odd) against x's.
#define DW_PIXEL(X_AT, Q_AT)                              \
    "ldr     %[g], " Q_AT "\n\t"                        \
    "ldr     %[v], " X_AT "\n\t"                        \
    "sxtab16 %[e], %[off2], %[v]\n\t"                   \
    "sxtb16  %[t], %[g]\n\t"                            \
    "smlabb  %[a0], %[t], %[e], %[a0]\n\t"              \
    "smlatt  %[a2], %[t], %[e], %[a2]\n\t"              \
    "sxtab16 %[e], %[off2], %[v], ror #8\n\t"           \
    "sxtb16  %[t], %[g], ror #8\n\t"                    \
    "smlabb  %[a1], %[t], %[e], %[a1]\n\t"              \
    "smlatt  %[a3], %[t], %[e], %[a3]\n\t"

// Two pixels a step: the second read at [p, step], then both pointers move two steps. An odd
// run enters at 2 (the second pixel) with the pointers one step back.
#define TWO_PIXELS(PIXEL)                                                     \
    "cmp     %[g], #0\n\t"                                                    \
    "bne     2f\n"                                                            \
    "1:\n\t"                                                                  \
    PIXEL("[%[x]]", "[%[q]]")                                                 \
    "2:\n\t"                                                                  \
    PIXEL("[%[x], %[xs]]", "[%[q], %[qs]]")                                   \
    "add     %[x], %[x], %[xs], lsl #1\n\t"                                   \
    "add     %[q], %[q], %[qs], lsl #1\n\t"

// sum[0 .. 4 groups) += the run's terms, 4 channels a group from r->x (conv: against r->q's
// one channel; depthwise: against r->q's 4 channels of the group); pixels >= 1. The loop over
// pixel pairs is asm: in C, gcc reloaded a step from the stack in the loop (14 instructions a
// pixel, now 10 for a conv, 12.5 depthwise). Out of line: the asm takes 13 registers, which
// gcc at -Os -fpic cannot give inside the big caller; depthwise keeps the loop's end in memory
// (a 14th register operand is "impossible constraints" even here). The pointers are integers:
// an odd run's start one step back lies outside the buffers, and is never read.
MT_DSP_INLINE void dsp_run_sums(const run *r, int32_t off2, int depthwise, int32_t groups,
                                int32_t *sum) {
    const int32_t xs = r->x_step, qs = r->q_step, odd = r->pixels & 1;
    const int32_t steps = (r->pixels + 1) >> 1;  // loop steps
    const uintptr_t x0 = (uintptr_t)r->x - (odd ? xs : 0), q0 = (uintptr_t)r->q - (odd ? qs : 0);
    for (int32_t i = 0; i < groups; i++, sum += 4) {
        int32_t a0 = sum[0], a1 = sum[1], a2 = sum[2], a3 = sum[3], g = odd, v, e;
        uintptr_t x = x0 + 4 * i, q = depthwise ? q0 + 4 * i : q0;
        if (!depthwise) {
            int32_t n = steps;
            __asm__(TWO_PIXELS(CONV_PIXEL) "subs    %[n], %[n], #1\n\t"
                    "bne     1b"
                    : [x] "+r"(x), [q] "+r"(q), [n] "+r"(n), [a0] "+r"(a0), [a1] "+r"(a1),
                      [a2] "+r"(a2), [a3] "+r"(a3), [g] "+r"(g), [v] "=&r"(v), [e] "=&r"(e)
                    : [xs] "r"(xs), [qs] "r"(qs), [off2] "r"(off2)
                    : "cc", "memory");
        } else {
            const uintptr_t end = x + 2 * steps * xs;
            int32_t t;
            __asm__(TWO_PIXELS(DW_PIXEL) "ldr     %[t], %[end]\n\t"
                    "cmp     %[x], %[t]\n\t"
                    "bne     1b"
                    : [x] "+r"(x), [q] "+r"(q), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2),
                      [a3] "+r"(a3), [g] "+r"(g), [v] "=&r"(v), [e] "=&r"(e), [t] "=&r"(t)
                    : [xs] "r"(xs), [qs] "r"(qs), [off2] "r"(off2), [end] "m"(end)
                    : "cc", "memory");
        }
        sum[0] = a0, sum[1] = a1, sum[2] = a2, sum[3] = a3;
    }
}

// One copy each, depthwise a constant in it. Never unrolled: with -funroll-loops (bench/'s
// flags table) the unrolled group loop left no registers for the asm.
#define RUN_SUMS_ATTRS __attribute__((noinline, optimize("no-unroll-loops")))
RUN_SUMS_ATTRS static void conv_run_sums(const run *r, int32_t off2, int32_t groups,
                                         int32_t *sum) {
    dsp_run_sums(r, off2, 0, groups, sum);
}

RUN_SUMS_ATTRS static void dw_run_sums(const run *r, int32_t off2, int32_t groups,
                                       int32_t *sum) {
    dsp_run_sums(r, off2, 1, groups, sum);
}
#undef RUN_SUMS_ATTRS
#endif

#if defined(__ARM_ARCH_6M__)
// sum over p < pixels of q[p * q_step] * (x[p * x_step] + offset); pixels >= 1. In asm: gcc
// spills this loop's offset or pointers to the stack on Thumb-1 (17 instructions a term; 31
// inlined into the loops around it), here everything stays in registers (9: the steps in ip
// and lr).
int32_t mt_run_dot_v6m(const int8_t *x, const int8_t *q, const int32_t *steps_offset_pixels);
__asm__(".syntax unified\n"
        ".text\n"
        ".align 1\n"
        ".thumb_func\n"
        ".type mt_run_dot_v6m, %function\n"
        "mt_run_dot_v6m:\n\t"
        "push   {r4, r5, r6, r7, lr}\n\t"
        "ldr    r4, [r2, #0]\n\t"
        "mov    ip, r4\n\t"  // x_step
        "ldr    r4, [r2, #4]\n\t"
        "mov    lr, r4\n\t"  // q_step
        "ldr    r6, [r2, #8]\n\t"  // offset
        "ldr    r7, [r2, #12]\n\t"  // pixels
        "movs   r2, #0\n\t"
        "movs   r3, #0\n"  // the sum
        "1:\n\t"
        "ldrsb  r4, [r0, r2]\n\t"
        "adds   r4, r4, r6\n\t"
        "ldrsb  r5, [r1, r2]\n\t"
        "muls   r4, r5\n\t"
        "adds   r3, r3, r4\n\t"
        "add    r0, ip\n\t"
        "add    r1, lr\n\t"
        "subs   r7, #1\n\t"
        "bne    1b\n\t"
        "movs   r0, r3\n\t"
        "pop    {r4, r5, r6, r7, pc}\n\t"
        ".size mt_run_dot_v6m, . - mt_run_dot_v6m\n\t"
        ".syntax divided");
#endif

// On the Arm cores it is a function of its own. Without the DSP paths (M0, M3) the loops of
// run_sums leave every channel to it: inlined into them, gcc kept the sum and pointers on the
// stack (31 instructions a term on a Cortex-M0; the M3's HAR step is 6% shorter out of line).
// With them (M4, M7) it takes only the channels after the groups of 4: inlined, gcc at -Os made
// a 3-channel conv's update 37% longer. Inlined elsewhere: out of line it cost 1-3% on RV32.
#if defined(__arm__)
#define RUN_DOT_INLINING __attribute__((noinline))
#else
#define RUN_DOT_INLINING inline
#endif

// The run's terms of one channel: sum over its pixels of q * (x + offset), x from channel
// x_at of r->x, q from q_at of r->q.
static RUN_DOT_INLINING int32_t run_dot(const run *r, int32_t x_at, int32_t q_at,
                                        int32_t offset) {
    const int8_t *x = r->x + x_at, *q = r->q + q_at;
#if defined(__ARM_ARCH_6M__)
    const int32_t args[4] = {r->x_step, r->q_step, offset, r->pixels};
    return r->pixels > 0 ? mt_run_dot_v6m(x, q, args) : 0;
#else
    int32_t a = 0;
    for (int32_t n = r->pixels; n > 0; n--, x += r->x_step, q += r->q_step) {
        a += *q * (*x + offset);
    }
    return a;
#endif
}

// sum[i] += the run's terms for saved channels j0 + i, i < count. Depthwise: grad_out channel
// q_col[i] (r->q points at q_col[0]'s); q_contiguous when q_col[i] == q_col[0] + i for every i
// (the DSP path then reads q four channels at a time). A conv reads r->q's one channel.
static void run_sums(const run *r, int32_t offset, int depthwise, const int32_t *q_col,
                     int q_contiguous, int32_t count, int32_t *sum) {
    int32_t i = 0;
#if MT_X64
    if (!depthwise || q_contiguous) {
        i = mt_conv_q8_run_sums_x64(r->x, r->q, r->x_step, r->q_step, r->pixels, offset,
                                    depthwise, count, sum);
    }
#endif
#if defined(__ARM_FEATURE_DSP)
    const int32_t off2 = (int32_t)(((uint32_t)offset & 0xFFFFu) * 0x10001u);
    if ((!depthwise || q_contiguous) && count >= 4 && r->pixels > 0) {
        (depthwise ? dw_run_sums : conv_run_sums)(r, off2, count >> 2, sum);
        i = count & ~3;
    }
#else
    (void)q_contiguous;
#endif
    for (; i < count; i++) {
        sum[i] += run_dot(r, i, depthwise ? q_col[i] - q_col[0] : 0, offset);
    }
}

// The output positions o whose input position o*stride - pad + tap lies in [0, in_len): [lo, hi).
static void valid_span(int32_t out_len, int32_t in_len, int32_t stride, int32_t pad, int32_t tap,
                       int32_t *lo, int32_t *hi) {
    const int32_t before = pad - tap, last = in_len - 1 + pad - tap;
    int32_t l = before <= 0 ? 0 : (before + stride - 1) / stride;
    int32_t h = last < 0 ? 0 : last / stride + 1;
    h = h > out_len ? out_len : h;
    *lo = l > h ? h : l;
    *hi = h;
}

typedef struct {
    const mt_conv_params *params;
    const mt_dims *in, *out;
    const int8_t *input, *q;
    int32_t offset, depthwise;
} sums_ctx;

// sum[i] for tap (ky, kx), saved channels j0 .. j0+count-1, read against grad_out channel
// o (conv) or q_col[i] (depthwise).
static void tap_sums(const sums_ctx *c, int32_t o, int32_t ky, int32_t kx, int32_t j0,
                     int32_t count,
                     const int32_t *q_col, int q_contiguous, int32_t *sum) {
    const mt_dims *in = c->in, *out = c->out;
    const int32_t sh = c->params->stride_h, sw = c->params->stride_w, k = in->c;
    int32_t oy_lo, oy_hi, ox_lo, ox_hi;
    valid_span(out->h, in->h, sh, c->params->pad_h, ky, &oy_lo, &oy_hi);
    valid_span(out->w, in->w, sw, c->params->pad_w, kx, &ox_lo, &ox_hi);
    for (int32_t i = 0; i < count; i++) {
        sum[i] = 0;
    }
    if (ox_lo >= ox_hi) {
        return;
    }
    const int32_t ix_lo = ox_lo * sw - c->params->pad_w + kx;
    const int32_t q_base = c->depthwise ? q_col[0] : o;
    // Whole output rows whose input rows follow each other as the pixels of one row do (a 1x1
    // kernel at stride 1, unpadded, say) make one run: the next row's first pixel is one step
    // past this row's last, in the input and in grad_out. The same for whole images. On the
    // cores where that was measured faster (mcunet's 8x8x24 -> 240 update: M4/M7 -12 %, M0
    // -22 %; RV32 took 26 % more instructions, so it keeps a run a row).
    const int rows_join = JOIN_RUNS && ox_lo == 0 && ox_hi == out->w &&
                          out->w * sw == sh * in->w;
    const int images_join = rows_join && oy_lo == 0 && oy_hi == out->h && out->h * sh == in->h;
    const int32_t rows = rows_join ? oy_hi - oy_lo : 1, images = images_join ? out->n : 1;
    for (int32_t n = 0; n < out->n; n += images) {
        for (int32_t oy = oy_lo; oy < oy_hi; oy += rows) {
            const int32_t iy = oy * sh - c->params->pad_h + ky;
            const run r = {c->input + ((n * in->h + iy) * in->w + ix_lo) * k + j0,
                           c->q + ((n * out->h + oy) * out->w + ox_lo) * out->c + q_base,
                           sw * k, out->c, (ox_hi - ox_lo) * rows * images};
            run_sums(&r, c->offset, c->depthwise, q_col, q_contiguous, count, sum);
        }
    }
}

// A conv (not depthwise) with a 1x1 kernel on one input pixel, unpadded (fc): the sum of weight
// (o, j) is over the batch, sum over n of q[n, o] * (x[n, j] + offset), no per-tap geometry.
// At a small batch that is cheaper the direct way than by chunks of tap runs.
static int few_term_fc(const mt_conv_params *params, const mt_dims *in, const mt_dims *filter,
                       const mt_dims *out, int depthwise) {
    return !depthwise && in->n <= FEW_TERMS && filter->h == 1 && filter->w == 1 && in->h == 1 &&
           in->w == 1 && out->h == 1 && out->w == 1 && params->pad_h == 0 &&
           params->pad_w == 0;
}

mt_status mt_conv_q8_update(const mt_conv_params *params, const mt_grad_params *grad,
                            const mt_dims *input_dims, const int8_t *input,
                            const mt_qas_layout *layout, const mt_dims *filter_dims,
                            int8_t *weights, const float *w_scale,
                            const mt_update_params *update, const mt_update_state *state,
                            const mt_dims *output_dims, const mt_grad_src *grad_out) {
    mt_status st = mt_qas_s8_check(update, layout, w_scale, state);
    if (st != MT_OK) {
        return st;
    }
    if (grad_out->f || !grad_out->q) {
        return MT_ERR_ARGS;
    }
    // Dims are checked, so the product fits int64; compare before any sum can overflow.
    if ((int64_t)output_dims->n * output_dims->h * output_dims->w > MT_UPDATE_MAX_PIXELS) {
        return MT_ERR_SIZE;
    }
    const int32_t kh = filter_dims->h, kw = filter_dims->w, dw = layout->scale_on_channel;
    const sums_ctx ctx = {params, input_dims, output_dims, input, grad_out->q,
                          grad->input_offset, dw};
    mt_qas_q8 qas;
    mt_qas_q8_begin(&qas, update, state, grad_out->scale * grad->input_scale);
    if (few_term_fc(params, input_dims, filter_dims, output_dims, dw)) {
        for (int32_t o = 0; o < layout->outer; o++) {
            mt_qas_q8_row_products(&qas, grad_out->q + o, output_dims->c, output_dims->n,
                                   grad->input_offset, input, input_dims->c, layout->k,
                                   weights + o * layout->c_total, layout->channels, w_scale[o]);
        }
        mt_qas_q8_end(&qas, state);
        return MT_OK;
    }
    int32_t sum[CHUNK], col[CHUNK];
    float scale[CHUNK];
    for (int32_t o = 0; o < layout->outer; o++) {
        for (int32_t tap = 0; tap < kh * kw; tap++) {
            int8_t *row = weights + (o * kh * kw + tap) * layout->c_total;
            for (int32_t j0 = 0; j0 < layout->k; j0 += CHUNK) {
                const int32_t left = layout->k - j0, count = left < CHUNK ? left : CHUNK;
                int q_contiguous = 1;  // depthwise: grad_out channels col[0], col[0] + 1, ...
                for (int32_t i = 0; i < count; i++) {
                    col[i] = layout->channels ? layout->channels[j0 + i] : j0 + i;
                    q_contiguous &= col[i] == col[0] + i;
                    scale[i] = w_scale[dw ? col[i] : o];
                }
                tap_sums(&ctx, o, tap / kw, tap % kw, j0, count, col, q_contiguous, sum);
                mt_qas_q8_row(&qas, sum, count, row, col, scale, !dw);
            }
        }
    }
    mt_qas_q8_end(&qas, state);
    return MT_OK;
}
