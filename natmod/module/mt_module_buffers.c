// SPDX-License-Identifier: MIT
#include "mt_module_buffers.h"

static bool typecode_fits(char elem_type, int typecode) {
    // bytes and memoryviews of bytearrays report 'B'; their bytes are read as int8.
    if (elem_type == 'b') {
        return typecode == 'b' || typecode == 'B' || typecode == MT_TYPECODE_BYTEARRAY;
    }
    return typecode == elem_type;
}

static const char *expected_text(char elem_type) {
    if (elem_type == 'b') {
        return "expected array('b'), bytearray or bytes";
    }
    if (elem_type == 'i') {
        return "expected array('i')";
    }
    if (elem_type == 'f') {
        return "expected array('f')";
    }
    return "unknown element type in op table";
}

static MT_NORETURN void raise_about(size_t exc_qstr, const char *what, intptr_t index,
                                    const char *problem) {
    mt_message m;
    mt_message_init(&m);
    mt_message_add(&m, what);
    if (index >= 0) {
        mt_message_add(&m, " ");
        mt_message_add_int(&m, index);
    }
    mt_message_add(&m, ": ");
    mt_message_add(&m, problem);
    mt_raise_message(exc_qstr, &m);
}

void mt_module_get_buffer(mt_obj o, char elem_type, bool writable, const char *what,
                          intptr_t index, mt_buffer *out) {
    unsigned access = writable ? MT_BUF_WRITE : MT_BUF_READ;
    if (!mt_try_buffer(o, out, access)) {
        if (writable && mt_try_buffer(o, out, MT_BUF_READ)) {
            raise_about(MT_QSTR(TypeError), what, index, "read-only, but the op writes it");
        }
        raise_about(MT_QSTR(TypeError), what, index, expected_text(elem_type));
    }
    if (!typecode_fits(elem_type, out->typecode)) {
        raise_about(MT_QSTR(TypeError), what, index, expected_text(elem_type));
    }
    if (elem_type == 'i' || elem_type == 'f') {
        // A Cortex-M0 faults on an unaligned word access; slices of arrays stay aligned.
        if (((uintptr_t)out->data & 3u) != 0) {
            raise_about(MT_QSTR(ValueError), what, index, "not 4-byte aligned");
        }
        if ((out->len & 3u) != 0) {
            raise_about(MT_QSTR(ValueError), what, index, "length not a multiple of 4");
        }
    }
}
