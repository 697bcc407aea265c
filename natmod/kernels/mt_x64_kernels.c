// SPDX-License-Identifier: MIT
// The x86-64 fast paths of the kernels (mt_x64.h): each body header once under AVX2 and once
// under SSE4.1, then the entry points, which pick the CPU's level.
#include "mt_x64.h"

#if MT_X64
// Before any target pragma: the intrinsics then keep their own targets.
#include <immintrin.h>
#include <string.h>

// The widened input pixels of the pointwise path live on the stack: wider layers take the
// portable path.
#define MT_X64_PW_C_IN_MAX 2048
// Its zero-padded copy of the last filter rows: c_pad bytes each, as many rows as a read of
// 2 VL bytes can run past the filter's end (c_in >= 2 VL: one row; smaller: at most 2 VL rows
// of 2 VL bytes).
#define MT_X64_PW_TAIL_MAX (MT_X64_PW_C_IN_MAX + 32 * 16)

#pragma GCC push_options
#pragma GCC target("avx2")
#define MT_X64_VEC_BITS 256
#include "mt_x64_bodies.h"
#undef MT_X64_VEC_BITS
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("sse4.1")
#define MT_X64_VEC_BITS 128
#include "mt_x64_bodies.h"
#undef MT_X64_VEC_BITS
#pragma GCC pop_options

// Run body f of the CPU's level with args; 0 when the level is portable.
#define MT_X64_RUN(f, args)        \
    switch (mt_x64_level()) {      \
        case MT_X64_AVX2:          \
            f##_avx2 args;         \
            return 1;              \
        case MT_X64_SSE41:         \
            f##_sse41 args;        \
            return 1;              \
        default:                   \
            return 0;              \
    }

int mt_pwconv2d_s8_fwd_x64(const mt_conv_params *params, const mt_quant_params *quant,
                           const mt_dims *input_dims, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, const mt_dims *output_dims, int8_t *output) {
    if (input_dims->c > MT_X64_PW_C_IN_MAX) {
        return 0;
    }
    MT_X64_RUN(pw_fwd, (params, quant, input_dims, input, filter, bias, output_dims, output))
}

int mt_conv2d_s8_fwd_x64(const mt_conv_params *params, const mt_quant_params *quant,
                         const mt_dims *input_dims, const int8_t *input,
                         const mt_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                         const mt_dims *output_dims, int8_t *output) {
    if (filter_dims->h * filter_dims->w * filter_dims->c > MT_X64_PATCH_MAX ||
        output_dims->c > MT_X64_CONV_C_OUT_MAX) {
        return 0;
    }
    MT_X64_RUN(conv_fwd, (params, quant, input_dims, input, filter_dims, filter, bias,
                          output_dims, output))
}

int mt_dwconv2d_s8_fwd_x64(const mt_conv_params *params, const mt_quant_params *quant,
                           const mt_dims *input_dims, const int8_t *input,
                           const mt_dims *filter_dims, const int8_t *filter,
                           const int32_t *bias, const mt_dims *output_dims, int8_t *output) {
    MT_X64_RUN(dw_fwd, (params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                        output))
}

int32_t mt_conv_q8_run_sums_x64(const int8_t *x, const int8_t *q, int32_t x_step,
                                int32_t q_step, int32_t pixels, int32_t offset, int depthwise,
                                int32_t count, int32_t *sum) {
    switch (mt_x64_level()) {
        case MT_X64_AVX2:
            return run_sums_avx2(x, q, x_step, q_step, pixels, offset, depthwise, count, sum);
        case MT_X64_SSE41:
            return run_sums_sse41(x, q, x_step, q_step, pixels, offset, depthwise, count, sum);
        default:
            return 0;
    }
}

int32_t mt_x64_sums_abs_max(const int32_t *s, int32_t n, int32_t max) {
    switch (mt_x64_level()) {
        case MT_X64_AVX2:
            return sums_abs_max_avx2(s, n, max);
        default:
            return sums_abs_max_sse41(s, n, max);
    }
}

void mt_x64_sums_q8_store(const int32_t *s, int32_t n, float c, float inv, int8_t *q) {
    switch (mt_x64_level()) {
        case MT_X64_AVX2:
            sums_q8_store_avx2(s, n, c, inv, q);
            return;
        default:
            sums_q8_store_sse41(s, n, c, inv, q);
    }
}

void mt_x64_dw_tap_add(const int8_t *q, const int8_t *w, int32_t c, int32_t *acc) {
    switch (mt_x64_level()) {
        case MT_X64_AVX2:
            dw_tap_add_avx2(q, w, c, acc);
            return;
        default:
            dw_tap_add_sse41(q, w, c, acc);
    }
}

int mt_conv_q8_tap_sums_x64(const int16_t *qm, const int8_t *w, int32_t w_stride,
                            int32_t c_out, int32_t n, int32_t *s) {
    MT_X64_RUN(tap_sums, (qm, w, w_stride, c_out, n, s))
}
#endif
