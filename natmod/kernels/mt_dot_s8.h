// SPDX-License-Identifier: MIT
#ifndef MT_DOT_S8_H
#define MT_DOT_S8_H

#include <stddef.h>
#include <stdint.h>

#include "mt_status.h"

// Dot product of two int8 vectors of length n with int32 accumulation.
// Wraps like two's complement int32 would never be needed: n * 128 * 128 fits for n < 2^17;
// larger n is refused with MT_ERR_PARAM rather than overflowing.
mt_status mt_dot_s8(const int8_t *a, const int8_t *b, size_t n, int32_t *out);

#endif
