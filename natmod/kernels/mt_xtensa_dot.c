// SPDX-License-Identifier: MIT
// The ESP32 / ESP32-S3 dot products of mt_xtensa.h, in assembly: MAC16 multiply-accumulates
// with loads inside zero-overhead loops.
//
// The rule kept here: the first instruction of a zero-overhead loop body must not cross an
// instruction-fetch boundary (Xtensa ISA; 4 bytes on both chips, core-isa.h
// XCHAL_INST_FETCH_WIDTH). GNU as pads for it, llvm-mc does not, and qemu does not check it. So
// each function is written whole, starting word-aligned in its own section, with instructions of
// known sizes up to its loop (the offsets in the comments), so that the body starts at 0 mod 4
// of the section. (llc's pass over this text has no layout, so an `.if` on label distances
// cannot check it here.) (Inside a C function the loop's position is llc's choice;
// `.p2align` there would need padding, and llvm-mc fills a 1-byte gap in code with 0x00, not a
// no-op.) Our linker keeps each section's alignment in the text blob, MicroPython places the
// blob word-aligned, and tests/test_xtensa_loops.py disassembles the built module and fails on
// any loop whose body does not start word-aligned in it.
#include "mt_xtensa.h"

#if MT_XTENSA_MAC16

// Windowed ABI: arguments in a2.., the result in a2; a8.. are free.
#define MT_XT_FUNCTION(name)                          \
    ".section .text." #name ",\"ax\",@progbits\n"     \
    ".p2align 2\n"                                    \
    ".global " #name "\n"                             \
    ".type " #name ", @function\n" #name ":\n"
#define MT_XT_FUNCTION_END(name) ".size " #name ", . - " #name "\n"
// The first 11 bytes of each: the frame, and the accumulator cleared.
#define MT_XT_PROLOGUE              \
    "    entry   a1, 32\n"          \
    "    movi.n  a8, 0\n"           \
    "    wsr     a8, acclo\n"       \
    "    wsr     a8, acchi\n"

// mt_xt_rows_s8_s16(w a2, x16 a3, quads a4, rows a5, out a6), rows >= 1: out[r] = row r of w
// (rows of 4 quads bytes, one after the other) against x16. Each weight word gives the
// halfword pairs {b1, b3} * 256 (w & mask) and {b0, b2} * 256 ((w << 8) & mask); mula.da
// multiplies them by the halves of x16's words, which ldinc loads into m0/m1 one step ahead of
// their use (so each row's last step reads one word past x16). The accumulator holds 256 times
// the sum: |sum| < 65536 * 128 * 255 < 2^31, so it fits the 40 bits, and >> 8 (acchi:acclo) is
// exact. 9 instructions per 4 MACs, and 15 a row around them.
__asm__(MT_XT_FUNCTION(mt_xt_rows_s8_s16)
        "    entry   a1, 32\n"               // offset 0
        "    movi    a7, 255\n"              // 3
        "    slli    a7, a7, 8\n"            // 6
        "    slli    a8, a7, 16\n"           // 9
        "    or      a7, a7, a8\n"           // 12: a7 = 0xff00ff00
        "    addi    a3, a3, -4\n"           // 15: ldinc adds 4 before it loads
        ".Lrows_next:\n"
        "    movi.n  a8, 0\n"                // 18
        "    wsr     a8, acclo\n"            // 20
        "    wsr     a8, acchi\n"            // 23
        "    mov.n   a9, a3\n"               // 26
        "    addi.n  a5, a5, -1\n"           // 28
        "    ldinc   m0, a9\n"               // 30: m0 = {x0, x1}
        "    loopnez a4, .Lrows_end\n"       // 33: the body at 36
        ".Lrows_body:\n"
        "    l32i    a10, a2, 0\n"
        "    addi    a2, a2, 4\n"
        "    and     a11, a10, a7\n"         // {b1, b3} * 256
        "    slli    a10, a10, 8\n"
        "    and     a10, a10, a7\n"         // {b0, b2} * 256
        "    mula.da.ll.ldinc m1, a9, m0, a10\n"  // x0 b0; m1 = {x2, x3}
        "    mula.da.hl m0, a11\n"                // x1 b1
        "    mula.da.lh.ldinc m0, a9, m1, a10\n"  // x2 b2; m0 = the next {x0, x1}
        "    mula.da.hh m1, a11\n"                // x3 b3
        ".Lrows_end:\n"
        "    rsr     a8, acclo\n"
        "    rsr     a10, acchi\n"
        "    srli    a8, a8, 8\n"
        "    slli    a10, a10, 24\n"
        "    or      a8, a8, a10\n"
        "    s32i    a8, a6, 0\n"
        "    addi    a6, a6, 4\n"
        "    bnez    a5, .Lrows_next\n"
        "    retw.n\n"
        MT_XT_FUNCTION_END(mt_xt_rows_s8_s16));

// mt_xt_dot_s16(a a2, b a3, quads a4): mula.dd with ldinc, each operand's next word loaded
// into the m register pair not in use (a: m0/m1, b: m2/m3), one step ahead (the last step
// reads one word past each). One instruction per MAC.
__asm__(MT_XT_FUNCTION(mt_xt_dot_s16)
        MT_XT_PROLOGUE                       // offsets 0..10
        "    addi    a2, a2, -4\n"           // 11: ldinc adds 4 before it loads
        "    addi    a3, a3, -4\n"           // 14
        "    ldinc   m0, a2\n"               // 17: m0 = {a0, a1}
        "    ldinc   m2, a3\n"               // 20: m2 = {b0, b1}
        "    nop.n\n"                        // 23
        "    loopnez a4, .Ldot_s16_end\n"    // 25: the body at 28
        ".Ldot_s16_body:\n"
        "    mula.dd.ll.ldinc m1, a2, m0, m2\n"  // a0 b0; m1 = {a2, a3}
        "    mula.dd.hh.ldinc m3, a3, m0, m2\n"  // a1 b1; m3 = {b2, b3}
        "    mula.dd.ll.ldinc m0, a2, m1, m3\n"  // a2 b2; m0 = the next {a0, a1}
        "    mula.dd.hh.ldinc m2, a3, m1, m3\n"  // a3 b3; m2 = the next {b0, b1}
        ".Ldot_s16_end:\n"
        "    rsr     a2, acclo\n"
        "    retw.n\n"
        MT_XT_FUNCTION_END(mt_xt_dot_s16));

// mt_xt_dot_s16_s8_strided(a a2, w a3, stride a4, quads a5): sum over o < 4 quads of
// a[o] * w[o * stride]. The int8 weights by l8ui and sext (mula takes the low halfword as
// signed), a's words by ldinc into m0/m1 one step ahead (the last step reads one word past a).
// 4 instructions per MAC.
#define MT_XT_TWO_STRIDED_S8         \
    "    l8ui    a6, a3, 0\n"        \
    "    add     a3, a3, a4\n"       \
    "    l8ui    a7, a3, 0\n"        \
    "    add     a3, a3, a4\n"       \
    "    sext    a6, a6, 7\n"        \
    "    sext    a7, a7, 7\n"
__asm__(MT_XT_FUNCTION(mt_xt_dot_s16_s8_strided)
        MT_XT_PROLOGUE                       // offsets 0..10
        "    addi    a2, a2, -4\n"           // 11: ldinc adds 4 before it loads
        "    ldinc   m0, a2\n"               // 14: m0 = {a0, a1}
        "    loopnez a5, .Ldot_strided_end\n"  // 17: the body at 20
        ".Ldot_strided_body:\n"
        MT_XT_TWO_STRIDED_S8
        "    mula.da.ll.ldinc m1, a2, m0, a6\n"  // a0 w0; m1 = {a2, a3}
        "    mula.da.hl m0, a7\n"                // a1 w1
        MT_XT_TWO_STRIDED_S8
        "    mula.da.ll.ldinc m0, a2, m1, a6\n"  // a2 w2; m0 = the next {a0, a1}
        "    mula.da.hl m1, a7\n"                // a3 w3
        ".Ldot_strided_end:\n"
        "    rsr     a2, acclo\n"
        "    retw.n\n"
        MT_XT_FUNCTION_END(mt_xt_dot_s16_s8_strided));

#endif
