// SPDX-License-Identifier: MIT
// dot_s8(a, b) -> int: the int8 dot product kernel called directly, returning an int.
#include "mt_module.h"
#include "mt_module_buffers.h"
#include "../kernels/mt_dot_s8.h"

mt_obj mt_module_dot_s8(mt_obj a_obj, mt_obj b_obj) {
    mt_buffer a, b;
    mt_module_get_buffer(a_obj, 'b', false, "a", -1, &a);
    mt_module_get_buffer(b_obj, 'b', false, "b", -1, &b);
    if (a.len != b.len) {
        mt_raise_value_error("dot_s8: lengths differ");
    }
    int32_t result;
    mt_status status = mt_dot_s8((const int8_t *)a.data, (const int8_t *)b.data, a.len, &result);
    if (status != MT_OK) {
        mt_message m;
        mt_message_init(&m);
        mt_message_add(&m, "dot_s8: ");
        mt_message_add(&m, mt_status_message(status));
        mt_raise_message(MT_QSTR(ValueError), &m);
    }
    return mt_int(result);
}
