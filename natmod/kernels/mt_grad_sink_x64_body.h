// SPDX-License-Identifier: MIT
// The body of the q8 grad_in output step on x64 for one ISA (mt_x64_vec.h's words); included by
// mt_x64_bodies.h, once per ISA. The int32 sums of a block of elements go out as
// mt_grad_sink.h's sink would put them one by one: pass 0 keeps max |acc| (integers), pass 1
// stores the int8 values of mt_grad_put, v = (float)acc * c, t = v * inv, t + 0.5 (or - 0.5)
// truncated and clamped to +-127: the same float operations, each rounded as the scalar C
// rounds it (separate multiplies and add, no fused multiply-add).

static int32_t V(sums_abs_max)(const int32_t *s, int32_t n, int32_t max) {
    int32_t i = 0;
    vec m = V(v_set1)(max);
    for (; i + VL <= n; i += VL) {
        m = V(v_max)(m, V(v_abs)(V(v_load)(s + i)));
    }
    int32_t lanes[VL];
    V(v_store)(lanes, m);
    for (int32_t j = 0; j < VL; j++) {
        max = lanes[j] > max ? lanes[j] : max;
    }
    for (; i < n; i++) {
        const int32_t a = s[i] < 0 ? -s[i] : s[i];
        max = a > max ? a : max;
    }
    return max;
}

static void V(sums_q8_store)(const int32_t *s, int32_t n, float c, float inv, int8_t *q) {
    int32_t i = 0;
    int32_t lanes[VL];
    for (; i + VL <= n; i += VL) {
        V(v_store)(lanes, V(v_q8_of_sums)(V(v_load)(s + i), c, inv));
        for (int32_t j = 0; j < VL; j++) {
            q[i + j] = (int8_t)lanes[j];
        }
    }
    const mt_grad_dst dst = {0, q, 0};
    for (; i < n; i++) {
        mt_grad_put(&dst, i, (float)s[i] * c, inv);
    }
}
