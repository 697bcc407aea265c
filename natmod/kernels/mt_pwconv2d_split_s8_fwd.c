// SPDX-License-Identifier: MIT
#include "mt_pwconv2d_split_s8_fwd.h"

#include "mt_chanmerge_s8_fwd.h"
#include "mt_check.h"
#include "mt_pwconv2d_s8_fwd.h"

mt_status mt_learned_channels_check(const int32_t *channels, int32_t k, int32_t c) {
    if (k < 1 || k > c) {
        return MT_ERR_PARAM;
    }
    for (int32_t j = 0; channels && j < k; j++) {
        if (channels[j] < 0 || channels[j] >= c || (j > 0 && channels[j] <= channels[j - 1])) {
            return MT_ERR_PARAM;
        }
    }
    return MT_OK;
}

mt_status mt_pwconv2d_split_scratch_min(const mt_dims *filter_dims, const mt_dims *output_dims,
                                        int32_t *bytes) {
    int32_t count;
    mt_status st = mt_dims_count(output_dims, &count);
    if (st != MT_OK) {
        return st;
    }
    const int32_t pixels = count / output_dims->c;
    if (filter_dims->c < 1 || pixels > INT32_MAX - filter_dims->c) {
        return MT_ERR_SHAPE;
    }
    *bytes = filter_dims->c + pixels;
    return MT_OK;
}

mt_status mt_pwconv2d_split_s8_fwd(const mt_conv_params *params, const mt_quant_params *quant,
                                   const mt_dims *input_dims, const int8_t *input,
                                   const mt_dims *filter_dims, const int8_t *filter,
                                   const int8_t *learned, const int32_t *channels, int32_t k,
                                   const int32_t *bias, const mt_dims *output_dims,
                                   int8_t *output, int8_t *scratch, size_t scratch_len) {
    if (!mt_pwconv2d_s8_fwd_applies(params, filter_dims)) {
        return MT_ERR_PARAM;
    }
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c_in = input_dims->c, c_out = output_dims->c;
    if (filter_dims->c != c_in || filter_dims->n != c_out) {
        return MT_ERR_SHAPE;
    }
    int32_t row_bytes;
    if ((st = mt_learned_channels_check(channels, k, c_in)) != MT_OK ||
        (st = mt_pwconv2d_split_scratch_min(filter_dims, output_dims, &row_bytes)) != MT_OK) {
        return st;
    }
    if (scratch_len < (size_t)row_bytes) {
        return MT_ERR_BUFFER_SIZE;
    }
    const int32_t pixels = row_bytes - c_in;
    const size_t fit = scratch_len / (size_t)row_bytes;
    const int32_t group = fit < (size_t)c_out ? (int32_t)fit : c_out;
    int8_t *rows = scratch, *cols = scratch + (size_t)group * c_in;
    for (int32_t first = 0; first < c_out; first += group) {
        const int32_t g = c_out - first < group ? c_out - first : group;
        const mt_dims merged = {1, 1, g, c_in}, filter_g = {g, 1, 1, c_in};
        const mt_dims out_g = {output_dims->n, output_dims->h, output_dims->w, g};
        const mt_quant_params quant_g = {quant->multiplier + first, quant->shift + first};
        if ((st = mt_chanmerge_s8_fwd(&merged, filter + (size_t)first * c_in,
                                      learned + (size_t)first * k, channels, k, rows)) != MT_OK ||
            (st = mt_pwconv2d_s8_fwd(params, &quant_g, input_dims, input, &filter_g, rows,
                                     bias ? bias + first : bias, &out_g, cols)) != MT_OK) {
            break;
        }
        for (int32_t p = 0; p < pixels; p++) {
            for (int32_t j = 0; j < g; j++) {
                output[(size_t)p * c_out + first + j] = cols[(size_t)p * g + j];
            }
        }
    }
    // Left zero: the arena's bytes are then the same on every build and in numpy.
    const size_t used = (size_t)group * row_bytes;
    for (size_t i = 0; i < used; i++) {
        scratch[i] = 0;
    }
    return st;
}
