// SPDX-License-Identifier: MIT
// The Cortex-M DSP block mode of mt_conv_q8_grad_in / mt_pwconv2d_split_q8_grad_in for 1x1
// stride-1 unpadded layers (pwconv2d, fc with a batch): the same integer sums as the general
// loop, so the same bytes. Like every int8 gradient it makes two passes (mt_grad.h): the int8
// scale needs the largest |value| before any value can be stored, and there is no room to keep
// the int32 sums, so pass 1 sums again; pass 0 keeps what fits of them in the int8 output (a
// quarter, see stash_channels).
#include "mt_conv_q8_grad_in_ctx.h"

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"

// A 1x1 stride-1 unpadded conv (pwconv2d, fc with a batch) maps input pixel p to output pixel
// p. With MT_BLOCK_PIXELS_MIN or more pixels, the weights of four input channels are unpacked
// into int16 m[o] * W[o, i] (exact: |m W| <= 256 * 128 fits) and used for every pixel; q is
// then read as is, four int8 at a time. That block lives on the stack, for a chunk of this many
// output channels at a time (8 bytes each):
#define MT_BLOCK_CHUNK 128
// With more output channels, a pixel's sums over the chunks before the last wait in the
// scratch's q*m words (this mode has no use for them): 4 * (c_out + c_out % 2) / 2 bytes, four
// int32 a pixel, so (c_out + c_out % 2) / 8 >= 16 pixels a group; each group unpacks again.
// Unpacking costs about 4 instructions per weight and the sums 1 per MAC (two passes each):
// from this many pixels it beats the tap path's 1.75 per MAC.
#define MT_BLOCK_PIXELS_MIN 8
// Up to this many output channels, blocks of eight input channels (16 bytes per channel).
#define MT_BLOCK8_C_OUT_MAX 64

int mt_conv_q8_blocks_fit(const conv_ctx *x) {
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
            dst[1] = pack_s16x2(scaled_weight(x, a + 1, col, st),
                                scaled_weight(x, a + 3, col, st));
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

// The last 1..3 q of a pixel as a word of four int8, zero above (no read past the pixel's q).
static inline int32_t last_q(const int8_t *q, int32_t rest) {
    uint32_t qw = (uint8_t)q[0];
    qw |= rest > 1 ? (uint32_t)(uint8_t)q[1] << 8 : 0;
    qw |= rest > 2 ? (uint32_t)(uint8_t)q[2] << 16 : 0;
    return (int32_t)qw;
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

// The whole groups of c_out (four output channels each) from wb and q: four a step, then two,
// then one; group: one group's asm, its operands; words: wb's words of four groups.
#define MT_SUM_GROUPS(group, operands, words)                                  \
    do {                                                                       \
        for (const int32_t *end = wb + (words) * (c_out >> 4); wb != end;) {   \
            __asm__(group group group group operands);                         \
        }                                                                      \
        if (c_out & 8) {                                                       \
            __asm__(group group operands);                                     \
        }                                                                      \
        if (c_out & 4) {                                                       \
            __asm__(group operands);                                           \
        }                                                                      \
    } while (0)
#endif

// s[j] = sum over o of q[o] * mW[o, i0 + j] for one pixel's q[c_out], from fill_block's wb.
// Four groups a step in one asm block (ldrd post-increments wb; gcc used single ldr and an add):
// 63 instructions per 64 MACs, then two groups, one, then the last 1..3 channels in C.
static inline void block_sums4(const int32_t *wb, const int8_t *q, int32_t c_out,
                               int32_t s[4]) {
#if MT_Q8_GIN_ASM
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, qw, q13, w0, w1;
    MT_SUM_GROUPS(MT_BLOCK_GROUP_ASM, MT_BLOCK_ASM_OPERANDS, 32);
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
#else
    s[0] = s[1] = s[2] = s[3] = 0;
    for (const int32_t *end = wb + 2 * (c_out & ~3); wb < end; wb += 8, q += 4) {
        block_group(wb, load_s8x4(q), s);
    }
#endif
    if (c_out & 3) {
        block_group(wb, last_q(q, c_out & 3), s);
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
    MT_SUM_GROUPS(MT_BLOCK8_GROUP_ASM, MT_BLOCK8_OPERANDS, 64);
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
    if (c_out & 3) {
        const int32_t qw = last_q(q, c_out & 3);
        block_group(wb, qw, s);
        block_group(wb + 8, qw, s + 4);
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
// c_in / 4, a multiple of the block's width). Pass 1 turns them into their int8 first
// (ascending i, so each byte it writes, p * c_in + i, lies below the sums still to read) and
// sums only the rest: a quarter of pass 1 saved. Only where pass 0 neither reads the output
// (no accumulate) nor can fail after it (mt_grad_begin refuses an infinite amax, and amax <=
// 2^31 * c): a refused gradient leaves the output as it was.
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

// The first input channel a pass sums: pass 1 puts out the stashed sums (pass 0 left them)
// and goes on after them.
static int32_t stash_put(const conv_ctx *x, const sink *out, int32_t stash) {
    if (!stash || out->pass != 1) {
        return 0;
    }
    const int32_t c_in = x->in->c, pixels = x->in->n * x->in->h * x->in->w;
    const float c = x->c, inv = out->inv;
    int8_t *d = out->dst->q;
    for (int32_t p = 0; p < pixels; p++, d += c_in) {
        for (int32_t i = 0; i < stash; i++) {
            d[i] = q8_of(load_s32(d + 4 * i), c, inv);
        }
    }
    return stash;
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
    for (int32_t i0 = stash_put(x, out, stash); i0 < c_in; i0 += 4) {
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

// Every pixel's sums of eight input channels i0.. from wb (c_out <= MT_BLOCK8_C_OUT_MAX: one
// chunk). Out of line, as chunk_pixels.
__attribute__((noinline)) static void block8_pixels(const conv_ctx *x, sink *sink_out,
                                                    int32_t stash, const int32_t *wb,
                                                    int32_t i0) {
    const int32_t c_in = x->in->c, c_out = x->out->c, ni = c_in - i0 < 8 ? c_in - i0 : 8;
    const int32_t pixels = x->in->n * x->in->h * x->in->w;
    const float c = x->c;
    sink o = *sink_out, *out = &o;  // in a local: the int8 stores may alias it
    int8_t *const keep = o.pass == 0 && i0 < stash ? o.dst->q : 0;  // where pass 0 stashes
    const int8_t *q = x->q;
    for (int32_t p = 0; p < pixels; p++, q += c_out) {
        int32_t s[8];
        block_sums8(wb, q, c_out, s);
        const int32_t at = p * c_in + i0;
        put_sums(out, at, s, ni < 4 ? ni : 4, c);
        if (ni > 4) {
            put_sums(out, at + 4, s + 4, ni - 4, c);
        }
        if (keep) {
            __builtin_memcpy(keep + p * c_in + 4 * i0, s, 32);
        }
    }
    *sink_out = o;
}

// conv_blocks eight input channels at a time, for c_out <= MT_BLOCK8_C_OUT_MAX (one chunk):
// the sums take 0.89 instructions per MAC where four channels take 0.98, and the per-pixel
// steps are shared by twice the MACs. (noinline: its stack block and conv_blocks' are not
// both held.)
__attribute__((noinline)) static void conv_blocks8(const conv_ctx *x, sink *out,
                                                   int32_t stash) {
    int32_t wb[4 * MT_BLOCK8_C_OUT_MAX];
    for (int32_t i0 = stash_put(x, out, stash); i0 < x->in->c; i0 += 8) {
        fill_block(x, i0, 0, x->out->c, wb, 8);
        block8_pixels(x, out, stash, wb, i0);
    }
}

void mt_conv_q8_blocks(const conv_ctx *x, const mt_grad_params *grad, const mt_grad_dst *grad_in,
                       sink *out) {
    const int32_t width = x->out->c <= MT_BLOCK8_C_OUT_MAX ? 8 : 4;
    const int32_t stash = stash_channels(x, grad, grad_in, width);
    if (width == 8) {
        conv_blocks8(x, out, stash);
    } else {
        conv_blocks(x, out, stash);
    }
}
#else
typedef int mt_conv_q8_grad_in_blocks_unused;  // ISO C: a translation unit is never empty
#endif
