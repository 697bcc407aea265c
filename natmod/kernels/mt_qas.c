// SPDX-License-Identifier: MIT
#include "mt_qas.h"

#define MT_STEP_LIMIT 1073741824.0f  // 2^30: any larger step saturates anyway

mt_status mt_qas_check(const mt_update_params *params, const mt_update_state *state) {
    // Written as negated comparisons so that NaN fails them.
    if (!(params->lr >= 0.0f && params->lr < 1e30f) ||
        !(params->momentum >= 0.0f && params->momentum < 1.0f)) {
        return MT_ERR_PARAM;
    }
    if (params->qas != 0 && params->qas != 1) {
        return MT_ERR_PARAM;
    }
    if (params->rounding < 0 || params->rounding >= MT_ROUND_COUNT) {
        return MT_ERR_PARAM;
    }
    if (params->momentum != 0.0f && state->momentum == 0) {
        return MT_ERR_ARGS;
    }
    if (params->rounding == MT_ROUND_MASTER && state->master == 0) {
        return MT_ERR_ARGS;
    }
    if (params->rounding == MT_ROUND_STOCHASTIC && (state->rng == 0 || *state->rng == 0u)) {
        return MT_ERR_ARGS;
    }
    return MT_OK;
}

int mt_qas_scale_ok(float scale) {
    if (!(scale > 0.0f && scale < 1e30f)) {
        return 0;
    }
    float inv = 1.0f / (scale * scale);
    return inv < 1e38f;
}

float mt_qas_step(const mt_update_params *params, float grad, float scale, float *velocity) {
    float g = grad * scale;
    if (params->qas) {
        g = g * (1.0f / (scale * scale));
    }
    if (params->momentum != 0.0f) {
        *velocity = params->momentum * *velocity + g;
        g = *velocity;
    }
    float step = params->lr * g;
    if (step != step) {  // NaN (from a NaN gradient or velocity): no step
        step = 0.0f;
    } else if (step > MT_STEP_LIMIT) {
        step = MT_STEP_LIMIT;
    } else if (step < -MT_STEP_LIMIT) {
        step = -MT_STEP_LIMIT;
    }
    return step;
}

float mt_qas_uniform(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    // Through int32 (exact: below 2^24) so no unsigned-to-float helper is needed.
    return (float)(int32_t)(x >> 8) * (1.0f / 16777216.0f);
}

// |x| < 2^31 in every caller, so the casts below are defined.
static int32_t round_nearest(float x) {
    return (int32_t)(x + (x >= 0.0f ? 0.5f : -0.5f));
}

static int32_t floor_int(float x) {
    int32_t i = (int32_t)x;
    return (float)i > x ? i - 1 : i;
}

static int32_t saturate(int64_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : (v > hi ? hi : (int32_t)v);
}

int32_t mt_qas_apply(int32_t rounding, int32_t value, float step, float *master, uint32_t *rng,
                     int32_t lo, int32_t hi) {
    switch (rounding) {
        case MT_ROUND_TRUNCATE:
            return saturate((int64_t)value - (int32_t)step, lo, hi);
        case MT_ROUND_NEAREST:
            return saturate((int64_t)value - round_nearest(step), lo, hi);
        case MT_ROUND_STOCHASTIC: {
            float u = mt_qas_uniform(rng);
            return saturate((int64_t)value + floor_int(u - step), lo, hi);
        }
        default: {
            float m = *master - step;
            if (m != m) {  // a NaN master restarts from the integer value
                m = (float)value;
            }
            m = m < (float)lo ? (float)lo : (m > (float)hi ? (float)hi : m);
            *master = m;
            return saturate(round_nearest(m), lo, hi);
        }
    }
}

mt_status mt_qas_check_scales(const mt_update_params *params, const mt_update_state *state,
                              const float *scale, int32_t n) {
    mt_status st = mt_qas_check(params, state);
    for (int32_t i = 0; i < n && st == MT_OK; i++) {
        st = mt_qas_scale_ok(scale[i]) ? MT_OK : MT_ERR_PARAM;
    }
    return st;
}

int32_t mt_qas_update_element(const mt_update_params *params, const mt_update_state *state,
                              int32_t e, float grad, float scale, int32_t value, int32_t lo,
                              int32_t hi) {
    float *v = state->momentum ? state->momentum + e : 0;
    float *m = state->master ? state->master + e : 0;
    float step = mt_qas_step(params, grad, scale, v);
    return mt_qas_apply(params->rounding, value, step, m, state->rng, lo, hi);
}
