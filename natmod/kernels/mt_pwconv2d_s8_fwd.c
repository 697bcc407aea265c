// SPDX-License-Identifier: MIT
#include "mt_pwconv2d_s8_fwd.h"

#include "mt_check.h"
#include "mt_dot2_offset_s8.h"
#include "mt_pw_pair.h"
#include "mt_requant.h"
#include "mt_x64.h"
#include "mt_xtensa.h"


static inline int8_t pw_output(const mt_pw_out *o, int32_t acc, int32_t c) {
    return mt_requant_s8(mt_add_sat_s32(acc, o->bias[c]), o->mult[c], o->shift[c], o->out_offset,
                         o->act_min, o->act_max);
}

// One output pixel, every channel: two filter rows per pass over x; an odd last row is paired
// with itself.
static void pw_pixel(const mt_pw_out *o, const int8_t *x, const int8_t *filter,
                     int32_t c_in, int32_t c_out, int8_t *y) {
    for (int32_t oc = 0; oc < c_out; oc += 2) {
        const int32_t oc1 = oc + 1 < c_out ? oc + 1 : oc;
        int32_t acc[2];
        mt_dot2_offset_s8(filter + oc * c_in, filter + oc1 * c_in, x, c_in, o->in_offset, acc);
        y[oc] = pw_output(o, acc[0], oc);
        if (oc + 1 < c_out) {
            y[oc + 1] = pw_output(o, acc[1], oc + 1);
        }
    }
}

#if MT_XTENSA_MAC16
// ESP32 / ESP32-S3, where mt_xt_s8_rows_fit: the pixel's x + offset widened once into an int16
// vector on the stack, then each filter row against it with MAC16 (mt_xtensa.h). The pixel's
// input is read before its outputs are written (the in-place contract).
static void pw_pixel_xtensa(const mt_pw_out *o, const int8_t *x, const int8_t *filter,
                            int32_t c_in, int32_t c_out, int8_t *y) {
    int32_t x16_words[MT_XT_VEC_HALVES_MAX / 2 + 1];
    int16_t *const x16 = (int16_t *)x16_words;
    int32_t acc[MT_XT_ROWS_MAX];
    mt_xt_widen_s8(x, 0, c_in, o->in_offset, x16);
    for (int32_t oc = 0; oc < c_out; oc += MT_XT_ROWS_MAX) {
        const int32_t n = c_out - oc < MT_XT_ROWS_MAX ? c_out - oc : MT_XT_ROWS_MAX;
        mt_xt_rows_s8_s16(filter + oc * c_in, x16, c_in / 4, n, acc);
        for (int32_t j = 0; j < n; j++) {
            y[oc + j] = pw_output(o, acc[j], oc + j);
        }
    }
}
#endif

typedef void pw_pixel_fn(const mt_pw_out *o, const int8_t *x, const int8_t *filter,
                         int32_t c_in, int32_t c_out, int8_t *y);

// Any stride (and every machine): pixel by pixel.
static void pw_by_pixel(const mt_conv_params *params, const mt_pw_out *o,
                        const mt_dims *input_dims, const int8_t *input, const int8_t *filter,
                        const mt_dims *output_dims, int8_t *output, pw_pixel_fn *pixel) {
    const int32_t c_in = input_dims->c, c_out = output_dims->c;
    for (int32_t b = 0; b < output_dims->n; b++) {
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int8_t *x = input + (b * input_dims->h + oy * params->stride_h) *
                                          input_dims->w * c_in;
            int8_t *y = output + (b * output_dims->h + oy) * output_dims->w * c_out;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                pixel(o, x, filter, c_in, c_out, y);
                x += params->stride_w * c_in;
                y += c_out;
            }
        }
    }
}

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"

// The filter half of a step of the 2x2 sums: 4 channels of rows 1 and 0 (t4 t5 their
// halfwords) against the pixels' halfwords t0..t3 (pixel 0 even/odd, pixel 1 even/odd).
#define PW_ROWS_STEP                                  \
    "ldr     %[t5], [%[w], %[c]]\n\t" /* row 1 */   \
    "sxtb16  %[t4], %[t5]\n\t"                      \
    "sxtb16  %[t5], %[t5], ror #8\n\t"              \
    "smlad   %[a10], %[t4], %[t0], %[a10]\n\t"      \
    "smlad   %[a10], %[t5], %[t1], %[a10]\n\t"      \
    "smlad   %[a11], %[t4], %[t2], %[a11]\n\t"      \
    "smlad   %[a11], %[t5], %[t3], %[a11]\n\t"      \
    "ldr     %[t5], [%[w]], #4\n\t" /* row 0 */     \
    "sxtb16  %[t4], %[t5]\n\t"                      \
    "sxtb16  %[t5], %[t5], ror #8\n\t"              \
    "smlad   %[a00], %[t4], %[t0], %[a00]\n\t"      \
    "smlad   %[a01], %[t4], %[t2], %[a01]\n\t"      \
    "smlad   %[a00], %[t5], %[t1], %[a00]\n\t"      \
    "smlad   %[a01], %[t5], %[t3], %[a01]\n\t"

// One step of the 2x2 sums from the int8 input (x + offset extended here); ends comparing x
// with the loop's end (xend, in memory).
#define DOT_2X2_STEP                                  \
    "ldr     %[t3], [%[x], %[c]]\n\t"               \
    "ldr     %[t1], [%[x]], #4\n\t"                 \
    "sxtab16 %[t0], %[off2], %[t1]\n\t"             \
    "sxtab16 %[t1], %[off2], %[t1], ror #8\n\t"     \
    "sxtab16 %[t2], %[off2], %[t3]\n\t"             \
    "sxtab16 %[t3], %[off2], %[t3], ror #8\n\t"     \
    PW_ROWS_STEP                                    \
    "ldr     %[t4], %[xend]\n\t"                    \
    "cmp     %[x], %[t4]\n\t"

// acc[2 r + p] = sum of w_r (x_p + offset) over c, for 2 filter rows (w, w + c) and 2 input
// pixels (x, x + c): each loaded word feeds two smlad pairs, 16 MACs from 4 loads; sxtab16 adds
// the offset (both halfwords of off2) while it extends x, so no filter sum is needed (the same
// integers, see mt_dot2_offset_s8.h). The loop is one asm block: in C, gcc neither
// post-increments the pointers nor keeps them in registers. x, w, c, off2, the 4 sums and 6
// temporaries take the 14 registers there are, so the loop's end lives on the stack and is
// reloaded into a temporary that is free by then (23 instructions a step).
MT_DSP_INLINE void dot_2x2_s8(const int8_t *x, const int8_t *w, int32_t c, int32_t offset,
                              int32_t off2, int32_t acc[4]) {
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
    const int8_t *end = x + (c & ~3);
    if (x != end) {
        int32_t x0e, x0o, x1e, x1o, we, wo;  // pixel 0/1, bytes 0,2 (e) and 1,3 (o)
        __asm__("1:\n\t" DOT_2X2_STEP "bne     1b"
                : [x] "+r"(x), [w] "+r"(w), [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10),
                  [a11] "+r"(a11), [t0] "=&r"(x0e), [t1] "=&r"(x0o), [t2] "=&r"(x1e),
                  [t3] "=&r"(x1o), [t4] "=&r"(we), [t5] "=&r"(wo)
                : [c] "r"(c), [off2] "r"(off2), [xend] "m"(end)
                : "cc", "memory");
    }
    for (int32_t i = 0; i < (c & 3); i++) {
        a00 += w[i] * (x[i] + offset);
        a01 += w[i] * (x[c + i] + offset);
        a10 += w[c + i] * (x[i] + offset);
        a11 += w[c + i] * (x[c + i] + offset);
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

// One output of a prepared channel: the layer's clamp, or (full_range, a constant where this
// is inlined) the whole int8 range.
MT_DSP_INLINE int8_t pw_requant(int32_t acc, const mt_requant_dsp_channel *ch, int32_t out_offset,
                                int32_t act_min, int32_t act_max, int full_range) {
    return full_range ? mt_requant_dsp_s8_full_range(acc, ch, out_offset)
                      : mt_requant_dsp_s8(acc, ch, out_offset, act_min, act_max);
}

// The channel loop of mt_pw_pair_dsp, once per full_range value so that neither the test nor
// the clamp's bounds live in the loop. Pointers step through bias, multipliers, shifts and the
// two output pixels: at -Os gcc keeps fewer induction variables on the stack that way.
MT_DSP_INLINE void pw_pair_channels(const mt_pw_out *o, const int8_t *x, int32_t c_in,
                                    const int8_t *w, int32_t c_out, int8_t *y, int full_range) {
    const int32_t *bias = o->bias, *mult = o->mult, *shift = o->shift;
    const int32_t in_offset = o->in_offset, out_offset = o->out_offset;
    const int32_t act_min = o->act_min, act_max = o->act_max;
    const int32_t off2 = (int32_t)(((uint32_t)in_offset & 0xffffu) * 0x00010001u);
    for (const int8_t *y_end = y + c_out; y != y_end; y += 2, w += 2 * c_in) {
        int32_t acc[4];
        dot_2x2_s8(x, w, c_in, in_offset, off2, acc);
        mt_requant_dsp_channel ch0, ch1;
        mt_requant_dsp_prepare(*bias++, *mult++, *shift++, &ch0);
        mt_requant_dsp_prepare(*bias++, *mult++, *shift++, &ch1);
        y[0] = pw_requant(acc[0], &ch0, out_offset, act_min, act_max, full_range);
        y[c_out] = pw_requant(acc[1], &ch0, out_offset, act_min, act_max, full_range);
        y[1] = pw_requant(acc[2], &ch1, out_offset, act_min, act_max, full_range);
        y[c_out + 1] = pw_requant(acc[3], &ch1, out_offset, act_min, act_max, full_range);
    }
}

// The requantization of one accumulator a (bias already in it) of a prepared channel (m, sh =
// shift_hi, rh = round_hi, mt_requant_dsp_core with m >= 0, so the sign of x^m is a's), plus
// the output offset, saturated to int8 and stored at `dst`; lo and hi are scratch.
#define PW_REQUANT_STORE(a, dst)                                 \
    "and   %[t0], %[" a "], #0x80000000\n\t"                   \
    "orr   %[t0], %[t0], #0x40000000\n\t"                      \
    "add   %[t2], %[t5], %[" a "], asr #31\n\t"                \
    "smlal %[t0], %[t2], %[" a "], %[t3]\n\t"                  \
    "asr   %[t2], %[t2], %[t1]\n\t"                            \
    "add   %[t2], %[t2], %[off2]\n\t"                          \
    "ssat  %[t2], #8, %[t2]\n\t"                               \
    "strb  %[t2], " dst "\n\t"

// The channel at mult[0] and shift (sdiff bytes after it) prepared: t3 = m, t1 = shift_hi,
// t5 = round_hi (mt_requant_dsp_prepare).
#define PW_PREPARE_CHANNEL(load_m)                               \
    "ldr   %[t4], %[sdiff]\n\t"                                \
    load_m                                                      \
    "ldr   %[t1], [%[t0], %[t4]]\n\t"                          \
    "mvn   %[t1], %[t1]\n\t"                                   \
    "sub   %[t5], %[t1], #1\n\t"                               \
    "mov   %[t2], #1\n\t"                                      \
    "lsl   %[t5], %[t2], %[t5]\n\t"

// The start of a block: its 4 sums at the channels' biases (no sum can saturate: the applies
// test), the bias pointer moved on by 2.
#define PW_BIAS_START                                           \
    "ldr   %[t0], %[biasp]\n\t"                                 \
    "ldrd  %[a00], %[a10], [%[t0]], #8\n\t"                     \
    "str   %[t0], %[biasp]\n\t"                                 \
    "mov   %[a01], %[a00]\n\t"                                  \
    "mov   %[a11], %[a10]\n\t"

// The end of a block, with w at filter row 1 (the next pair's row 0 is c_in on): both
// channels' two outputs, then on to the next pair of channels (label 0) until y's end. From
// here x holds y, c c_out and off2 the output offset.
#define PW_BLOCK_OUTPUTS(bias_add0, bias_add1)                  \
    "add   %[w], %[w], %[c]\n\t"                                \
    "ldr   %[x], %[yp]\n\t"                                     \
    "ldr   %[c], %[cout]\n\t"                                   \
    "ldr   %[off2], %[ooff]\n\t"                                \
    bias_add0                                                   \
    "ldr   %[t0], %[multp]\n\t"                                 \
    PW_PREPARE_CHANNEL("ldr   %[t3], [%[t0]]\n\t")              \
    PW_REQUANT_STORE("a00", "[%[x]]")                           \
    PW_REQUANT_STORE("a01", "[%[x], %[c]]")                     \
    bias_add1                                                   \
    "ldr   %[t0], %[multp]\n\t"                                 \
    PW_PREPARE_CHANNEL("ldr   %[t3], [%[t0], #4]!\n\t")         \
    "add   %[t0], %[t0], #4\n\t"                                \
    "str   %[t0], %[multp]\n\t"                                 \
    "add   %[x], %[x], #1\n\t"                                  \
    PW_REQUANT_STORE("a10", "[%[x]]")                           \
    PW_REQUANT_STORE("a11", "[%[x], %[c]]")                     \
    "add   %[x], %[x], #1\n\t"                                  \
    "str   %[x], %[yp]\n\t"                                     \
    "ldr   %[t0], %[yend]\n\t"                                  \
    "cmp   %[x], %[t0]\n\t"                                     \
    "bne   0b"

// The saturating form's start and bias adds (mt_add_sat_s32, as the C form): for layers with
// a bias near the int32 limits (models clamp dead channels' biases there).
#define PW_ZERO_START                                           \
    "mov   %[a00], #0\n\t"                                      \
    "mov   %[a01], #0\n\t"                                      \
    "mov   %[a10], #0\n\t"                                      \
    "mov   %[a11], #0\n\t"
#define PW_QADD_BIAS0                                           \
    "ldr   %[t0], %[biasp]\n\t"                                 \
    "ldr   %[t4], [%[t0]]\n\t"                                  \
    "qadd  %[a00], %[a00], %[t4]\n\t"                           \
    "qadd  %[a01], %[a01], %[t4]\n\t"
#define PW_QADD_BIAS1                                           \
    "ldr   %[t0], %[biasp]\n\t"                                 \
    "ldr   %[t4], [%[t0], #4]\n\t"                              \
    "add   %[t0], %[t0], #8\n\t"                                \
    "str   %[t0], %[biasp]\n\t"                                 \
    "qadd  %[a10], %[a10], %[t4]\n\t"                           \
    "qadd  %[a11], %[a11], %[t4]\n\t"

// Both asm loops' operands: 14 registers, the rest locals that gcc addresses from sp.
#define PW_ASM_OPERANDS                                                                        \
    : [w] "+r"(w), [x] "=&r"(x), [c] "=&r"(c), [off2] "=&r"(off2), [a00] "=&r"(a00),           \
      [a01] "=&r"(a01), [a10] "=&r"(a10), [a11] "=&r"(a11), [t0] "=&r"(t0), [t1] "=&r"(t1),    \
      [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4), [t5] "=&r"(t5), [biasp] "+m"(biasp),     \
      [multp] "+m"(multp), [yp] "+m"(yp)                                                       \
    : [xb] "m"(xb), [xend] "m"(xend), [cin] "m"(cin), [o2] "m"(o2), [tail] "m"(tail),          \
      [cout] "m"(cout), [ooff] "m"(ooff), [sdiff] "m"(sdiff), [yend] "m"(yend)                 \
    : "cc", "memory"

// The locals both asm loops read: the pair's input from xb to xend, the layer's constants.
#define PW_ASM_LOCALS(x_begin, x_end)                                                          \
    const void *const xb = (x_begin), *const xend = (x_end);                                   \
    const int32_t cin = c_in, tail = c_in & 3, cout = c_out, ooff = o->out_offset;              \
    const int32_t o2 = (int32_t)(((uint32_t)o->in_offset & 0xffffu) * 0x00010001u);            \
    const int32_t sdiff = (int32_t)((const char *)o->shift - (const char *)o->mult);            \
    const int8_t *const yend = y + c_out;                                                      \
    const int32_t *biasp = o->bias, *multp = o->mult;                                          \
    int8_t *yp = y;                                                                            \
    int32_t x, c, off2, a00, a01, a10, a11, t0, t1, t2, t3, t4, t5

// mt_pw_pair_dsp for a layer where mt_pw_pair_dsp_asm_applies: the whole loop over channel
// pairs in one asm block, so that nothing is spilled between the 2x2 sums and the four
// requantizations (gcc's C for the same work kept its pointers on the stack: about 105
// instructions a block besides the sums, here about 73). Each block: the sums started at the
// bias, dot_2x2_s8's steps, a byte loop for c_in % 4, then each channel's two outputs.
static void pw_pair_full_range_asm(const mt_pw_out *o, const int8_t *x_pair, int32_t c_in,
                                   const int8_t *w, int32_t c_out, int8_t *y) {
    PW_ASM_LOCALS(x_pair, x_pair + (c_in & ~3));
    __asm__ volatile(
        "0:\n\t"
        "ldr   %[x], %[xb]\n\t"
        "ldr   %[c], %[cin]\n\t"
        "ldr   %[off2], %[o2]\n\t"
        PW_BIAS_START
        "ldr   %[t0], %[xend]\n\t"
        "cmp   %[x], %[t0]\n\t"
        "beq   2f\n\t"
        "1:\n\t" DOT_2X2_STEP
        "bne     1b\n\t"
        "2:\n\t"  // c_in % 4 bytes, one at a time
        "ldr   %[t0], %[tail]\n\t"
        "cmp   %[t0], #0\n\t"
        "beq   4f\n\t"
        "sxth  %[t1], %[off2]\n\t"
        "3:\n\t"
        "ldrsb %[t2], [%[x], %[c]]\n\t"
        "ldrsb %[t3], [%[x]], #1\n\t"
        "add   %[t2], %[t2], %[t1]\n\t"
        "add   %[t3], %[t3], %[t1]\n\t"
        "ldrsb %[t4], [%[w], %[c]]\n\t"
        "ldrsb %[t5], [%[w]], #1\n\t"
        "mla   %[a00], %[t5], %[t3], %[a00]\n\t"
        "mla   %[a01], %[t5], %[t2], %[a01]\n\t"
        "mla   %[a10], %[t4], %[t3], %[a10]\n\t"
        "mla   %[a11], %[t4], %[t2], %[a11]\n\t"
        "subs  %[t0], %[t0], #1\n\t"
        "bne   3b\n\t"
        "4:\n\t"
        PW_BLOCK_OUTPUTS("", "")
        PW_ASM_OPERANDS);
}

// Input channels the widened form holds (1 KB of stack).
#define PW_WIDE_MAX 256

// One step of the widened sums: 4 channels' halfwords of both pixels from the buffer.
#define PW_WIDE_STEP                                            \
    "ldrd    %[t0], %[t1], [%[x]], #8\n\t"                      \
    "ldrd    %[t2], %[t3], [%[x]], #8\n\t"                      \
    PW_ROWS_STEP

// The widened loop with a given start of the sums and bias adds; the loop's end in off2.
#define PW_WIDE_LOOP(start, bias_add0, bias_add1)               \
    "0:\n\t"                                                    \
    "ldr   %[x], %[xb]\n\t"                                     \
    "ldr   %[c], %[cin]\n\t"                                    \
    "ldr   %[off2], %[xend]\n\t"                                \
    start                                                       \
    "1:\n\t" PW_WIDE_STEP                                       \
    "cmp     %[x], %[off2]\n\t"                                 \
    "bne     1b\n\t"                                            \
    PW_BLOCK_OUTPUTS(bias_add0, bias_add1)

// The sums and outputs of pw_pair_widened_asm over its widened input `wide` (c_in words),
// sums started at the bias or (saturating) added to it. A function of its own: beside the
// 1 KB buffer, gcc at -Os found no registers for the asm.
__attribute__((noinline)) static void pw_pair_widened_loop(const mt_pw_out *o,
                                                           const int32_t *wide, int32_t c_in,
                                                           const int8_t *w, int32_t c_out,
                                                           int8_t *y, bool saturating) {
    PW_ASM_LOCALS(wide, wide + c_in);
    if (saturating) {
        __asm__ volatile(PW_WIDE_LOOP(PW_ZERO_START, PW_QADD_BIAS0, PW_QADD_BIAS1)
                         PW_ASM_OPERANDS);
    } else {
        __asm__ volatile(PW_WIDE_LOOP(PW_BIAS_START, "", "") PW_ASM_OPERANDS);
    }
}

// pw_pair_full_range_asm for c_in a multiple of 4 up to PW_WIDE_MAX: the pair's input widened
// once (x + offset as halfwords, in the order the sums take them: per 4 channels pixel 0's
// even and odd, then pixel 1's), so each step of the sums loads 4 words (2 ldrd) instead of
// extending 2 and keeps its end in a register: 18 instructions a step instead of 23.
static void pw_pair_widened_asm(const mt_pw_out *o, const int8_t *x_pair, int32_t c_in,
                                const int8_t *w, int32_t c_out, int8_t *y) {
    int32_t wide[PW_WIDE_MAX];
    const int32_t offsets = (int32_t)(((uint32_t)o->in_offset & 0xffffu) * 0x00010001u);
    for (int32_t i = 0; i < c_in; i += 4) {
        const int32_t v0 = load_s8x4(x_pair + i), v1 = load_s8x4(x_pair + c_in + i);
        wide[i] = __sxtab16(offsets, v0);
        wide[i + 1] = sxtab16_ror8(offsets, v0);
        wide[i + 2] = __sxtab16(offsets, v1);
        wide[i + 3] = sxtab16_ror8(offsets, v1);
    }
    pw_pair_widened_loop(o, wide, c_in, w, c_out, y, o->asm_block == MT_PW_ASM_SATURATING);
}
#undef PW_ASM_LOCALS
#undef PW_ASM_OPERANDS
#undef PW_BLOCK_OUTPUTS
#undef PW_BIAS_START
#undef PW_ZERO_START
#undef PW_QADD_BIAS0
#undef PW_QADD_BIAS1
#undef PW_WIDE_STEP
#undef PW_WIDE_LOOP
#undef PW_REQUANT_STORE
#undef PW_PREPARE_CHANNEL
#undef DOT_2X2_STEP
#undef PW_ROWS_STEP

// Every output channel of 2 pixels whose inputs are x[0, c_in) and x[c_in, 2 c_in), into
// y[0, c_out) and y[c_out, 2 c_out): 2 filter rows x 2 pixels a block. Even c_out, every
// shift <= -2 (the prepared requantization): mt_pw_pair_dsp_applies.
void mt_pw_pair_dsp(const mt_pw_out *o, const int8_t *x, int32_t c_in, const int8_t *filter,
                    int32_t c_out, int8_t *y) {
    if (o->asm_block != MT_PW_ASM_NONE && c_in % 4 == 0 && c_in <= PW_WIDE_MAX && c_out >= 8) {
        pw_pair_widened_asm(o, x, c_in, filter, c_out, y);
    } else if (o->asm_block == MT_PW_ASM_BIAS_START) {
        pw_pair_full_range_asm(o, x, c_in, filter, c_out, y);
    } else if (o->act_min == -128 && o->act_max == 127) {
        pw_pair_channels(o, x, c_in, filter, c_out, y, 1);
    } else {
        pw_pair_channels(o, x, c_in, filter, c_out, y, 0);
    }
}

// Stride 1: output pixel i reads input pixel i, so the batch is one run of pixels. Pixel-pair
// major (the in-place contract in the header): a pair's outputs are written only after every
// earlier pair's input is read. An odd last pixel goes through pw_pixel.
static void pw_stride1_dsp(const mt_pw_out *o, int32_t pixels, const int8_t *input,
                           int32_t c_in, const int8_t *filter, int32_t c_out, int8_t *output) {
    const int32_t pairs_end = pixels & ~1;
    for (int32_t p = 0; p < pairs_end; p += 2) {
        mt_pw_pair_dsp(o, input + p * c_in, c_in, filter, c_out, output + p * c_out);
    }
    if (pairs_end < pixels) {
        pw_pixel(o, input + pairs_end * c_in, filter, c_in, c_out, output + pairs_end * c_out);
    }
}

mt_pw_asm mt_pw_pair_dsp_asm_applies(const mt_pw_out *o, int32_t c_in, int32_t c_out) {
    if (o->act_min != -128 || o->act_max != 127) {
        return MT_PW_ASM_NONE;
    }
    // Starting the sums at the bias adds it without saturation: exact while no sum can reach
    // the int32 limits (|sum| <= c_in 128 255).
    const int32_t bias_limit = INT32_MAX - c_in * (128 * 255);
    mt_pw_asm form = MT_PW_ASM_BIAS_START;
    for (int32_t i = 0; i < c_out; i++) {
        if (o->mult[i] < 0) {
            return MT_PW_ASM_NONE;
        }
        if (o->bias[i] > bias_limit || o->bias[i] < -bias_limit) {
            form = MT_PW_ASM_SATURATING;
        }
    }
    return form;
}

bool mt_pw_pair_dsp_applies(const int32_t *shift, int32_t c_out) {
    if (c_out % 2 != 0) {
        return false;
    }
    for (int32_t i = 0; i < c_out; i++) {
        if (shift[i] > -2) {
            return false;
        }
    }
    return true;
}
#endif

bool mt_pwconv2d_s8_fwd_applies(const mt_conv_params *params, const mt_dims *filter_dims) {
    return filter_dims->h == 1 && filter_dims->w == 1 && params->pad_h == 0 && params->pad_w == 0;
}

mt_status mt_pwconv2d_s8_fwd(const mt_conv_params *params, const mt_quant_params *quant,
                             const mt_dims *input_dims, const int8_t *input,
                             const mt_dims *filter_dims, const int8_t *filter,
                             const int32_t *bias, const mt_dims *output_dims, int8_t *output) {
    if (!mt_pwconv2d_s8_fwd_applies(params, filter_dims)) {
        return MT_ERR_PARAM;
    }
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c_in = input_dims->c;
    const int32_t c_out = output_dims->c;
    if (filter_dims->c != c_in || filter_dims->n != c_out || c_in > MT_MAX_ACC_TERMS) {
        return MT_ERR_SHAPE;
    }
    if ((st = mt_act_check(&params->act)) != MT_OK ||
        (st = mt_quant_check(quant, c_out)) != MT_OK) {
        return st;
    }
    const mt_act_params *act = &params->act;
    // In locals: an int8 store may alias any object, so fields would be reloaded per output.
    mt_pw_out o = {bias, quant->multiplier, quant->shift, act->input_offset,
                   act->output_offset, act->act_min, act->act_max, MT_PW_ASM_NONE};
#if MT_X64
    if (mt_pwconv2d_s8_fwd_x64(params, quant, input_dims, input, filter, bias, output_dims,
                               output)) {
        return MT_OK;
    }
#endif
#if defined(__ARM_FEATURE_DSP)
    if (params->stride_h == 1 && params->stride_w == 1 &&
        mt_pw_pair_dsp_applies(quant->shift, c_out)) {
        // 1x1, no padding, stride 1: output dims equal the input's (mt_conv_dims_check).
        o.asm_block = mt_pw_pair_dsp_asm_applies(&o, c_in, c_out);
        pw_stride1_dsp(&o, input_dims->n * input_dims->h * input_dims->w, input, c_in, filter,
                       c_out, output);
        return MT_OK;
    }
#endif
#if MT_XTENSA_MAC16
    if (mt_xt_s8_rows_fit(c_in, filter)) {
        pw_by_pixel(params, &o, input_dims, input, filter, output_dims, output, pw_pixel_xtensa);
        return MT_OK;
    }
#endif
    pw_by_pixel(params, &o, input_dims, input, filter, output_dims, output, pw_pixel);
    return MT_OK;
}
