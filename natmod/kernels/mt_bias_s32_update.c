// SPDX-License-Identifier: MIT
#include "mt_bias_s32_update.h"

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"
#endif

// Channels whose sums are held at once, on the stack (128 bytes).
#define CHUNK 32

#if defined(__ARM_FEATURE_DSP)
// Pixels a halfword sum takes: 256 * -128 = -32768 and 256 * 127 still fit an int16.
#define HALF_PIXELS 256

// acc[0..4 * quads) += the sums of 4 * quads channels (quads 1 or 2, a constant where this is
// inlined) at q over `pixels` pixels `stride` bytes apart: sxtab16 adds channels 0 and 2, 1 and
// 3 of each 4 into int16 halfwords, exact over blocks of HALF_PIXELS, then widened. The
// integers are the portable loop's.
MT_DSP_INLINE void sums_quads(const int8_t *q, int32_t stride, int32_t pixels, int32_t *acc,
                              int quads) {
    while (pixels > 0) {
        const int32_t n = pixels < HALF_PIXELS ? pixels : HALF_PIXELS;
        int32_t even = 0, odd = 0, even2 = 0, odd2 = 0;
        for (const int8_t *end = q + n * stride; q != end; q += stride) {
            const int32_t v = load_s8x4(q);
            even = __sxtab16(even, v);
            odd = sxtab16_ror8(odd, v);
            if (quads == 2) {
                const int32_t v2 = load_s8x4(q + 4);
                even2 = __sxtab16(even2, v2);
                odd2 = sxtab16_ror8(odd2, v2);
            }
        }
        acc[0] += (int16_t)(uint16_t)even;
        acc[1] += (int16_t)(uint16_t)odd;
        acc[2] += even >> 16;
        acc[3] += odd >> 16;
        if (quads == 2) {
            acc[4] += (int16_t)(uint16_t)even2;
            acc[5] += (int16_t)(uint16_t)odd2;
            acc[6] += even2 >> 16;
            acc[7] += odd2 >> 16;
        }
        pixels -= n;
    }
}
#endif

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
        int32_t i0 = 0;  // the channels the portable loop sums
#if defined(__ARM_FEATURE_DSP)
        for (; i0 + 8 <= n; i0 += 8) {
            sums_quads(q + i0, channels, pixels, acc + i0, 2);
        }
        if (i0 + 4 <= n) {
            sums_quads(q + i0, channels, pixels, acc + i0, 1);
            i0 += 4;
        }
#endif
        for (int32_t p = 0; p < pixels; p++, q += channels) {
            for (int32_t i = i0; i < n; i++) {
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
