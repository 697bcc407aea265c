// SPDX-License-Identifier: MIT
#include "mt_dot_s8.h"

#define MT_DOT_S8_MAX_LEN ((size_t)1 << 17)

mt_status mt_dot_s8(const int8_t *a, const int8_t *b, size_t n, int32_t *out) {
    if (n > MT_DOT_S8_MAX_LEN) {
        return MT_ERR_PARAM;
    }
    int32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += (int32_t)a[i] * (int32_t)b[i];
    }
    *out = acc;
    return MT_OK;
}
