// SPDX-License-Identifier: MIT
// The x86-64 fast paths (SSE4.1, AVX2) of the unix port and the host library, chosen at run time
// by what the CPU has (cpuid). Each path gives the portable C path's bytes exactly: the integer
// sums are order-free (no term can overflow, see mt_check.h), requantization is mt_requant_s8's
// arithmetic lane by lane, and every float step stays scalar C in the portable order.
//
// The kernels' x64 entry points live in mt_x64_kernels.c (bodies: *_x64_body.h); each returns
// 1 when it did the work and 0 when its case does not apply (the caller then runs the portable
// path). Only the kernel's own .c calls them, behind `#if MT_X64`.
#ifndef MT_X64_H
#define MT_X64_H

#include <stdint.h>

#include "mt_types.h"

// MT_X64_SIMD_MAX caps the level (tests build the module at 0 and 1 to run the portable and the
// SSE4.1 paths on a CPU with AVX2); the default allows every level.
#define MT_X64_PORTABLE 0
#define MT_X64_SSE41 1
#define MT_X64_AVX2 2
#ifndef MT_X64_SIMD_MAX
#define MT_X64_SIMD_MAX MT_X64_AVX2
#endif

#if defined(__x86_64__) && MT_X64_SIMD_MAX > MT_X64_PORTABLE
#define MT_X64 1
#else
#define MT_X64 0
#endif

#if defined(__x86_64__)
// The best level this CPU and OS support (AVX2 also needs the OS to save ymm registers),
// capped by MT_X64_SIMD_MAX; cpuid runs once, then the answer is kept. (Built at every cap:
// tests ask it which path a build takes.)
int mt_x64_level(void);
#endif

#if MT_X64

// mt_pwconv2d_s8_fwd on every pixel (stride any), dims and params already checked.
int mt_pwconv2d_s8_fwd_x64(const mt_conv_params *params, const mt_quant_params *quant,
                           const mt_dims *input_dims, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, const mt_dims *output_dims, int8_t *output);

// mt_conv2d_s8_fwd for a small window (kh * kw * c_in <= MT_X64_PATCH_MAX, c_out <=
// MT_X64_CONV_C_OUT_MAX): the first conv of an image model (3 input channels). Dims and params
// already checked.
#define MT_X64_PATCH_MAX 64
#define MT_X64_CONV_C_OUT_MAX 64
int mt_conv2d_s8_fwd_x64(const mt_conv_params *params, const mt_quant_params *quant,
                         const mt_dims *input_dims, const int8_t *input,
                         const mt_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                         const mt_dims *output_dims, int8_t *output);

// mt_dwconv2d_s8_fwd, dims and params already checked.
int mt_dwconv2d_s8_fwd_x64(const mt_conv_params *params, const mt_quant_params *quant,
                           const mt_dims *input_dims, const int8_t *input,
                           const mt_dims *filter_dims, const int8_t *filter,
                           const int32_t *bias, const mt_dims *output_dims, int8_t *output);

// The q8 grad_in sums of n input channels of one tap (n <= MT_X64_TAP_BLOCK):
//   s[i] += sum over o < c_out of qm[o] * w[o * w_stride + i], i < n.
#define MT_X64_TAP_BLOCK 32
int mt_conv_q8_tap_sums_x64(const int16_t *qm, const int8_t *w, int32_t w_stride,
                            int32_t c_out, int32_t n, int32_t *s);

// The q8 grad_in output step of a block of n sums (mt_grad_sink_x64_body.h): max(max, |s[i]|),
// and the int8 values mt_grad_put stores for v = (float)s[i] * c. Called on SSE4.1 and AVX2
// levels only (the caller asks mt_x64_level first).
int32_t mt_x64_sums_abs_max(const int32_t *s, int32_t n, int32_t max);
void mt_x64_sums_q8_store(const int32_t *s, int32_t n, float c, float inv, int8_t *q);

// mt_dwconv2d_q8_grad_in's sums of one tap: acc[i] += q[i] * w[i], i < c (SSE4.1 and AVX2
// levels only). Its pixel loop keeps c sums on the stack: up to MT_X64_DW_C_MAX channels.
#define MT_X64_DW_C_MAX 1024
void mt_x64_dw_tap_add(const int8_t *q, const int8_t *w, int32_t c, int32_t *acc);

// mt_conv_q8_update's sums of one run of pixels for saved channels i < count:
//   sum[i] += sum over p < pixels of q[p * q_step + (depthwise ? i : 0)] * (x[p * x_step + i]
//   + offset)
// for the first channels in whole vectors; returns how many it did (0 on the portable level).
int32_t mt_conv_q8_run_sums_x64(const int8_t *x, const int8_t *q, int32_t x_step,
                                int32_t q_step, int32_t pixels, int32_t offset, int depthwise,
                                int32_t count, int32_t *sum);
#endif

#endif
