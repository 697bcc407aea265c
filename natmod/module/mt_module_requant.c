// SPDX-License-Identifier: MIT
// requant(x, multiplier, shift) -> int: the one requantization step every forward kernel uses
// (natmod/kernels/mt_requant.h), so a board can be checked against the host's reference
// (microtrain_tools.quant.multiply_by_quantized_multiplier) value by value.
#include "mt_module.h"
#include "../kernels/mt_requant.h"

mt_obj mt_module_requant(mt_obj x, mt_obj multiplier, mt_obj shift) {
    int32_t x_value = mt_get_int32(x);
    int32_t multiplier_value = mt_get_int32(multiplier);
    int32_t shift_value = mt_get_int32(shift);
    if (shift_value < MT_SHIFT_MIN || shift_value > MT_SHIFT_MAX) {
        mt_raise_value_error("shift must be in -31..30");
    }
    return mt_int(mt_requant(x_value, multiplier_value, shift_value));
}
