// SPDX-License-Identifier: MIT
// The sums of a conv's or depthwise conv's weight gradient, one kernel tap at a time.
#ifndef MT_CONV_GRAD_W_H
#define MT_CONV_GRAD_W_H

#include "mt_grad.h"

// Which weight-gradient elements a tap sum computes: tap (ky, kx), saved input channels
// j0 .. j0+count-1, read against grad_out channel co (a conv), or channel channels[j] (NULL:
// j) when depthwise is 1.
typedef struct {
    int32_t ky, kx, j0, count;
    int32_t co;
    int32_t depthwise;
    const int32_t *channels;
} mt_grad_w_tap;

// sum[i] = sum over n, oy, ox of grad_out[n,oy,ox,co] * (x[n,iy,ix,j0+i] + input_offset), for
// i < tap->count, with iy = oy*stride_h - pad_h + ky (same for x); padded taps add nothing.
// Not yet times s_x. The output pixels are the outer loop and the channels the inner one, so
// the weights of a tap share one pass over the gradient, while each sum still adds its terms
// in the order n, oy, ox from 0.0f: the bytes of one element's loop (the references' order).
// Dims already checked.
void mt_conv_grad_w_tap_sums(const mt_conv_params *params, const mt_grad_params *grad,
                             const mt_dims *input_dims, const int8_t *input,
                             const mt_dims *output_dims, const mt_grad_src *grad_out,
                             const mt_grad_w_tap *tap, float *sum);

#endif
