// SPDX-License-Identifier: MIT
// The body of mt_conv_q8_grad_in's x64 tap sums for one ISA (mt_x64_vec.h's words); included by
// mt_x64_bodies.h, once per ISA.
//
// Input channels go in the lanes: a pair of output channels' weights for VL input channels is
// interleaved into int16 pairs (W[o, i], W[o+1, i]) and pmaddwd with (qm[o], qm[o+1]) adds
// qm[o] W[o, i] + qm[o+1] W[o+1, i] to lane i: exact int32 sums (mt_conv_q8_grad_in.h's M).

// s[0..VL * nv) += the sums of that many channels, nv <= 4 vectors of VL lanes.
MT_VI void V(tap_vectors)(const int16_t *qm, const int8_t *w, int32_t w_stride, int32_t c_out,
                          int32_t nv, int32_t *s) {
    vec a0 = V(v_load)(s), a1 = V(v_zero)(), a2 = a1, a3 = a1;
    if (nv > 1) a1 = V(v_load)(s + VL);
    if (nv > 2) a2 = V(v_load)(s + 2 * VL);
    if (nv > 3) a3 = V(v_load)(s + 3 * VL);
    int32_t o = 0;
    for (; o + 1 < c_out; o += 2, w += 2 * w_stride) {
        const vec q = V(v_set1)((int32_t)((uint32_t)(uint16_t)qm[o] |
                                          (uint32_t)(uint16_t)qm[o + 1] << 16));
        const int8_t *w1 = w + w_stride;
        a0 = V(v_add)(a0, V(v_madd)(V(v_s16_pairs)(w, w1), q));
        if (nv > 1) a1 = V(v_add)(a1, V(v_madd)(V(v_s16_pairs)(w + VL, w1 + VL), q));
        if (nv > 2) a2 = V(v_add)(a2, V(v_madd)(V(v_s16_pairs)(w + 2 * VL, w1 + 2 * VL), q));
        if (nv > 3) a3 = V(v_add)(a3, V(v_madd)(V(v_s16_pairs)(w + 3 * VL, w1 + 3 * VL), q));
    }
    if (o < c_out) {  // the last odd row, paired with itself and a zero multiplier
        const vec q = V(v_set1)((int32_t)(uint32_t)(uint16_t)qm[o]);
        a0 = V(v_add)(a0, V(v_madd)(V(v_s16_pairs)(w, w), q));
        if (nv > 1) a1 = V(v_add)(a1, V(v_madd)(V(v_s16_pairs)(w + VL, w + VL), q));
        if (nv > 2) a2 = V(v_add)(a2, V(v_madd)(V(v_s16_pairs)(w + 2 * VL, w + 2 * VL), q));
        if (nv > 3) a3 = V(v_add)(a3, V(v_madd)(V(v_s16_pairs)(w + 3 * VL, w + 3 * VL), q));
    }
    V(v_store)(s, a0);
    if (nv > 1) V(v_store)(s + VL, a1);
    if (nv > 2) V(v_store)(s + 2 * VL, a2);
    if (nv > 3) V(v_store)(s + 3 * VL, a3);
}

static void V(tap_sums)(const int16_t *qm, const int8_t *w, int32_t w_stride, int32_t c_out,
                        int32_t n, int32_t *s) {
    int32_t i = 0;
    for (; i + 4 * VL <= n; i += 4 * VL) {
        V(tap_vectors)(qm, w + i, w_stride, c_out, 4, s + i);
    }
    if (i + VL <= n) {
        const int32_t nv = (n - i) / VL;
        V(tap_vectors)(qm, w + i, w_stride, c_out, nv, s + i);
        i += nv * VL;
    }
    for (; i < n; i++) {  // the last channels, one by one
        const int8_t *wi = w + i;
        int32_t sum = 0;
        for (int32_t o = 0; o < c_out; o++, wi += w_stride) {
            sum += qm[o] * *wi;
        }
        s[i] += sum;
    }
}
