// SPDX-License-Identifier: MIT
// Status codes of every kernel and op, with their messages in one X-macro list so the enum and
// the strings cannot drift apart.
#ifndef MT_STATUS_H
#define MT_STATUS_H

#define MT_STATUS_LIST(X)                                             \
    X(MT_OK, "ok")                                                    \
    X(MT_ERR_ARGS, "wrong number of arguments")                       \
    X(MT_ERR_SHAPE, "shapes do not agree")                            \
    X(MT_ERR_BUFFER_SIZE, "buffer too small for its shape")           \
    X(MT_ERR_PARAM, "parameter out of range")                         \
    X(MT_ERR_UNKNOWN_OP, "unknown op")                                \
    X(MT_ERR_PROGRAM, "corrupt training program")                     \
    X(MT_ERR_ALIGN, "buffer not aligned to its element size")       \
    X(MT_ERR_SIZE, "too large for the kernel's exact integer sums")   \
    X(MT_ERR_READ_ONLY, "writes to a read-only buffer (weights, x or y)") \
    X(MT_ERR_NOT_FINITE, "input or target is NaN or infinite")

typedef enum {
#define MT_STATUS_ENUM(name, text) name,
    MT_STATUS_LIST(MT_STATUS_ENUM)
#undef MT_STATUS_ENUM
    MT_STATUS_COUNT
} mt_status;

// Short lowercase text for a status, for the error raised at the module boundary.
const char *mt_status_message(mt_status status);

#endif
