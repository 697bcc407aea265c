// SPDX-License-Identifier: MIT
// memset, memcpy and memmove for the module: gcc may emit calls to them even in freestanding
// code (struct copies, zeroing), and a module links against no C library.
// The optimize attribute stops gcc from turning these very loops back into calls to themselves;
// clang (xtensawin) does not do that under -ffreestanding and has no such attribute.
#include <stddef.h>
#include <stdint.h>

#if defined(__clang__)
#define MT_NO_LIBCALLS
#else
#define MT_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif

void *memset(void *dst, int value, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);

MT_NO_LIBCALLS void *memset(void *dst, int value, size_t n) {
    unsigned char *d = dst;
    while (n-- > 0) {
        *d++ = (unsigned char)value;
    }
    return dst;
}

MT_NO_LIBCALLS void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if ((uintptr_t)d <= (uintptr_t)s) {
        while (n-- > 0) {
            *d++ = *s++;
        }
    } else {
        // Copy backwards so that an overlapping source is read before it is overwritten.
        d += n;
        s += n;
        while (n-- > 0) {
            *--d = *--s;
        }
    }
    return dst;
}

MT_NO_LIBCALLS void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    return memmove(dst, src, n);
}
