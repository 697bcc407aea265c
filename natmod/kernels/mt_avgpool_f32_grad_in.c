// SPDX-License-Identifier: MIT
#include "mt_avgpool_f32_grad_in.h"

typedef struct {
    const mt_grad_src *grad_out;
    int32_t per_image;  // h * w * c: input elements of one image
    int32_t c;
    float area;
} spread;

// Each input element gets its channel's output gradient divided by the pooled area.
static float spread_value(const void *ctx, int32_t i) {
    const spread *s = ctx;
    return mt_grad_get(s->grad_out, i / s->per_image * s->c + i % s->c) / s->area;
}

mt_status mt_avgpool_f32_grad_in(const mt_dims *input_dims, const mt_grad_dst *grad_in,
                                 int32_t accumulate, const mt_grad_src *grad_out) {
    int32_t count;
    mt_status st = mt_dims_count(input_dims, &count);
    if (st != MT_OK) {
        return st;
    }
    const int32_t positions = input_dims->h * input_dims->w;
    const spread s = {grad_out, positions * input_dims->c, input_dims->c, (float)positions};
    return mt_grad_write(grad_in, count, accumulate, spread_value, &s);
}
