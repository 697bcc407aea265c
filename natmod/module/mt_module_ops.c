// SPDX-License-Identifier: MIT
// op(), op_count(), op_info(): the op table (natmod/ops/mt_ops.h) seen from Python.
#include "mt_module.h"
#include "mt_module_buffers.h"
#include "../ops/mt_ops.h"

// The row of op_id; raises ValueError("unknown op") for an id outside the table.
static const mt_op_info *op_from_id(mt_obj op_id, uint32_t *id_out) {
    intptr_t id = mt_get_int(op_id);
    const mt_op_info *op = NULL;
    if (id >= 0 && (uintptr_t)id <= UINT32_MAX) {
        op = mt_op_get((uint32_t)id);
    }
    if (op == NULL) {
        mt_raise_value_error(mt_status_message(MT_ERR_UNKNOWN_OP));
    }
    *id_out = (uint32_t)id;
    return op;
}

static MT_NORETURN void raise_op_error(const mt_op_info *op, const char *problem) {
    mt_message m;
    mt_message_init(&m);
    mt_message_add(&m, op->name);
    mt_message_add(&m, ": ");
    mt_message_add(&m, problem);
    mt_raise_message(MT_QSTR(ValueError), &m);
}

// args is array('i'), or None / an empty buffer for an op without int arguments.
static void get_int_args(mt_obj args, mt_buffer *out) {
    if (mt_is_none(args)) {
        out->data = NULL;
        out->len = 0;
        return;
    }
    mt_buffer any;
    if (mt_try_buffer(args, &any, MT_BUF_READ) && any.len == 0) {
        *out = any;
        return;
    }
    mt_module_get_buffer(args, 'i', false, "args", -1, out);
}

// op(op_id, args, *bufs): check every buffer against the op's row, then run it.
mt_obj mt_module_op(size_t n_args, const mt_obj *args) {
    uint32_t id;
    const mt_op_info *op = op_from_id(args[0], &id);
    mt_buffer int_args;
    get_int_args(args[1], &int_args);

    size_t n_bufs = n_args - 2;
    if (n_bufs != op->n_bufs) {
        mt_message m;
        mt_message_init(&m);
        mt_message_add(&m, op->name);
        mt_message_add(&m, ": takes ");
        mt_message_add_int(&m, op->n_bufs);
        mt_message_add(&m, " buffers, got ");
        mt_message_add_int(&m, (intptr_t)n_bufs);
        mt_raise_message(MT_QSTR(TypeError), &m);
    }
    mt_buf bufs[MT_MODULE_MAX_BUFS];
    for (size_t i = 0; i < n_bufs; i++) {
        if (op->buf_types[i] == '\0') {
            raise_op_error(op, "op table row lists too few buffer types");
        }
        bool writes = (op->writes >> i) & 1u;
        mt_buffer b;
        mt_module_get_buffer(args[2 + i], op->buf_types[i], writes, "buffer", (intptr_t)i, &b);
        bufs[i].data = b.data;
        bufs[i].len = b.len;
    }
    mt_status status = mt_op_run(id, (const int32_t *)int_args.data,
                                 int_args.len / sizeof(int32_t), bufs, n_bufs);
    if (status != MT_OK) {
        raise_op_error(op, mt_status_message(status));
    }
    return mt_none();
}

mt_obj mt_module_op_count(void) {
    return mt_int((intptr_t)mt_op_count());
}

// op_info(op_id) -> (name, n_args, n_bufs, buf_types, writes)
mt_obj mt_module_op_info(mt_obj op_id) {
    uint32_t id;
    const mt_op_info *op = op_from_id(op_id, &id);
    mt_obj items[5] = {
        mt_str_c(op->name),
        mt_int(op->n_args),
        mt_int(op->n_bufs),
        mt_str_c(op->buf_types),
        mt_int((intptr_t)op->writes),
    };
    return mt_tuple(5, items);
}
