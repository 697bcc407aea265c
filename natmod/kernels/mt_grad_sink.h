// SPDX-License-Identifier: MIT
// What the q8 grad_in kernels share: the int32-sum bound behind the channel multiplier M, and the
// output "sink" that takes one int32 sum per element and does the int8 gradient's two passes
// (mt_grad.h: the largest |v| first, then the values), v = (float)acc * c.
#ifndef MT_GRAD_SINK_H
#define MT_GRAD_SINK_H

#include "mt_grad.h"

// (2^31 - 1) / (128 * 128): a sum of `terms` products |q * m * w| <= 128 * M * 128 fits an int32
// when terms * M <= this.
#define MT_TERMS_TIMES_M_MAX 131071

static inline int32_t mt_channel_multiplier(int32_t terms) {
    int32_t m = 256;
    while (m >= 1 && terms > MT_TERMS_TIMES_M_MAX / m) {
        m >>= 1;
    }
    return m;
}

// ---- the output: one int32 sum per element, in NHWC order -------------------------------------

typedef struct {
    const mt_grad_dst *dst;
    int pass;            // 0: the largest |v|, 1: store the values
    int by_sum;          // pass 0 without accumulate: track max |acc| (v is monotone in acc)
    int32_t accumulate;
    float old_scale, inv, amax;
    int32_t max_sum;     // by_sum: the largest |acc| so far
    int32_t i;           // the next element
} sink;

// Element i gets acc (any order: pass 0 keeps a max, pass 1 stores by index).
static inline void sink_put_at(sink *s, int32_t i, int32_t acc, float c) {
    if (s->by_sum) {
        const int32_t a = acc < 0 ? -acc : acc;  // |acc| <= 2^31 - 1 by the choice of M
        s->max_sum = a > s->max_sum ? a : s->max_sum;
        return;
    }
    float v = (float)acc * c;
    if (s->accumulate) {
        v = mt_grad_old(s->dst, i, s->old_scale) + v;
    }
    if (s->pass == 0) {
        s->amax = mt_abs_max(s->amax, v);
    } else {
        mt_grad_put(s->dst, i, v, s->inv);
    }
}

static inline void sink_put(sink *s, int32_t acc, float c) {
    sink_put_at(s, s->i, acc, c);
    s->i++;
}

static inline void sink_start(sink *s, const mt_grad_dst *dst, int pass, int32_t accumulate,
                       float old_scale, float inv, int int_max) {
    const sink start = {dst, pass, pass == 0 && int_max && !accumulate, accumulate, old_scale,
                        inv, 0.0f, 0, 0};
    *s = start;
}

// The amax of pass 0: by_sum tracked max |acc|, and (float)max|acc| * c = max |(float)acc * c|
// as the conversion and the multiply by c >= 0 are monotone (NaN c: NaN either way).
static inline float sink_amax(const sink *s, float c) {
    return s->by_sum ? (float)s->max_sum * c : s->amax;
}

#endif
