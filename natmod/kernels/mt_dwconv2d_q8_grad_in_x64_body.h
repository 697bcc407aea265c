// SPDX-License-Identifier: MIT
// The body of mt_dwconv2d_q8_grad_in's x64 tap sums for one ISA (mt_x64_vec.h's words);
// included by mt_x64_bodies.h, once per ISA. acc[i] += q[i] * w[i] over the channels, 2 VL at a
// time: |q w| <= 128 * 128 is exact in int16, widened and summed in int32.

static void V(dw_tap_add)(const int8_t *q, const int8_t *w, int32_t c, int32_t *acc) {
    int32_t i = 0;
    for (; i + 2 * VL <= c; i += 2 * VL) {
        const vec qs = V(v_s16_from_s8)(q + i), ws = V(v_s16_from_s8)(w + i);
        V(v_store)(acc + i, V(v_add)(V(v_load)(acc + i), V(v_mul_s16_lo)(qs, ws)));
        V(v_store)(acc + i + VL, V(v_add)(V(v_load)(acc + i + VL), V(v_mul_s16_hi)(qs, ws)));
    }
    for (; i < c; i++) {
        acc[i] += q[i] * w[i];
    }
}
