// SPDX-License-Identifier: MIT
// The few C library functions the image needs (gcc emits memcpy/memset for struct copies and
// the driver compares op names). Built with -fno-tree-loop-distribute-patterns so these loops
// are not turned back into calls to themselves.
#include <stddef.h>
#include <string.h>

void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

void *memset(void *dst, int value, size_t n) {
    unsigned char *d = dst;
    while (n--) {
        *d++ = (unsigned char)value;
    }
    return dst;
}

int strcmp(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}
