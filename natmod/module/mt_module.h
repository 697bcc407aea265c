// SPDX-License-Identifier: MIT
// The wrappers the module exports (mt_module.c lists them). Each unboxes and checks its
// arguments, calls a kernel or the op table, and boxes the result.
#ifndef MT_MODULE_H
#define MT_MODULE_H

#include "../sdk/mt_natmod.h"

// Buffers a single op() call can pass; the largest op of the table takes far fewer.
#define MT_MODULE_MAX_BUFS 16

mt_obj mt_module_info(void);
mt_obj mt_module_op(size_t n_args, const mt_obj *args);
mt_obj mt_module_op_count(void);
mt_obj mt_module_op_info(mt_obj op_id);
mt_obj mt_module_dot_s8(mt_obj a, mt_obj b);
mt_obj mt_module_f32_bits(mt_obj x);
mt_obj mt_module_f32_from_bits(mt_obj bits);
mt_obj mt_module_requant(mt_obj x, mt_obj multiplier, mt_obj shift);
mt_obj mt_module_run(size_t n_args, const mt_obj *args);
mt_obj mt_module_check(size_t n_args, const mt_obj *args);
mt_obj mt_module_typecode(mt_obj o);

#endif
