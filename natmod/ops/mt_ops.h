// SPDX-License-Identifier: MIT
// The op table: one adapter per kernel that unpacks a flat int32 argument list and a list of
// buffers, checks every size, and calls the kernel. The same table serves three callers:
//   - the module glue (`_microtrain.op(op_id, args, *bufs)`), for tests on a board or unix port,
//   - the executor of a training program (buffers are slices of the arena and the weights),
//   - the host shared library (ctypes), which simulates the device bit for bit.
// Float arguments (scales, learning rate) travel as the IEEE-754 bits of a float32 in an int32.
#ifndef MT_OPS_H
#define MT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/mt_status.h"

typedef struct {
    void *data;
    size_t len;  // bytes
} mt_buf;

typedef mt_status (*mt_op_fn)(const int32_t *args, size_t n_args, const mt_buf *bufs,
                              size_t n_bufs);

typedef struct {
    const char *name;       // kernel name, e.g. "mt_dot_s8"
    mt_op_fn fn;
    uint8_t n_args;         // int32 arguments it takes
    uint8_t n_bufs;         // buffers it takes
    const char *buf_types;  // one char per buffer: 'b' int8, 'i' int32, 'f' float32
    uint32_t writes;        // bit i set: buffer i is written
} mt_op_info;

// Number of ops and their descriptions; op ids are indices into this table.
size_t mt_op_count(void);
const mt_op_info *mt_op_get(uint32_t op_id);

// Look up op_id, check the counts, run it.
mt_status mt_op_run(uint32_t op_id, const int32_t *args, size_t n_args, const mt_buf *bufs,
                    size_t n_bufs);

#endif
