// SPDX-License-Identifier: MIT
#include "mt_program.h"

typedef struct {
    uint32_t op_id;
    size_t n_args;
    size_t n_bufs;
    int32_t args[MT_PROGRAM_MAX_ARGS];
    mt_buf bufs[MT_PROGRAM_MAX_BUFS];
} decoded_op;

// Programs live in bytes objects with no alignment promise: read fields byte by byte.
static uint32_t read_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint32_t read_u16(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

uint32_t mt_op_table_hash(void) {
    uint32_t hash = 2166136261u;
    for (uint32_t id = 0; id < mt_op_count(); id++) {
        const char *name = mt_op_get(id)->name;
        for (; *name; name++) {
            hash = (hash ^ (uint8_t)*name) * 16777619u;
        }
        hash = (hash ^ 0u) * 16777619u;  // the terminator separates names
    }
    return hash;
}

static mt_status check_header(const uint8_t *program, size_t len, uint32_t *n_ops) {
    if (len < MT_PROGRAM_HEADER_SIZE || program[0] != 'M' || program[1] != 'T' ||
        program[2] != 'P' || program[3] != 'G') {
        return MT_ERR_PROGRAM;
    }
    if (read_u16(program + 4) != MT_PROGRAM_VERSION) {
        return MT_ERR_PROGRAM;
    }
    if (read_u32(program + 8) != mt_op_table_hash()) {
        return MT_ERR_PROGRAM;
    }
    *n_ops = read_u32(program + 12);
    return MT_OK;
}

// The caller's x and y (often immutable bytes) and the frozen weights are only ever read.
static int writable(uint32_t region) {
    return region == MT_REGION_ARENA || region == MT_REGION_PARAMS ||
           region == MT_REGION_OUTPUT;
}

// Decode the op at *pos, checking every field and every buffer against the regions.
static mt_status decode(const uint8_t *program, size_t len, size_t *pos, const mt_buf *regions,
                        size_t n_regions, decoded_op *op) {
    size_t p = *pos;
    if (len - p < 4) {
        return MT_ERR_PROGRAM;
    }
    op->op_id = read_u16(program + p);
    op->n_args = program[p + 2];
    op->n_bufs = program[p + 3];
    p += 4;
    const mt_op_info *info = mt_op_get(op->op_id);
    if (info == NULL) {
        return MT_ERR_UNKNOWN_OP;
    }
    if (op->n_args != info->n_args || op->n_bufs != info->n_bufs ||
        op->n_args > MT_PROGRAM_MAX_ARGS || op->n_bufs > MT_PROGRAM_MAX_BUFS) {
        return MT_ERR_ARGS;
    }
    if ((len - p) / 4 < op->n_args + 2 * op->n_bufs) {
        return MT_ERR_PROGRAM;
    }
    for (size_t i = 0; i < op->n_args; i++, p += 4) {
        op->args[i] = (int32_t)read_u32(program + p);
    }
    for (size_t i = 0; i < op->n_bufs; i++, p += 8) {
        uint32_t where = read_u32(program + p);
        uint32_t length = read_u32(program + p + 4);
        uint32_t region = where >> 28;
        uint32_t offset = where & 0x0FFFFFFFu;
        if (region >= n_regions) {
            return MT_ERR_PROGRAM;
        }
        const mt_buf *r = &regions[region];
        if (offset > r->len || length > r->len - offset) {
            return MT_ERR_BUFFER_SIZE;
        }
        if ((info->writes & (1u << i)) && !writable(region)) {
            return MT_ERR_READ_ONLY;
        }
        op->bufs[i].data = (uint8_t *)r->data + offset;
        op->bufs[i].len = length;
    }
    *pos = p;
    return MT_OK;
}

static mt_status walk(const uint8_t *program, size_t len, const mt_buf *regions,
                      size_t n_regions, int execute, uint32_t *failed_op) {
    uint32_t n_ops = 0;
    mt_status status = check_header(program, len, &n_ops);
    if (status != MT_OK) {
        return status;
    }
    size_t pos = MT_PROGRAM_HEADER_SIZE;
    decoded_op op;
    for (uint32_t i = 0; i < n_ops; i++) {
        if (failed_op != NULL) {
            *failed_op = i;
        }
        status = decode(program, len, &pos, regions, n_regions, &op);
        if (status == MT_OK && execute) {
            status = mt_op_run(op.op_id, op.args, op.n_args, op.bufs, op.n_bufs);
        }
        if (status != MT_OK) {
            return status;
        }
    }
    return pos == len ? MT_OK : MT_ERR_PROGRAM;
}

mt_status mt_program_check(const uint8_t *program, size_t len, const mt_buf *regions,
                           size_t n_regions) {
    return walk(program, len, regions, n_regions, 0, NULL);
}

mt_status mt_program_run(const uint8_t *program, size_t len, const mt_buf *regions,
                         size_t n_regions, uint32_t *failed_op) {
    // Check everything first, so a damaged program never runs half way.
    mt_status status = walk(program, len, regions, n_regions, 0, failed_op);
    if (status != MT_OK) {
        return status;
    }
    return walk(program, len, regions, n_regions, 1, failed_op);
}
