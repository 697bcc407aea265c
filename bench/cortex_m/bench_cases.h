// SPDX-License-Identifier: MIT
// The table of benchmark cases, written as C by the Python driver (bench/cortex_m.py): each
// case is one call of an op-table adapter on buffers placed in the image's RAM.
#ifndef BENCH_CASES_H
#define BENCH_CASES_H

#include <stdint.h>

#include "ops/mt_ops.h"

typedef struct {
    const char *op;  // op-table name; the id is looked up in the linked table
    const int32_t *args;
    uint32_t n_args;
    const mt_buf *bufs;  // written in place by the op
    uint32_t n_bufs;
    uint32_t dump;  // bit i set: print buffer i after the call
} bench_case;

extern const bench_case bench_cases[];
extern const uint32_t bench_case_count;

#endif
