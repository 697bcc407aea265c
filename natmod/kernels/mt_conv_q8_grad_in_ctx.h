// SPDX-License-Identifier: MIT
// What mt_conv_q8_grad_in.c (the q8 dL/dx of conv2d, pwconv2d, fc) shares with its Cortex-M
// DSP block mode for 1x1 layers (mt_conv_q8_grad_in_blocks.c): the kernel's context and the
// block mode's entry points. Private to those two files.
#ifndef MT_CONV_Q8_GRAD_IN_CTX_H
#define MT_CONV_Q8_GRAD_IN_CTX_H

#include "mt_conv_q8_grad_in.h"
#include "mt_grad_sink.h"

// The hand-written inner steps: Thumb-2 only (A32 ldrd wants an even/odd register pair).
#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
#define MT_Q8_GIN_ASM 1
#else
#define MT_Q8_GIN_ASM 0
#endif

typedef struct {
    const mt_conv_params *params;
    const mt_dims *in, *filter, *out;
    const int8_t *w, *q;
    const int16_t *m;  // m[c_out]
    int16_t *qm;       // q * m of one output pixel [c_out] (block mode: chunks' sums)
    int32_t *acc;      // one sum per input channel (kh * kw > 1 only)
    float c;
    // A layer learning k input channels (mt_pwconv2d_split_q8_grad_in): column channels[j] of
    // the filter is learned[. * k + j]; NULL otherwise.
    const int8_t *learned;
    const int32_t *channels;
    int32_t k;
} conv_ctx;

#if defined(__ARM_FEATURE_DSP)
// A 1x1 stride-1 unpadded layer with enough pixels for the block mode.
int mt_conv_q8_blocks_fit(const conv_ctx *x);

// One pass of the kernel's two (out: the sink started for it) in the block mode.
void mt_conv_q8_blocks(const conv_ctx *x, const mt_grad_params *grad, const mt_grad_dst *grad_in,
                       sink *out);
#endif

#endif
