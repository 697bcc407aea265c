// SPDX-License-Identifier: MIT
#include "mt_add_f32_grad_in.h"

// The tensor is viewed as {1, 1, 1, count}: c is the element's index.
static float passed_on(const void *grad_out, int32_t n, int32_t y, int32_t x, int32_t c) {
    (void)n;
    (void)y;
    (void)x;
    return mt_grad_get(grad_out, c);
}

// The largest |s * q[i]| (mt_abs_max over the elements): s * q rounds monotonically in |q|, so
// it is s times the largest |q| when s is finite (0 included); otherwise a NaN may come from an
// element (inf * 0), so every element is looked at.
static float amax_scaled(const int8_t *q, int32_t count, float s) {
    if (!(s - s == 0.0f)) {  // inf or NaN
        float amax = 0.0f;
        for (int32_t i = 0; i < count; i++) {
            amax = mt_abs_max(amax, s * (float)q[i]);
        }
        return amax;
    }
    int32_t m = 0;
    for (int32_t i = 0; i < count; i++) {
        const int32_t a = q[i] < 0 ? -q[i] : q[i];
        m = a > m ? a : m;
    }
    return mt_abs_max(0.0f, s * (float)m);
}

// Pass 1 of the int8 add: the values stored (accumulate a constant where this is inlined).
static inline void add_q8_store(int32_t count, const int8_t *q, float s, int8_t *d,
                                float old_scale, float inv, int accumulate) {
    const mt_grad_dst out = {0, d, 0};  // int8: locals, so the stores do not reload anything
    for (int32_t i = 0; i < count; i++) {
        float v = s * (float)q[i];
        if (accumulate) {
            v = old_scale * (float)d[i] + v;
        }
        mt_grad_put(&out, i, v, inv);
    }
}

// int8 in and out: mt_grad_write's values, passes and stores, one loop a pass without the call
// per element (the same float operations in the same order, so the same bytes).
static mt_status add_q8(int32_t count, int32_t accumulate, const mt_grad_src *src,
                        const mt_grad_dst *dst) {
    const float s = src->scale, old_scale = *dst->scale;
    const int8_t *q = src->q;
    int8_t *d = dst->q;
    float amax = 0.0f, inv = 0.0f;
    if (accumulate) {
        for (int32_t i = 0; i < count; i++) {
            amax = mt_abs_max(amax, old_scale * (float)d[i] + s * (float)q[i]);
        }
    } else {
        amax = amax_scaled(q, count, s);
    }
    const mt_status st = mt_grad_begin(dst, amax, &inv);
    if (st != MT_OK) {
        return st;
    }
    if (accumulate) {
        add_q8_store(count, q, s, d, old_scale, inv, 1);
    } else {
        add_q8_store(count, q, s, d, old_scale, inv, 0);
    }
    return MT_OK;
}

mt_status mt_add_f32_grad_in(int32_t count, int32_t accumulate, const mt_grad_src *grad_out,
                             const mt_grad_dst *grad_in) {
    if (count < 0) {
        return MT_ERR_PARAM;
    }
    if (!grad_out->f && !grad_in->f) {
        return add_q8(count, accumulate, grad_out, grad_in);
    }
    const mt_dims flat = {1, 1, 1, count};
    return mt_grad_write(grad_in, &flat, accumulate, passed_on, grad_out);
}
