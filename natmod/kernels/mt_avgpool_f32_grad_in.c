// SPDX-License-Identifier: MIT
#include "mt_avgpool_f32_grad_in.h"

typedef struct {
    const mt_grad_src *grad_out;
    int32_t c;
    float area;
} spread;

// Each input element gets its channel's output gradient divided by the pooled area: one value
// per (n, channel), so mt_grad_write_per_channel.
static float spread_value(const void *ctx, int32_t n, int32_t y, int32_t x, int32_t ch) {
    const spread *s = ctx;
    (void)y;
    (void)x;
    return mt_grad_get(s->grad_out, n * s->c + ch) / s->area;
}

mt_status mt_avgpool_f32_grad_in(const mt_dims *input_dims, const mt_grad_dst *grad_in,
                                 int32_t accumulate, const mt_grad_src *grad_out) {
    int32_t count;
    mt_status st = mt_dims_count(input_dims, &count);
    if (st != MT_OK) {
        return st;
    }
    const spread s = {grad_out, input_dims->c, (float)(input_dims->h * input_dims->w)};
    return mt_grad_write_per_channel(grad_in, input_dims, accumulate, spread_value, &s);
}
