// SPDX-License-Identifier: MIT
// The executor of a training program compiled on the host (microtrain_tools.program).
//
// A program is a flat list of op calls. Every buffer an op touches is a (region, offset, length)
// reference fixed at compile time, so running it allocates nothing and needs no graph logic on
// the device. Layout, little-endian:
//
//   header, 16 bytes:  "MTPG" | u16 version | u16 reserved | u32 op_table_hash | u32 n_ops
//   n_ops records:     u16 op_id | u8 n_args | u8 n_bufs | i32 args[n_args]
//                      | n_bufs x (u32 region << 28 | offset, u32 length)
//
// Regions are the buffers the caller passes: see mt_region below. Only the arena, the params and
// the output are written: an op that writes a buffer in the weights, x or y is refused
// (MT_ERR_READ_ONLY) when the program is checked, before any op runs.
#ifndef MT_PROGRAM_H
#define MT_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "mt_ops.h"

#define MT_PROGRAM_VERSION 1
#define MT_PROGRAM_HEADER_SIZE 16
#define MT_PROGRAM_MAX_ARGS 32
#define MT_PROGRAM_MAX_BUFS 12

typedef enum {
    MT_REGION_ARENA = 0,    // activations, gradients, scratch: planned by the host
    MT_REGION_WEIGHTS = 1,  // frozen int8 weights, int32 biases, requant tables (flash)
    MT_REGION_PARAMS = 2,   // trainable state: updated weights/biases, master copies, momentum
    MT_REGION_INPUT = 3,    // x
    MT_REGION_TARGET = 4,   // y (label or regression target)
    MT_REGION_OUTPUT = 5,   // results read by the caller: logits, loss
    MT_REGION_COUNT = 6
} mt_region;

// FNV-1a hash of the op names in table order: a program records the table it was compiled for.
uint32_t mt_op_table_hash(void);

// Check a whole program against the regions (header, op ids, argument counts, every buffer
// inside its region, no write to the weights, x or y) without running it.
mt_status mt_program_check(const uint8_t *program, size_t len, const mt_buf *regions,
                           size_t n_regions);

// Run every op in order. On failure, *failed_op (if not NULL) is the index of the failing op.
mt_status mt_program_run(const uint8_t *program, size_t len, const mt_buf *regions,
                         size_t n_regions, uint32_t *failed_op);

#endif
