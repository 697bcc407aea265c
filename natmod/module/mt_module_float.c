// SPDX-License-Identifier: MIT
// f32_bits(x) -> int and f32_from_bits(i) -> float: float parameters of ops travel as the
// IEEE-754 bits of a float32 in an int32 argument. Both also show on a board that floats cross
// the runtime's table in the right ABI: f32_bits(1.5) must be 0x3fc00000.
#include "mt_module.h"

typedef union {
    float f;
    int32_t i;
} float_bits;

mt_obj mt_module_f32_bits(mt_obj x) {
    float_bits v;
    v.f = mt_get_float(x);
    return mt_int(v.i);
}

mt_obj mt_module_f32_from_bits(mt_obj bits) {
    // The low 32 bits, so the signed and unsigned spellings (-0x40800000, 0xbf800000) agree.
    float_bits v;
    v.i = (int32_t)(uint32_t)mt_get_int_bits(bits);
    return mt_float(v.f);
}
