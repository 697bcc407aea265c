// SPDX-License-Identifier: MIT
// Adapters listed in the op table (mt_ops.c). Each unpacks args/bufs and calls one kernel.
// mt_op_run has already checked n_args and n_bufs against the table, so adapters only check
// sizes that depend on the arguments.
#ifndef MT_OP_ADAPTERS_H
#define MT_OP_ADAPTERS_H

#include "mt_ops.h"

#define MT_OP_ADAPTER(fn_name) \
    mt_status fn_name(const int32_t *args, size_t n_args, const mt_buf *bufs, size_t n_bufs)

MT_OP_ADAPTER(mt_op_dot_s8);

#endif
