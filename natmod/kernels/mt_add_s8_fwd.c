// SPDX-License-Identifier: MIT
#include "mt_add_s8_fwd.h"

#include <stdbool.h>

#include "mt_check.h"
#include "mt_requant.h"

static bool add_input_ok(const mt_add_input_params *in) {
    return in->offset >= -127 && in->offset <= 128 && in->shift >= MT_SHIFT_MIN &&
           in->shift <= MT_SHIFT_MAX;
}

// (q + offset) * 2^20 fits int32 (255 * 2^20 < 2^28), then the input's own scale.
static int32_t add_scaled_input(const mt_add_input_params *in, int8_t q) {
    return mt_requant(((int32_t)q + in->offset) * (1 << MT_ADD_LEFT_SHIFT), in->multiplier,
                      in->shift);
}

// An input's rescale prepared once for a whole tensor, where add_rescale_applies: without a
// 64-bit product, exact (see add_rescale_prepared).
typedef struct {
    int32_t offset, mult_hi, mult_lo, round, neg_mask, exponent;
} add_rescale;

// The prepared form needs shift in [-20, 0] and multiplier >= 2^11 (TFLite's are >= 2^30):
// every ADD input TFLite's Prepare makes (scale s / (2 max(s1, s2)) <= 1/2) down to 2^-21.
static bool add_rescale_applies(const mt_add_input_params *in) {
    return in->shift <= 0 && in->shift >= -20 && in->multiplier >= (1 << 11);
}

static add_rescale add_rescale_prepare(const mt_add_input_params *in) {
    const int32_t e = -in->shift;
    // round: 2^10 for the high mul, plus 2^(e-1) 2^11 for the division by 2^e (none at e = 0).
    add_rescale r = {in->offset, in->multiplier >> 11, in->multiplier & 0x7FF,
                     (1 << 10) + (e > 0 ? 1 << (10 + e) : 0), e > 0 ? -1 : 0, e};
    return r;
}

// add_scaled_input(in, q) for a prepared input, in 32-bit products. With t = q + offset
// (|t| <= 255) and m the multiplier, the high mul of t 2^20 by m is r = floor((t m + 2^10) /
// 2^11), and the division by 2^e (half away from zero) floor((r + 2^(e-1) - [r < 0]) / 2^e),
// so the result is floor((t m + round - [r < 0] 2^11) / 2^(11+e)), with [r < 0] = [t < 0]
// (m >= 2^11). Writing m = mult_hi 2^11 + mult_lo, that is floor((t mult_hi + floor((t
// mult_lo + round) / 2^11) - [t < 0]) / 2^e): every term fits int32 (|t mult_lo| < 2^19,
// round <= 2^10 + 2^30).
static inline int32_t add_rescale_prepared(const add_rescale *r, int8_t q) {
    const int32_t t = (int32_t)q + r->offset;
    const int32_t v = t * r->mult_hi + ((t * r->mult_lo + r->round) >> 11) +
                      ((t >> 31) & r->neg_mask);
    return v >> r->exponent;
}

mt_status mt_add_s8_fwd(const mt_add_params *params, const mt_dims *dims, const int8_t *input1,
                        const int8_t *input2, int8_t *output) {
    int32_t count;
    mt_status st = mt_dims_count(dims, &count);
    if (st != MT_OK) {
        return st;
    }
    if (!add_input_ok(&params->in1) || !add_input_ok(&params->in2) ||
        params->output_shift < MT_SHIFT_MIN || params->output_shift > MT_SHIFT_MAX) {
        return MT_ERR_PARAM;
    }
    const mt_act_params act = {0, params->output_offset, params->act_min, params->act_max};
    if ((st = mt_act_check(&act)) != MT_OK) {
        return st;
    }
    // In locals: an int8 store may alias the params, whose fields would be reloaded per value.
    const mt_add_input_params in1 = params->in1, in2 = params->in2;
    const int32_t mult = params->output_multiplier, shift = params->output_shift;
    const int32_t out_offset = params->output_offset;
    const int32_t act_min = params->act_min, act_max = params->act_max;
    if (add_rescale_applies(&in1) && add_rescale_applies(&in2)) {
        // Each rescaled input is below 2^28 in size: the sum cannot saturate.
        const add_rescale r1 = add_rescale_prepare(&in1), r2 = add_rescale_prepare(&in2);
#if defined(__ARM_FEATURE_DSP)
        if (shift <= -2) {
            // The output's requantization prepared once too (the test of its shift out of
            // the loop, where it kept the constants of both forms live).
            mt_requant_dsp_channel out;
            mt_requant_dsp_prepare(0, mult, shift, &out);
            for (int32_t i = 0; i < count; i++) {
                const int32_t sum = add_rescale_prepared(&r1, input1[i]) +
                                    add_rescale_prepared(&r2, input2[i]);
                output[i] = mt_requant_dsp_s8(sum, &out, out_offset, act_min, act_max);
            }
            return MT_OK;
        }
#endif
        for (int32_t i = 0; i < count; i++) {
            const int32_t sum = add_rescale_prepared(&r1, input1[i]) +
                                add_rescale_prepared(&r2, input2[i]);
            output[i] = mt_requant_s8(sum, mult, shift, out_offset, act_min, act_max);
        }
        return MT_OK;
    }
    for (int32_t i = 0; i < count; i++) {
        int32_t sum = mt_add_sat_s32(add_scaled_input(&in1, input1[i]),
                                     add_scaled_input(&in2, input2[i]));
        output[i] = mt_requant_s8(sum, mult, shift, out_offset, act_min, act_max);
    }
    return MT_OK;
}
