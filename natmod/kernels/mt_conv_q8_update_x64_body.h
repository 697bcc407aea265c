// SPDX-License-Identifier: MIT
// The body of mt_conv_q8_update's x64 run sums for one ISA (mt_x64_vec.h's words); included by
// mt_x64_bodies.h, once per ISA.
//
// Saved channels go in the lanes and pixels in pairs: (x[p, i] + offset, x[p + 1, i] + offset)
// as int16 pairs (|x + offset| <= 255) and (q[p], q[p + 1]) (conv: one channel, broadcast;
// depthwise: channel i's own) give both pixels' terms in one pmaddwd, summed exactly in int32
// (mt_conv_q8_update.h bounds the pixels). An odd last pixel pairs with a zero q.

// The q pair of pixels p and p + 1 for VL lanes: conv broadcasts one channel, depthwise reads
// VL channels of each pixel.
MT_VI vec V(run_q_pair)(const int8_t *q0, const int8_t *q1, int depthwise) {
    if (depthwise) {
        return V(v_s16_pairs)(q0, q1);
    }
    return V(v_set1)((int32_t)((uint32_t)(uint16_t)q0[0] | (uint32_t)(uint16_t)q1[0] << 16));
}

// sum[0 .. VL * nv) += the run's terms, nv <= 4 vectors of VL lanes.
MT_VI void V(run_vectors)(const int8_t *x, const int8_t *q, int32_t x_step, int32_t q_step,
                          int32_t pixels, int32_t offset, int depthwise, int32_t nv,
                          int32_t *sum) {
    const vec off = V(v_set1_s16)((int16_t)offset), low_half = V(v_set1)(0xffff);
    vec a0 = V(v_load)(sum), a1 = V(v_zero)(), a2 = a1, a3 = a1;
    if (nv > 1) a1 = V(v_load)(sum + VL);
    if (nv > 2) a2 = V(v_load)(sum + 2 * VL);
    if (nv > 3) a3 = V(v_load)(sum + 3 * VL);
    for (int32_t p = 0; p < pixels; p += 2, x += 2 * x_step, q += 2 * q_step) {
        // An odd last pixel pairs with itself, its second q zeroed.
        const int last = p + 1 == pixels;
        const int8_t *x1 = last ? x : x + x_step, *q1 = last ? q : q + q_step;
        for (int32_t j = 0; j < nv; j++) {
            const int32_t qj = depthwise ? j * VL : 0;
            const vec xs = V(v_add_s16)(V(v_s16_pairs)(x + j * VL, x1 + j * VL), off);
            vec qs = V(run_q_pair)(q + qj, q1 + qj, depthwise);
            if (last) {
                qs = V(v_and)(qs, low_half);
            }
            const vec t = V(v_madd)(xs, qs);
            if (j == 0) a0 = V(v_add)(a0, t);
            if (j == 1) a1 = V(v_add)(a1, t);
            if (j == 2) a2 = V(v_add)(a2, t);
            if (j == 3) a3 = V(v_add)(a3, t);
        }
    }
    V(v_store)(sum, a0);
    if (nv > 1) V(v_store)(sum + VL, a1);
    if (nv > 2) V(v_store)(sum + 2 * VL, a2);
    if (nv > 3) V(v_store)(sum + 3 * VL, a3);
}

// The channels of sum[0 .. count) in whole vectors; returns how many (the rest: the caller).
static int32_t V(run_sums)(const int8_t *x, const int8_t *q, int32_t x_step, int32_t q_step,
                           int32_t pixels, int32_t offset, int depthwise, int32_t count,
                           int32_t *sum) {
    int32_t i = 0;
    for (; i + 4 * VL <= count; i += 4 * VL) {
        V(run_vectors)(x + i, q + (depthwise ? i : 0), x_step, q_step, pixels, offset,
                       depthwise, 4, sum + i);
    }
    if (i + VL <= count) {
        const int32_t nv = (count - i) / VL;
        V(run_vectors)(x + i, q + (depthwise ? i : 0), x_step, q_step, pixels, offset,
                       depthwise, nv, sum + i);
        i += nv * VL;
    }
    return i;
}
