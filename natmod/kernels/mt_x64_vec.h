// SPDX-License-Identifier: MIT
// The vector words of the x64 kernel bodies, for one ISA at a time. mt_x64_kernels.c includes
// this header and the bodies (mt_x64_bodies.h) twice, under `#pragma GCC target("avx2")` with
// MT_X64_VEC_BITS 256 and under target("sse4.1") with 128, so one body gives both paths; V(f)
// names a function of the current ISA (f_avx2, f_sse41). Integer lanes only: int8 loads
// widened to int16, pmaddwd pairs summed into int32 lanes (VL of them), exact for the kernels'
// bounded sums.
#include <immintrin.h>
#include <string.h>

#include "mt_requant.h"

#undef V
#undef VL
#undef vec
#ifndef MT_VI
// Inlined at -Os too (the natmod build): these sit in the kernels' inner loops.
#define MT_VI static inline __attribute__((always_inline))
#endif
#if MT_X64_VEC_BITS == 256
#define V(name) name##_avx2
#define VL 8  // int32 lanes
#define vec __m256i
#else
#define V(name) name##_sse41
#define VL 4
#define vec __m128i
#endif

// n lanes (any n) through mt_requant_s8 one by one: the tails of channel blocks.
MT_VI void V(v_requant_n)(const int32_t *acc, int32_t n, const int32_t *bias,
                                  const int32_t *mult, const int32_t *shift, int32_t out_offset,
                                  int32_t act_min, int32_t act_max, int8_t *y) {
    for (int32_t j = 0; j < n; j++) {
        y[j] = mt_requant_s8(mt_add_sat_s32(acc[j], bias[j]), mult[j], shift[j], out_offset,
                             act_min, act_max);
    }
}

// 8 int8 at p as int16, and the widened products of 8 int16 lanes (each product fits int16,
// see the caller): SSE4.1 words, in both paths (AVX2's 8-channel tails).
MT_VI __m128i V(h_s16_from_s8)(const int8_t *p) {
    return _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)p));
}
MT_VI __m128i V(h_mul_s16_lo)(__m128i a, __m128i b) {
    return _mm_cvtepi16_epi32(_mm_mullo_epi16(a, b));
}
MT_VI __m128i V(h_mul_s16_hi)(__m128i a, __m128i b) {
    return _mm_cvtepi16_epi32(_mm_srli_si128(_mm_mullo_epi16(a, b), 8));
}

#if MT_X64_VEC_BITS == 256

MT_VI vec V(v_zero)(void) { return _mm256_setzero_si256(); }
MT_VI vec V(v_add)(vec a, vec b) { return _mm256_add_epi32(a, b); }
MT_VI vec V(v_add_s16)(vec a, vec b) { return _mm256_add_epi16(a, b); }
MT_VI vec V(v_and)(vec a, vec b) { return _mm256_and_si256(a, b); }
MT_VI vec V(v_max)(vec a, vec b) { return _mm256_max_epi32(a, b); }
MT_VI vec V(v_abs)(vec a) { return _mm256_abs_epi32(a); }
// mt_grad_put's int8 of (float)acc * c, lane by lane: the same float operations.
MT_VI vec V(v_q8_of_sums)(vec acc, float c, float inv) {
    const __m256 t = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(c)),
                                   _mm256_set1_ps(inv));
    const __m256 half = _mm256_blendv_ps(_mm256_set1_ps(-0.5f), _mm256_set1_ps(0.5f),
                                         _mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_GE_OQ));
    const vec q = _mm256_cvttps_epi32(_mm256_add_ps(t, half));
    return _mm256_min_epi32(_mm256_max_epi32(q, _mm256_set1_epi32(-127)),
                            _mm256_set1_epi32(127));
}
MT_VI vec V(v_madd)(vec a, vec b) { return _mm256_madd_epi16(a, b); }
MT_VI vec V(v_set1)(int32_t v) { return _mm256_set1_epi32(v); }
MT_VI vec V(v_set1_s16)(int16_t v) { return _mm256_set1_epi16(v); }
MT_VI vec V(v_load)(const int32_t *p) { return _mm256_loadu_si256((const vec *)p); }
MT_VI void V(v_store)(int32_t *p, vec v) { _mm256_storeu_si256((vec *)p, v); }
MT_VI vec V(v_load_s16)(const int16_t *p) { return _mm256_loadu_si256((const vec *)p); }
// 2 VL int8 at p as int16.
MT_VI vec V(v_s16_from_s8)(const int8_t *p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p));
}
// VL int8 of a and of b interleaved as int16 pairs (a0, b0, a1, b1, ...).
MT_VI vec V(v_s16_pairs)(const int8_t *a, const int8_t *b) {
    const __m128i va = _mm_loadl_epi64((const __m128i *)a), vb = _mm_loadl_epi64((const __m128i *)b);
    return _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(va, vb));
}
// The int16 lanes' products (each fits int16, see the caller) widened: lanes 0..VL-1, VL..2VL-1.
MT_VI vec V(v_mul_s16_lo)(vec a, vec b) {
    return _mm256_cvtepi16_epi32(_mm256_castsi256_si128(_mm256_mullo_epi16(a, b)));
}
MT_VI vec V(v_mul_s16_hi)(vec a, vec b) {
    return _mm256_cvtepi16_epi32(_mm256_extracti128_si256(_mm256_mullo_epi16(a, b), 1));
}
// {sum a, sum b, sum c, sum d}.
MT_VI __m128i V(v_sums4)(vec a, vec b, vec c, vec d) {
    const vec ab = _mm256_hadd_epi32(a, b), cd = _mm256_hadd_epi32(c, d);
    const vec abcd = _mm256_hadd_epi32(ab, cd);
    return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}
MT_VI int32_t V(v_sum)(vec a) {
    const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    const __m128i t = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    return _mm_cvtsi128_si32(_mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1)));
}

// mt_requant_s8(mt_add_sat_s32(acc, bias[j]), mult[j], shift[j], ...) of 8 lanes into y[0..8),
// the same integer steps as mt_requant.h lane by lane (AVX2 has per-lane shifts).
MT_VI void V(v_requant8)(vec acc, const int32_t *bias, const int32_t *mult,
                                 const int32_t *shift, int32_t out_offset, int32_t act_min,
                                 int32_t act_max, int8_t *y) {
    const vec int_max = _mm256_set1_epi32(INT32_MAX), int_min = _mm256_set1_epi32(INT32_MIN);
    const vec b = _mm256_loadu_si256((const vec *)bias);
    const vec m = _mm256_loadu_si256((const vec *)mult);
    const vec s = _mm256_loadu_si256((const vec *)shift);
    // mt_add_sat_s32: an overflow (both signs differ from the sum's) saturates to acc's side.
    const vec sum = _mm256_add_epi32(acc, b);
    const vec ovf = _mm256_srai_epi32(
        _mm256_and_si256(_mm256_xor_si256(acc, sum), _mm256_xor_si256(b, sum)), 31);
    vec x = _mm256_blendv_epi8(sum, _mm256_xor_si256(_mm256_srai_epi32(acc, 31), int_max), ovf);
    // shift > 0: x * 2^shift saturated (limits shifted down); shift <= 0: unchanged.
    const vec zero = _mm256_setzero_si256();
    const vec left = _mm256_max_epi32(s, zero), right = _mm256_max_epi32(_mm256_sub_epi32(zero, s), zero);
    const vec too_big = _mm256_cmpgt_epi32(x, _mm256_srav_epi32(int_max, left));
    const vec too_small = _mm256_cmpgt_epi32(_mm256_srav_epi32(int_min, left), x);
    x = _mm256_blendv_epi8(_mm256_sllv_epi32(x, left), int_max, too_big);
    x = _mm256_blendv_epi8(x, int_min, too_small);
    // mt_sat_rounding_doubling_high_mul: bits 31..62 of x m + 2^30, even lanes then odd.
    const vec half = _mm256_set1_epi64x((int64_t)1 << 30);
    const vec even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, m), half), 31);
    const vec odd = _mm256_slli_epi64(
        _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)),
                         half), 1);
    vec h = _mm256_blend_epi32(even, odd, 0xaa);
    const vec both_min = _mm256_and_si256(_mm256_cmpeq_epi32(x, int_min),
                                          _mm256_cmpeq_epi32(m, int_min));
    h = _mm256_blendv_epi8(h, int_max, both_min);
    // mt_rounding_divide_by_pot by right = -shift (0: unchanged).
    const vec mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), right),
                                      _mm256_set1_epi32(1));
    const vec threshold = _mm256_add_epi32(_mm256_srai_epi32(mask, 1), _mm256_srli_epi32(h, 31));
    const vec round_up = _mm256_cmpgt_epi32(_mm256_and_si256(h, mask), threshold);
    vec r = _mm256_sub_epi32(_mm256_srav_epi32(h, right), round_up);
    // mt_requant_s8's clamps.
    r = _mm256_min_epi32(_mm256_max_epi32(r, _mm256_set1_epi32(-256)), _mm256_set1_epi32(255));
    r = _mm256_add_epi32(r, _mm256_set1_epi32(out_offset));
    r = _mm256_min_epi32(_mm256_max_epi32(r, _mm256_set1_epi32(act_min)),
                         _mm256_set1_epi32(act_max));
    const vec bytes = _mm256_packs_epi16(_mm256_packs_epi32(r, r), zero);
    const uint32_t lo = (uint32_t)_mm256_extract_epi32(bytes, 0);
    const uint32_t hi = (uint32_t)_mm256_extract_epi32(bytes, 4);
    memcpy(y, &lo, 4);
    memcpy(y + 4, &hi, 4);
}

// VL lanes of acc requantized into y[0..VL).
MT_VI void V(v_requant)(vec acc, const int32_t *bias, const int32_t *mult,
                                const int32_t *shift, int32_t out_offset, int32_t act_min,
                                int32_t act_max, int8_t *y) {
    V(v_requant8)(acc, bias, mult, shift, out_offset, act_min, act_max, y);
}
// Two groups of 4 lanes.
MT_VI void V(v_requant4x2)(__m128i a, __m128i b, const int32_t *bias,
                                   const int32_t *mult, const int32_t *shift, int32_t out_offset,
                                   int32_t act_min, int32_t act_max, int8_t *y) {
    V(v_requant8)(_mm256_set_m128i(b, a), bias, mult, shift, out_offset, act_min, act_max, y);
}

#else
MT_VI vec V(v_zero)(void) { return _mm_setzero_si128(); }
MT_VI vec V(v_add)(vec a, vec b) { return _mm_add_epi32(a, b); }
MT_VI vec V(v_add_s16)(vec a, vec b) { return _mm_add_epi16(a, b); }
MT_VI vec V(v_and)(vec a, vec b) { return _mm_and_si128(a, b); }
MT_VI vec V(v_max)(vec a, vec b) { return _mm_max_epi32(a, b); }
MT_VI vec V(v_abs)(vec a) { return _mm_abs_epi32(a); }
MT_VI vec V(v_q8_of_sums)(vec acc, float c, float inv) {
    const __m128 t = _mm_mul_ps(_mm_mul_ps(_mm_cvtepi32_ps(acc), _mm_set1_ps(c)),
                                _mm_set1_ps(inv));
    const __m128 half = _mm_blendv_ps(_mm_set1_ps(-0.5f), _mm_set1_ps(0.5f),
                                      _mm_cmpge_ps(t, _mm_setzero_ps()));
    const vec q = _mm_cvttps_epi32(_mm_add_ps(t, half));
    return _mm_min_epi32(_mm_max_epi32(q, _mm_set1_epi32(-127)), _mm_set1_epi32(127));
}
MT_VI vec V(v_madd)(vec a, vec b) { return _mm_madd_epi16(a, b); }
MT_VI vec V(v_set1)(int32_t v) { return _mm_set1_epi32(v); }
MT_VI vec V(v_set1_s16)(int16_t v) { return _mm_set1_epi16(v); }
MT_VI vec V(v_load)(const int32_t *p) { return _mm_loadu_si128((const vec *)p); }
MT_VI void V(v_store)(int32_t *p, vec v) { _mm_storeu_si128((vec *)p, v); }
MT_VI vec V(v_load_s16)(const int16_t *p) { return _mm_loadu_si128((const vec *)p); }
MT_VI vec V(v_s16_from_s8)(const int8_t *p) {
    return _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)p));
}
MT_VI vec V(v_s16_pairs)(const int8_t *a, const int8_t *b) {
    int32_t wa, wb;
    memcpy(&wa, a, 4);
    memcpy(&wb, b, 4);
    return _mm_cvtepi8_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(wa), _mm_cvtsi32_si128(wb)));
}
MT_VI vec V(v_mul_s16_lo)(vec a, vec b) {
    return _mm_cvtepi16_epi32(_mm_mullo_epi16(a, b));
}
MT_VI vec V(v_mul_s16_hi)(vec a, vec b) {
    return _mm_cvtepi16_epi32(_mm_srli_si128(_mm_mullo_epi16(a, b), 8));
}
MT_VI __m128i V(v_sums4)(vec a, vec b, vec c, vec d) {
    return _mm_hadd_epi32(_mm_hadd_epi32(a, b), _mm_hadd_epi32(c, d));
}
MT_VI int32_t V(v_sum)(vec a) {
    const __m128i t = _mm_add_epi32(a, _mm_shuffle_epi32(a, 0x4e));
    return _mm_cvtsi128_si32(_mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1)));
}

// SSE4.1 has no per-lane shifts: the lanes go through mt_requant_s8 one by one.
MT_VI void V(v_requant)(vec acc, const int32_t *bias, const int32_t *mult,
                                const int32_t *shift, int32_t out_offset, int32_t act_min,
                                int32_t act_max, int8_t *y) {
    int32_t a[4];
    _mm_storeu_si128((__m128i *)a, acc);
    V(v_requant_n)(a, 4, bias, mult, shift, out_offset, act_min, act_max, y);
}
MT_VI void V(v_requant4x2)(__m128i a, __m128i b, const int32_t *bias,
                                   const int32_t *mult, const int32_t *shift, int32_t out_offset,
                                   int32_t act_min, int32_t act_max, int8_t *y) {
    V(v_requant)(a, bias, mult, shift, out_offset, act_min, act_max, y);
    V(v_requant)(b, bias + 4, mult + 4, shift + 4, out_offset, act_min, act_max, y + 4);
}
#endif
