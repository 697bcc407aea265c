// SPDX-License-Identifier: MIT
#include "mt_qas_q8.h"

#if defined(__ARM_FEATURE_SAT)
#include <arm_acle.h>
#endif

#define STEP_LIMIT 1073741824.0f  // mt_qas_step's clamp, 2^30
#define FILL 32                   // sums filled at once by mt_qas_q8_row_products (256 bytes)

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
#if defined(__ARM_FEATURE_SAT) && MT_WEIGHT_MIN == -127 && MT_WEIGHT_MAX == 127
    v = v < MT_WEIGHT_MIN ? MT_WEIGHT_MIN : v;
    return __ssat(v, 8);  // the upper bound, 127, in one instruction
#else
    return v < MT_WEIGHT_MIN ? MT_WEIGHT_MIN : (v > MT_WEIGHT_MAX ? MT_WEIGHT_MAX : v);
#endif
}

// (float)(x >> 8) / 2^24, exact. With a VFPv3+ FPU one fixed-point vcvt (24 fraction bits)
// makes it; gcc would too, but not once the 2^-24 constant is hoisted out of a loop.
static inline float uniform_of(uint32_t x) {
    const int32_t m = (int32_t)(x >> 8);
#if defined(__ARM_FP) && (__ARM_FP & 4) && defined(__ARM_ARCH_7EM__)
    union {
        int32_t i;
        float f;
    } v = {m};
    __asm__("vcvt.f32.s32 %0, %0, #24" : "+t"(v.f));
    return v.f;
#else
    return (float)m * (1.0f / 16777216.0f);
#endif
}

// Ties away from zero; |x| <= 2^30.
static inline int32_t round_nearest(float x) {
    return (int32_t)(x + (x >= 0.0f ? 0.5f : -0.5f));
}

// mt_qas_apply's cases: the new weight from value and the step; *x the rng state, master[e]
// the master copy. `mode` is a constant wherever this is inlined.
static inline int32_t apply_step(int32_t mode, int32_t value, float step, uint32_t *rng,
                                 float *master, int32_t e) {
    if (mode == MT_ROUND_TRUNCATE) {
        return saturate_weight(value - (int32_t)step);
    }
    if (mode == MT_ROUND_NEAREST) {
        return saturate_weight(value - round_nearest(step));
    }
    if (mode == MT_ROUND_STOCHASTIC) {
        uint32_t x = *rng;
        x ^= x << 13;  // mt_qas_uniform
        x ^= x >> 17;
        x ^= x << 5;
        *rng = x;
        const float u = uniform_of(x);
        const float t = u - step;
        const int32_t i_t = (int32_t)t;  // floor(t): one less when truncation went up
        int32_t v = value + i_t;
        if ((float)i_t > t) {
            v--;
        }
        return saturate_weight(v);
    }
    float m = master[e] - step;
    if (m != m) {  // a NaN master restarts from the integer value
        m = (float)value;
    }
    m = m < (float)MT_WEIGHT_MIN ? (float)MT_WEIGHT_MIN
                                 : (m > (float)MT_WEIGHT_MAX ? (float)MT_WEIGHT_MAX : m);
    master[e] = m;
    return round_nearest(m);  // already within the weight range
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
        row[col[i]] = (int8_t)apply_step(mode, row[col[i]], step, &x, master, e);
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

// A row of one-product sums whose steps need no clamp (no momentum): what step_of computes,
// with the QAS factor always applied (1.0f without QAS: g * 1.0f is g, bit for bit).
typedef struct {
    float grad_scale, s, inv, lr;
    int32_t g, g_offset;  // acc = g * x[j] + g_offset
    const int8_t *x;
    int8_t *row;
    const int32_t *col;  // NULL: row[j]
    int32_t count;
} product_row;

static inline void product_loop(mt_qas_q8 *q, const product_row *p, int32_t mode, int indexed) {
    const float c = p->grad_scale, s = p->s, inv = p->inv, lr = p->lr;
    const int32_t g = p->g, g_offset = p->g_offset;
    const int8_t *x = p->x;
    int8_t *const row = p->row;
    const int32_t *const col = p->col;
    float *const master = q->master;
    uint32_t rng = q->rng;
    int32_t e = q->e;
    for (int32_t j = 0; j < p->count; j++, e++) {
        const int32_t acc = g * x[j] + g_offset;
        const float step = lr * ((((float)acc * c) * s) * inv);
        int8_t *const w = indexed ? row + col[j] : row + j;
        *w = (int8_t)apply_step(mode, *w, step, &rng, master, e);
    }
    q->rng = rng;
    q->e = e;
}

// |step| of every element is at most the step of the largest |acc| (float rounding is monotone
// in magnitude); that one within the clamp (so not NaN, nothing infinite) means none is clamped.
static int steps_bounded(const product_row *p, int32_t acc_max) {
    const float step = p->lr * ((((float)acc_max * p->grad_scale) * p->s) * p->inv);
    const float mag = step < 0.0f ? -step : step;
    return mag <= STEP_LIMIT;
}

// acc[i] = sum over t < terms of g[t * g_step] * (x[t * x_step + i] + offset), i < count.
static void fill_sums(const int8_t *g, int32_t g_step, int32_t terms, int32_t offset,
                      const int8_t *x, int32_t x_step, int32_t count, int32_t *acc) {
    int32_t g_offset = 0;
    for (int32_t t = 0; t < terms; t++) {
        g_offset += g[t * g_step] * offset;
    }
    for (int32_t i = 0; i < count; i++) {
        acc[i] = g_offset;
    }
    for (int32_t t = 0; t < terms; t++, x += x_step) {
        const int32_t gt = g[t * g_step];
        for (int32_t i = 0; i < count; i++) {
            acc[i] += gt * x[i];
        }
    }
}

void mt_qas_q8_row_products(mt_qas_q8 *q, const int8_t *g, int32_t g_step, int32_t terms,
                            int32_t offset, const int8_t *x, int32_t x_step, int32_t count,
                            int8_t *row, const int32_t *col, float s) {
    if (count < 1) {
        return;
    }
    int32_t g_abs = 0;  // the largest |acc|: sum |g| * the largest |x + offset|
    for (int32_t t = 0; t < terms; t++) {
        g_abs += g[t * g_step] < 0 ? -g[t * g_step] : g[t * g_step];
    }
    // |x + offset| at x = -128 and at x = 127
    const int32_t lo = offset < 128 ? 128 - offset : offset - 128;
    const int32_t hi = offset + 127 < 0 ? -(offset + 127) : offset + 127;
    const int32_t g0 = terms == 1 ? g[0] : 0;
    const product_row p = {q->grad_scale, s, q->params->qas ? 1.0f / (s * s) : 1.0f,
                           q->params->lr, g0, g0 * offset, x, row, col, count};
    if (terms != 1 || q->velocity || !steps_bounded(&p, g_abs * (lo > hi ? lo : hi))) {
        int32_t acc[FILL], ident[FILL];
        for (int32_t j0 = 0; j0 < count; j0 += FILL) {
            const int32_t n = count - j0 < FILL ? count - j0 : FILL;
            fill_sums(g, g_step, terms, offset, x + j0, x_step, n, acc);
            for (int32_t i = 0; i < n; i++) {
                ident[i] = j0 + i;
            }
            mt_qas_q8_row(q, acc, n, row, col ? col + j0 : ident, &s, 1);
        }
        return;
    }
    switch (q->params->rounding) {
        case MT_ROUND_TRUNCATE:
            col ? product_loop(q, &p, MT_ROUND_TRUNCATE, 1)
                : product_loop(q, &p, MT_ROUND_TRUNCATE, 0);
            break;
        case MT_ROUND_NEAREST:
            col ? product_loop(q, &p, MT_ROUND_NEAREST, 1)
                : product_loop(q, &p, MT_ROUND_NEAREST, 0);
            break;
        case MT_ROUND_STOCHASTIC:
            col ? product_loop(q, &p, MT_ROUND_STOCHASTIC, 1)
                : product_loop(q, &p, MT_ROUND_STOCHASTIC, 0);
            break;
        default:
            col ? product_loop(q, &p, MT_ROUND_MASTER, 1) : product_loop(q, &p, MT_ROUND_MASTER, 0);
            break;
    }
}
