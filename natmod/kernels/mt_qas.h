// SPDX-License-Identifier: MIT
// SGD in quantized units with Quantization-Aware Scaling (QAS), written once for int8 weights
// and int32 biases.
//
// With W = s_w * Wq, the gradient in quantized units is G_Wq = s_w * dL/dW, and its scale is
// off by s_w^2 from what a float step on W needs. QAS (Lin et al. 2022, "On-Device Training
// Under 256KB Memory", Sec. 2.1, Eq. 3) rescales it:
//     G~_Wq = G_Wq * s_w^-2          G~_bq = G_bq * (s_w * s_x)^-2
// so Wq -= lr * G~_Wq equals W -= lr * dL/dW divided by s_w: a float SGD step on W. We apply
// it per output channel (depthwise: per channel), as the paper's code does.
//
// Per element, in float32 and in this order (the numpy reference does the same):
//     g = grad * s                      (grad is dL/dW in real units; s is s_w[c] or s_x*s_w[c])
//     if qas: g = g * (1.0f / (s * s))
//     if momentum != 0: v = momentum * v + g; g = v
//     step = lr * g                     (quantized units, clamped to +-2^30; NaN -> 0)
// and then the new integer value by the rounding mode, saturated (never wrapped).
#ifndef MT_QAS_H
#define MT_QAS_H

#include <stdint.h>

#include "mt_status.h"

typedef enum {
    MT_ROUND_TRUNCATE = 0,    // value - trunc(step): the paper's engine; steps < 1 LSB are lost
    MT_ROUND_NEAREST = 1,     // value - round(step), ties away from zero
    MT_ROUND_STOCHASTIC = 2,  // value + floor(u - step), u uniform in [0, 1): unbiased
    MT_ROUND_MASTER = 3,      // float32 master -= step (saturated; NaN restarts from value)
    MT_ROUND_COUNT = 4
} mt_rounding;

typedef struct {
    float lr;
    float momentum;    // 0: plain SGD (no momentum buffer needed)
    int32_t qas;       // 1: QAS scaling; 0: raw quantized-unit gradient (to measure without)
    int32_t rounding;  // mt_rounding
} mt_update_params;

// Caller-owned state, one float per updated element (NULL where the mode does not need it).
typedef struct {
    float *momentum;  // needed when momentum != 0
    float *master;    // needed by MT_ROUND_MASTER; initialised by mt_qas_*_init
    uint32_t *rng;    // xorshift32 state (non-zero), needed by MT_ROUND_STOCHASTIC
} mt_update_state;

// Saturation bounds: symmetric int8 weights as TFLite stores them; biases within the int32
// values a float32 master copy holds exactly at the ends.
#define MT_WEIGHT_MIN (-127)
#define MT_WEIGHT_MAX 127
#define MT_BIAS_MIN (-2147483520)
#define MT_BIAS_MAX 2147483520

// Check lr, momentum, mode, and that the state the mode needs is there.
mt_status mt_qas_check(const mt_update_params *params, const mt_update_state *state);

// The step in quantized units for one element (momentum: *velocity is read and written).
// scale must be > 0 with 1/scale^2 finite: see mt_qas_scale_ok.
float mt_qas_step(const mt_update_params *params, float grad, float scale, float *velocity);

int mt_qas_scale_ok(float scale);

// mt_qas_check, then mt_qas_scale_ok for each of scale[0 .. n) (MT_ERR_PARAM at a bad one).
mt_status mt_qas_check_scales(const mt_update_params *params, const mt_update_state *state,
                              const float *scale, int32_t n);

// One element's update: mt_qas_step with element e of the momentum state, then mt_qas_apply
// with element e of the master copy; returns the new value.
int32_t mt_qas_update_element(const mt_update_params *params, const mt_update_state *state,
                              int32_t e, float grad, float scale, int32_t value, int32_t lo,
                              int32_t hi);

// The element's new value by the rounding mode, saturated to [lo, hi].
int32_t mt_qas_apply(int32_t rounding, int32_t value, float step, float *master, uint32_t *rng,
                     int32_t lo, int32_t hi);

// One xorshift32 draw as a float in [0, 1) with 24 random bits (advances *state).
float mt_qas_uniform(uint32_t *state);

#endif
