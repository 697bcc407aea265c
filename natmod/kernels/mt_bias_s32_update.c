// SPDX-License-Identifier: MIT
#include "mt_bias_s32_update.h"

// Channels whose sums are held at once, on the stack (128 bytes).
#define CHUNK 32

mt_status mt_bias_s32_update(const mt_update_params *update, const mt_dims *output_dims,
                             int32_t *bias, const float *bias_scale,
                             const mt_update_state *state, const mt_grad_src *grad_out) {
    int32_t count;
    mt_status st = mt_dims_count(output_dims, &count);
    if (st != MT_OK ||
        (st = mt_qas_check_scales(update, state, bias_scale, output_dims->c)) != MT_OK) {
        return st;
    }
    if (grad_out->f || !grad_out->q) {
        return MT_ERR_ARGS;
    }
    const int32_t channels = output_dims->c, pixels = count / channels;
    if (pixels > MT_BIAS_MAX_PIXELS) {
        return MT_ERR_SIZE;
    }
    int32_t acc[CHUNK];
    for (int32_t c0 = 0; c0 < channels; c0 += CHUNK) {
        const int32_t left = channels - c0, n = left < CHUNK ? left : CHUNK;
        for (int32_t i = 0; i < n; i++) {
            acc[i] = 0;
        }
        const int8_t *q = grad_out->q + c0;
        for (int32_t p = 0; p < pixels; p++, q += channels) {
            for (int32_t i = 0; i < n; i++) {
                acc[i] += q[i];
            }
        }
        for (int32_t i = 0; i < n; i++) {
            const int32_t c = c0 + i;
            const float g = (float)acc[i] * grad_out->scale;
            bias[c] = mt_qas_update_element(update, state, c, g, bias_scale[c], bias[c],
                                            MT_BIAS_MIN, MT_BIAS_MAX);
        }
    }
    return MT_OK;
}
