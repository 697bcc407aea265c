// SPDX-License-Identifier: MIT
#include "mt_qas_q8.h"

#define STEP_LIMIT 1073741824.0f  // mt_qas_step's clamp, 2^30

void mt_qas_q8_begin(mt_qas_q8 *q, const mt_update_params *params, const mt_update_state *state,
                     float grad_scale) {
    q->params = params;
    q->grad_scale = grad_scale;
    q->velocity = params->momentum != 0.0f ? state->momentum : 0;
    q->master = state->master;
    q->rng = state->rng ? *state->rng : 0u;
    q->e = 0;
}

void mt_qas_q8_end(const mt_qas_q8 *q, const mt_update_state *state) {
    if (state->rng && q->params->rounding == MT_ROUND_STOCHASTIC) {
        *state->rng = q->rng;
    }
}

// The constants of a row, in locals: the stores to int8 weights may alias anything, so fields
// read through pointers would be loaded again for every element.
typedef struct {
    float grad_scale, lr, momentum;
    int32_t qas;
    float *velocity;
} step_consts;

// mt_qas_step for element e: the same float32 operations; inv is 1.0f / (s * s) (the QAS
// factor), computed by the caller once per scale.
static inline float step_of(const step_consts k, int32_t acc, float s, float inv, int32_t e) {
    const float grad = (float)acc * k.grad_scale;
    float g = grad * s;
    if (k.qas) {
        g = g * inv;
    }
    if (k.velocity) {
        k.velocity[e] = k.momentum * k.velocity[e] + g;
        g = k.velocity[e];
    }
    float step = k.lr * g;
    const float mag = step < 0.0f ? -step : step;
    if (!(mag <= STEP_LIMIT)) {  // one test on the common path: NaN -> 0, else clamp
        step = step != step ? 0.0f : (step > 0.0f ? STEP_LIMIT : -STEP_LIMIT);
    }
    return step;
}

static inline int32_t saturate_weight(int32_t v) {
    return v < MT_WEIGHT_MIN ? MT_WEIGHT_MIN : (v > MT_WEIGHT_MAX ? MT_WEIGHT_MAX : v);
}

// Ties away from zero; |x| <= 2^30.
static inline int32_t round_nearest(float x) {
    return (int32_t)(x + (x >= 0.0f ? 0.5f : -0.5f));
}

// One loop per rounding mode (mt_qas_apply's cases); `mode` is a constant in each call below.
static inline void row_loop(mt_qas_q8 *q, int32_t mode, const int32_t *acc, int32_t count,
                            int8_t *row, const int32_t *col, const float *s, int same_scale) {
    const step_consts k = {q->grad_scale, q->params->lr, q->params->momentum, q->params->qas,
                           q->velocity};
    float *const master = q->master;
    float scale = s[0], inv = 1.0f / (scale * scale);
    uint32_t x = q->rng;
    int32_t e = q->e;
    for (int32_t i = 0; i < count; i++, e++) {
        if (!same_scale) {
            scale = s[i];
            inv = 1.0f / (scale * scale);
        }
        const float step = step_of(k, acc[i], scale, inv, e);
        const int32_t value = row[col[i]];
        int32_t v;
        if (mode == MT_ROUND_TRUNCATE) {
            v = saturate_weight(value - (int32_t)step);
        } else if (mode == MT_ROUND_NEAREST) {
            v = saturate_weight(value - round_nearest(step));
        } else if (mode == MT_ROUND_STOCHASTIC) {
            x ^= x << 13;  // mt_qas_uniform
            x ^= x >> 17;
            x ^= x << 5;
            const float u = (float)(int32_t)(x >> 8) * (1.0f / 16777216.0f);
            const float t = u - step;
            const int32_t i_t = (int32_t)t;  // floor(t)
            v = saturate_weight(value + ((float)i_t > t ? i_t - 1 : i_t));
        } else {
            float m = master[e] - step;
            if (m != m) {  // a NaN master restarts from the integer value
                m = (float)value;
            }
            m = m < (float)MT_WEIGHT_MIN ? (float)MT_WEIGHT_MIN
                                         : (m > (float)MT_WEIGHT_MAX ? (float)MT_WEIGHT_MAX : m);
            master[e] = m;
            v = round_nearest(m);  // already within the weight range
        }
        row[col[i]] = (int8_t)v;
    }
    q->rng = x;
    q->e = e;
}

void mt_qas_q8_row(mt_qas_q8 *q, const int32_t *acc, int32_t count, int8_t *row,
                   const int32_t *col, const float *s, int same_scale) {
    if (count < 1) {
        return;
    }
    switch (q->params->rounding) {
        case MT_ROUND_TRUNCATE:
            row_loop(q, MT_ROUND_TRUNCATE, acc, count, row, col, s, same_scale);
            break;
        case MT_ROUND_NEAREST:
            row_loop(q, MT_ROUND_NEAREST, acc, count, row, col, s, same_scale);
            break;
        case MT_ROUND_STOCHASTIC:
            row_loop(q, MT_ROUND_STOCHASTIC, acc, count, row, col, s, same_scale);
            break;
        default:
            row_loop(q, MT_ROUND_MASTER, acc, count, row, col, s, same_scale);
            break;
    }
}
