// SPDX-License-Identifier: MIT
// The benchmark driver: runs each case of the generated table once through mt_op_run and prints
// what it measured on the semihosting console, one line per fact:
//   calib <instructions> <ticks>   a loop of a known instruction count, to turn ticks into
//                                  instructions without trusting the board's clock frequency
//   overhead <ticks>               two back-to-back timer reads, subtracted from every case
//   case <i> <status> <ticks>      one op call
//   buf <i> <j> <hex>              bytes of buffer j of case i after the call (in chunks)
//   end
#include <stdint.h>
#include <string.h>

#include "bench_cases.h"
#include "semihost.h"
#include "timer.h"

#define CALIB_LOOPS 1000000u
#define HEX_CHUNK 96  // bytes of a buffer per printed line

// Exactly 2 instructions per iteration: subs, bne. gcc writes Thumb-1 code (Cortex-M0) in the
// divided assembler syntax, where this spelling needs .syntax unified.
static void spin(uint32_t n) {
#if defined(__thumb2__)
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
#else
    __asm__ volatile(".syntax unified\n1: subs %0, %0, #1\n\tbne 1b\n.syntax divided"
                     : "+r"(n)
                     :
                     : "cc");
#endif
}

static char *put_text(char *at, const char *text) {
    while (*text) {
        *at++ = *text++;
    }
    return at;
}

static char *put_int(char *at, int32_t value) {
    char digits[12];
    int n = 0;
    uint32_t v = value < 0 ? 0u - (uint32_t)value : (uint32_t)value;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    if (value < 0) {
        *at++ = '-';
    }
    while (n) {
        *at++ = digits[--n];
    }
    return at;
}

// Ends the text in line[..end) with a newline and writes it.
static void print_line(char *line, char *end) {
    *end++ = '\n';
    *end = 0;
    semihost_write(line);
}

static int32_t op_id_of(const char *name) {
    for (uint32_t id = 0; id < mt_op_count(); id++) {
        if (strcmp(mt_op_get(id)->name, name) == 0) {
            return (int32_t)id;
        }
    }
    return -1;
}

static void dump_buffer(uint32_t case_index, uint32_t buf_index, const mt_buf *buf) {
    static const char hex[] = "0123456789abcdef";
    static char line[64 + 2 * HEX_CHUNK];
    const uint8_t *bytes = buf->data;
    // At least one line, so an empty buffer reads back as empty rather than missing.
    for (size_t at = 0; at == 0 || at < buf->len; at += HEX_CHUNK) {
        char *p = put_text(line, "buf ");
        p = put_int(p, (int32_t)case_index);
        p = put_text(p, " ");
        p = put_int(p, (int32_t)buf_index);
        p = put_text(p, " ");
        for (size_t i = at; i < buf->len && i < at + HEX_CHUNK; i++) {
            *p++ = hex[bytes[i] >> 4];
            *p++ = hex[bytes[i] & 15];
        }
        print_line(line, p);
    }
}

int main(void) {
    static char line[64];
    timer_start();

    uint32_t t0 = timer_now();
    spin(CALIB_LOOPS);
    uint32_t t1 = timer_now();
    char *p = put_text(line, "calib ");
    p = put_int(p, (int32_t)(2 * CALIB_LOOPS));
    p = put_text(p, " ");
    print_line(line, put_int(p, (int32_t)(t1 - t0)));

    t0 = timer_now();
    t1 = timer_now();
    print_line(line, put_int(put_text(line, "overhead "), (int32_t)(t1 - t0)));

    for (uint32_t i = 0; i < bench_case_count; i++) {
        const bench_case *c = &bench_cases[i];
        int32_t id = op_id_of(c->op);
        int32_t status = -1;  // not in the linked op table
        uint32_t ticks = 0;
        if (id >= 0) {
            t0 = timer_now();
            status = mt_op_run((uint32_t)id, c->args, c->n_args, c->bufs, c->n_bufs);
            t1 = timer_now();
            ticks = t1 - t0;
        }
        p = put_int(put_text(line, "case "), (int32_t)i);
        p = put_int(put_text(p, " "), status);
        print_line(line, put_int(put_text(p, " "), (int32_t)ticks));
        for (uint32_t j = 0; j < c->n_bufs; j++) {
            if (c->dump >> j & 1u) {
                dump_buffer(i, j, &c->bufs[j]);
            }
        }
    }
    semihost_write("end\n");
    return 0;
}
