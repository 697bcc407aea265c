// SPDX-License-Identifier: MIT
// The pointwise kernel's inner block, shared with mt_conv2d_s8_fwd's im2col path: a matrix of
// filter rows times two input columns, requantized. The DSP form is for cores with the DSP
// extension (Cortex-M4/M7); the header holds only what those two kernels need.
#ifndef MT_PW_PAIR_H
#define MT_PW_PAIR_H

#include <stdbool.h>
#include <stdint.h>

// Which asm form of the DSP path a layer may take (mt_pw_pair_dsp_asm_applies).
typedef enum {
    MT_PW_ASM_NONE,        // the C form
    MT_PW_ASM_BIAS_START,  // sums started at the bias: none can saturate
    MT_PW_ASM_SATURATING,  // some bias near the int32 limits: added saturating, as in C
} mt_pw_asm;

// What every output of a layer shares: per-channel bias and requantization, the offsets and
// the fused activation's clamp.
typedef struct {
    const int32_t *bias, *mult, *shift;
    int32_t in_offset, out_offset, act_min, act_max;
    mt_pw_asm asm_block;  // the DSP path's asm form (mt_pw_pair_dsp_asm_applies)
} mt_pw_out;

#if defined(__ARM_FEATURE_DSP)
// Every output channel of 2 pixels, their inputs x[0, c_in) and x[c_in, 2 c_in) (offset by
// in_offset as they are read), into y[0, c_out) and y[c_out, 2 c_out); filter rows of c_in
// bytes, contiguous. Only where mt_pw_pair_dsp_applies: even c_out, every shift <= -2.
void mt_pw_pair_dsp(const mt_pw_out *o, const int8_t *x, int32_t c_in, const int8_t *filter,
                    int32_t c_out, int8_t *y);
bool mt_pw_pair_dsp_applies(const int32_t *shift, int32_t c_out);
// The whole-loop asm form a layer may run: it needs the whole int8 range as its clamp and
// multipliers >= 0 (TFLite's always are); biases far enough from the int32 limits let the sums
// start at them, others are added saturating (only in the widened form).
mt_pw_asm mt_pw_pair_dsp_asm_applies(const mt_pw_out *o, int32_t c_in, int32_t c_out);
#endif

#endif
