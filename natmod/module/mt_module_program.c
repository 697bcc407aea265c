// SPDX-License-Identifier: MIT
// run(program, arena, weights, params, x, y, out) and check(...): the training program
// executor (natmod/ops/mt_program.h) seen from Python. No allocation on the success path:
// learn() on the device is one call of run(). check() also takes x and y as sizes in bytes
// (ints), so a model is checked at load without allocating an input-sized buffer.
#include "mt_module.h"
#include "mt_module_buffers.h"
#include "../ops/mt_program.h"

// Region order is mt_region's; what each region must be, for the messages.
static const char *const region_names[MT_REGION_COUNT] = {
    "arena", "weights", "params", "x", "y", "out",
};

static void get_region(mt_obj o, size_t region, mt_buf *out) {
    mt_buffer b;
    bool writable = region == MT_REGION_ARENA || region == MT_REGION_PARAMS ||
                    region == MT_REGION_OUTPUT;
    if (!mt_try_buffer(o, &b, writable ? MT_BUF_WRITE : MT_BUF_READ)) {
        mt_message m;
        mt_message_init(&m);
        mt_message_add(&m, region_names[region]);
        mt_message_add(&m, writable ? ": expected a writable buffer" : ": expected a buffer");
        mt_raise_message(MT_QSTR(TypeError), &m);
    }
    // Inputs may be int8 or float; int32 and float buffers must be word aligned.
    if (b.typecode == 'f' || b.typecode == 'i') {
        if (((uintptr_t)b.data & 3u) != 0) {
            mt_raise_value_error("buffer not 4-byte aligned");
        }
    }
    out->data = b.data;
    out->len = b.len;
}

// What a size-only region points at: check() bounds offsets and lengths, never reads data.
static const uint32_t size_only_region[1] = {0};

static bool get_size_only(mt_obj o, size_t region, mt_buf *out) {
    mt_buffer b;
    if ((region != MT_REGION_INPUT && region != MT_REGION_TARGET) ||
        mt_try_buffer(o, &b, MT_BUF_READ)) {
        return false;
    }
    intptr_t size = mt_get_int(o);  // TypeError for anything but an int
    if (size < 0) {
        mt_raise_value_error("region size must be >= 0");
    }
    out->data = (void *)size_only_region;
    out->len = (size_t)size;
    return true;
}

static void get_program(mt_obj o, mt_buffer *out) {
    if (!mt_try_buffer(o, out, MT_BUF_READ)) {
        mt_raise_type_error("program: expected bytes");
    }
}

static MT_NORETURN void raise_program_error(mt_status status, uint32_t failed_op) {
    mt_message m;
    mt_message_init(&m);
    mt_message_add(&m, "training program op ");
    mt_message_add_int(&m, (intptr_t)failed_op);
    mt_message_add(&m, ": ");
    mt_message_add(&m, mt_status_message(status));
    if (status == MT_ERR_PROGRAM || status == MT_ERR_READ_ONLY) {
        mt_message_add(&m, " (or built for another _microtrain version)");
    }
    mt_raise_message(MT_QSTR(ValueError), &m);
}

static mt_status walk(size_t n_args, const mt_obj *args, bool execute, uint32_t *failed_op) {
    (void)n_args;
    mt_buffer program;
    get_program(args[0], &program);
    mt_buf regions[MT_REGION_COUNT];
    for (size_t r = 0; r < MT_REGION_COUNT; r++) {
        if (execute || !get_size_only(args[1 + r], r, &regions[r])) {
            get_region(args[1 + r], r, &regions[r]);
        }
    }
    if (execute) {
        return mt_program_run((const uint8_t *)program.data, program.len, regions,
                              MT_REGION_COUNT, failed_op);
    }
    *failed_op = 0;
    return mt_program_check((const uint8_t *)program.data, program.len, regions,
                            MT_REGION_COUNT);
}

mt_obj mt_module_run(size_t n_args, const mt_obj *args) {
    uint32_t failed_op = 0;
    mt_status status = walk(n_args, args, true, &failed_op);
    if (status != MT_OK) {
        raise_program_error(status, failed_op);
    }
    return mt_none();
}

mt_obj mt_module_check(size_t n_args, const mt_obj *args) {
    uint32_t failed_op = 0;
    mt_status status = walk(n_args, args, false, &failed_op);
    if (status != MT_OK) {
        raise_program_error(status, failed_op);
    }
    return mt_none();
}

// typecode(buf) -> int: the buffer's typecode ('f' is 102; bytearray gives 1), so Python code
// can check an input's element type without allocating.
mt_obj mt_module_typecode(mt_obj o) {
    mt_buffer b;
    if (!mt_try_buffer(o, &b, MT_BUF_READ)) {
        mt_raise_type_error("expected a buffer");
    }
    return mt_int(b.typecode);
}
