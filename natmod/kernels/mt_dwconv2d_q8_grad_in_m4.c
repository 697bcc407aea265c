// SPDX-License-Identifier: MIT
// The Cortex-M4/M7 path of mt_dwconv2d_q8_grad_in: a group of 4 channels through a zero-padded,
// sign-extended copy of grad_out and a table of sign-extended weights, the taps in asm (the
// same bytes as the general loop: the sums are exact int32).
//
// Per image the input is cut into tiles whose grad_out fits the stack buffer (one tile for the
// small maps the trained layers have); per tile, each group's grad_out is copied once as int16
// pairs (channels 0 and 2, 1 and 3), with zero columns where the taps run past the left or
// right edge; the pixels of one phase then all walk the same rows x cols taps, without tests:
// the rows past the top or bottom edge are left out per pixel row (they are not in the buffer),
// the columns past an edge multiply zeros. A tap is then 2 ldrd and 4 smlaxy.
#include "mt_dwconv2d_q8_grad_in_phase.h"

#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
#include <stddef.h>

#include "mt_dsp.h"

#define WS_WORDS 256  // the workspace on the stack (1 KB): sums, weight table, grad_out copy
#define TAB_ROW 7     // entries (2 words each) per table row
#define TAB_WORDS 15  // a table row: TAB_ROW entries, then its link (the asm's row step of 60 bytes)
#define RUN_MAX 8     // pixels per call of the tap walk (their sums: 32 words)

// ---- the taps, in asm -----------------------------------------------------------------------

// The asm functions below are naked, noipa (gcc cannot see which registers the asm uses, so
// callers must assume the ABI's clobbers) and aligned to 4: an adr's base is the word-aligned
// pc, so a function placed at 2 mod 4 (its own section under -ffunction-sections, as the module
// is built) would compute its jump targets 2 bytes off.

// What tap_walk reads (through r0; the offsets are the asm's). The first 8 words are what one
// ldm reloads for each pixel: the table, the rows, zero sums, the step back, the end.
typedef struct {
    const int32_t *w;  // 0: table row 0
    int32_t rows;      // 4: table rows, >= 1
    int32_t zero[4];   // 8: the sums' start
    int32_t back;      // 24: rows * q_row - 8: from past the last row to the next pixel's first
    int32_t *end;      // 28: sums + 4 * pixels; the pixels follow each other by one entry
    const int32_t *q;  // 32: the buffer entry of the first pixel's tap (0, 0)
    int32_t q_row;     // 36: bytes from one buffer row to the next
    int32_t cols;      // 40: taps per row, 1..TAB_ROW
    int32_t *sums;     // 44: 4 per pixel, out
} dw_walk;

// One tap i of a row: 8 bytes of q pairs at r0 + 8 i, of weight pairs at r1 + 8 i; every
// instruction is 32 bits, so a tap is 24 bytes of code (checked below), which the entry jump
// into the row relies on. Tap 0, the last of a row, steps r1 to the next table row (60 bytes:
// the row's link word, at 56, is the phase walkers').
#define DW_TAP(i)                                  \
    "ldrd r8, r9, [r0, #8*" #i "]\n\t"             \
    "ldrd r10, r11, [r1, #8*" #i "]\n\t"           \
    "smlabb r4, r8, r10, r4\n\t"                   \
    "smlatt r6, r8, r10, r6\n\t"                   \
    "smlabb r5, r9, r11, r5\n\t"                   \
    "smlatt r7, r9, r11, r7\n\t"

// r3 = the address of tap cols - 1 of DW_ROWS (cols at [r0, #off]), with the Thumb bit:
// (cols - 1) * 24 bytes of taps before tap 0 (label 3). Uses r4.
#define DW_ENTRY(off)                                  \
    "ldr r3, [r0, #" off "]\n\t"                      \
    "sub r3, r3, #1\n\t"                              \
    "add r3, r3, r3, lsl #1\n\t"                      \
    "lsl r3, r3, #3\n\t"                              \
    "adr.w r4, 3f\n\t"                                \
    "sub r3, r4, r3\n\t"                              \
    "orr r3, r3, #1\n\t"

// One row of taps, entered at tap cols - 1 (r3) and falling through to tap 0; r0 the buffer
// row (stepped by r12 after it), r1 the table row (by 60 bytes).
#define DW_ROW                                         \
    "4:\n\t"                                          \
    DW_TAP(6) DW_TAP(5) DW_TAP(4) DW_TAP(3) DW_TAP(2) DW_TAP(1) \
    "3: ldrd r8, r9, [r0, #0]\n\t"                    \
    "ldrd r10, r11, [r1], #60\n\t"                    \
    "smlabb r4, r8, r10, r4\n\t"                      \
    "smlatt r6, r8, r10, r6\n\t"                      \
    "smlabb r5, r9, r11, r5\n\t"                      \
    "smlatt r7, r9, r11, r7\n\t"                      \
    ".if (3b - 4b) != 144\n\t"                        \
    ".error \"dw taps: a tap is not 24 bytes\"\n\t"  \
    ".endif\n\t"                                      \
    "add r0, r0, r12\n\t"

// The sums r4-r7 of one pixel over r2 >= 1 rows, counted down.
#define DW_ROWS                                        \
    "2: bx r3\n\t"                                    \
    DW_ROW                                             \
    "subs r2, r2, #1\n\t"                             \
    "bne 2b\n\t"

// The same over the table rows linked from r1: each row's link word (its last, read once r1 has
// stepped past the row) is the next row's entry, or the caller's exit after the last row (two
// instructions a row where DW_ROWS takes four).
#define DW_ROWS_LINKED                                 \
    "bx r3\n\t"                                       \
    DW_ROW                                             \
    "ldr pc, [r1, #-4]\n\t"

// Every pixel's 4 sums (r4-r7) over rows x cols taps. A row jumps to tap cols - 1 (r3: its
// address, with the Thumb bit) and falls through to tap 0; r0 the buffer row, r1 the table row,
// r2 the rows left, r12 the buffer's row step, lr the sums out.
__attribute__((naked, noinline, noipa, aligned(4))) static void tap_walk(const dw_walk *a) {
    (void)a;
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "str r0, [sp, #-8]!\n\t"
        DW_ENTRY("40")
        "ldr r12, [r0, #36]\n\t"
        "ldr lr, [r0, #44]\n\t"
        "mov r8, r0\n\t"
        "ldr r0, [r8, #32]\n\t"
        "ldm r8, {r1, r2, r4, r5, r6, r7, r9, r10}\n\t"
        DW_ROWS
        "stmia lr!, {r4-r7}\n\t"
        "ldr r8, [sp]\n\t"
        "ldm r8, {r1, r2, r4, r5, r6, r7, r9, r10}\n\t"
        "sub r0, r0, r9\n\t"
        "cmp lr, r10\n\t"
        "bne 2b\n\t"
        "add sp, sp, #8\n\t"
        "pop {r4-r11, pc}\n\t");
}

// ---- a whole phase, in asm ------------------------------------------------------------------

// The two common passes (pass 0 without accumulate: max |acc| per channel; pass 1 without
// accumulate: the int8 values) walk every pixel of a phase in one call, the values made in asm
// too. What they read (through r0; the offsets are the asm's): words 0-2 are what one ldm
// reloads after each pixel (r0's step back to the next pixel, the output's step, the pixel
// row's end), words 3-7 what one ldm reloads before it (the table row, zero sums). The walker
// steps the fields marked "asm".
typedef struct {
    int32_t back;         // 0 (asm): rows * bw8 - 8: from r0 past a pixel's last row to the next
                          //     pixel's first
    int32_t step;         // 4: dst bytes from a pixel to the next
    uintptr_t qend;       // 8 (asm): the buffer entry past the pixel row's last pixel
    const int32_t *wrow;  // 12 (asm): the pixel row's first table row
    int32_t zero[4];      // 16
    int32_t n8;           // 32: 8 * pixels per pixel row (one buffer entry each)
    int32_t oy0;          // 36 (asm): the output of table row 0 for the pixel row
    int32_t by, by_end;   // 40, 44: the buffer's output rows
    int32_t ty;           // 48: table rows (0: no taps)
    int32_t *tab;         // 52
    uintptr_t q0;         // 56: the first pixel's buffer entry at output row 0 (an integer:
                          //     it may lie outside the buffer)
    int32_t row_skip;     // 60: dst bytes from past a pixel row to the next row's first
    int32_t rows_left;    // 64 (asm): pixel rows, >= 1
    int32_t cols;         // 68: taps per table row, 1..TAB_ROW
    int32_t bw8;          // 72: bytes per buffer row
    int8_t *dst;          // 76: the first pixel's channel ch
    int32_t max[4];       // 80: by_max: the largest |acc| per channel (in and out)
    float c[4], inv, half;  // 96: store: s_g * s_w, the int8 scale's inverse, 0.5
    uint32_t entry[2];    // 120 (asm): the rows' entry (DW_ENTRY), and the values' (no taps)
} dw_phase_walk;

typedef char dw_phase_walk_offsets[(offsetof(dw_phase_walk, wrow) == 12 &&
                                    offsetof(dw_phase_walk, n8) == 32 &&
                                    offsetof(dw_phase_walk, row_skip) == 60 &&
                                    offsetof(dw_phase_walk, dst) == 76 &&
                                    offsetof(dw_phase_walk, max) == 80 &&
                                    offsetof(dw_phase_walk, c) == 96 &&
                                    offsetof(dw_phase_walk, entry) == 120) ? 1 : -1];

// Before the loops: the entries, every table row's link the rows' entry, r12 the buffer's row
// step, lr the output.
#define DW_PHASE_HEAD                                  \
    "push {r4-r11, lr}\n\t"                             \
    "str r0, [sp, #-8]!\n\t"                            \
    DW_ENTRY("68")                                      \
    "str r3, [r0, #120]\n\t"                            \
    "adr.w r4, 5f\n\t"                                  \
    "orr r4, r4, #1\n\t"                                \
    "str r4, [r0, #124]\n\t"                            \
    "ldr r1, [r0, #52]\n\t"                             \
    "ldr r2, [r0, #48]\n\t"                             \
    "cmp r2, #0\n\t"                                    \
    "beq 8f\n\t"                                        \
    "7: str r3, [r1, #56]\n\t"                          \
    "add r1, r1, #60\n\t"                               \
    "subs r2, r2, #1\n\t"                               \
    "bne 7b\n\t"                                        \
    "8: ldr r12, [r0, #72]\n\t"                         \
    "ldr lr, [r0, #76]\n\t"

// Each pixel row: the table rows [rr0, rr1) that meet the buffer rows [by, by_end) (none: r3
// jumps straight to the values, of zero sums), the last one's link the exit (label 5), left so:
// rr1 never grows from a pixel row to the next, so no later pixel row enters that row (the head
// links every row again for each call); then each pixel: its sums into r4-r7, r0 past its last
// buffer row, r8 the struct again at label 5.
#define DW_PHASE_PIXEL                                 \
    "6: ldr r8, [sp]\n\t"                               \
    "ldr r9, [r8, #36]\n\t"                             \
    "ldr r10, [r8, #40]\n\t"                            \
    "subs r10, r10, r9\n\t"                             \
    "it lt\n\t"                                         \
    "movlt r10, #0\n\t"                                 \
    "ldr r11, [r8, #44]\n\t"                            \
    "sub r11, r11, r9\n\t"                              \
    "ldr r2, [r8, #48]\n\t"                             \
    "cmp r11, r2\n\t"                                   \
    "it gt\n\t"                                         \
    "movgt r11, r2\n\t"                                 \
    "subs r2, r11, r10\n\t"                             \
    "it lt\n\t"                                         \
    "movlt r2, #0\n\t"                                  \
    "ldr r1, [r8, #52]\n\t"                             \
    "rsb r11, r10, r10, lsl #4\n\t"                     \
    "add r1, r1, r11, lsl #2\n\t"                       \
    "add r9, r9, r10\n\t"                               \
    "ldr r0, [r8, #56]\n\t"                             \
    "mla r0, r9, r12, r0\n\t"                           \
    "str r1, [r8, #12]\n\t"                             \
    "mul r9, r2, r12\n\t"                               \
    "sub r9, r9, #8\n\t"                                \
    "str r9, [r8, #0]\n\t"                              \
    "ldr r9, [r8, #32]\n\t"                             \
    "add r9, r9, r0\n\t"                                \
    "str r9, [r8, #8]\n\t"                              \
    "rsb r9, r2, r2, lsl #4\n\t"                        \
    "add r9, r1, r9, lsl #2\n\t"                        \
    "sub r9, r9, #4\n\t"                                \
    "ldr r10, [r8, #124]\n\t"                           \
    "cmp r2, #0\n\t"                                    \
    "ite ne\n\t"                                        \
    "ldrne r3, [r8, #120]\n\t"                          \
    "moveq r3, r10\n\t"                                 \
    "it ne\n\t"                                         \
    "strne r10, [r9]\n\t"                               \
    "add r8, r8, #12\n\t"                               \
    "1: ldm r8, {r1, r4, r5, r6, r7}\n\t"               \
    DW_ROWS_LINKED                                      \
    "5: ldr r8, [sp]\n\t"

// After the pixel's values: the next pixel (r8 then at wrow for label 1), the next pixel row,
// the end.
#define DW_PHASE_TAIL                                  \
    "ldm r8!, {r9, r10, r11}\n\t"                       \
    "sub r0, r0, r9\n\t"                                \
    "add lr, lr, r10\n\t"                               \
    "cmp r0, r11\n\t"                                   \
    "bne 1b\n\t"                                        \
    "ldr r8, [sp]\n\t"                                  \
    "ldr r9, [r8, #60]\n\t"                             \
    "add lr, lr, r9\n\t"                                \
    "ldr r9, [r8, #36]\n\t"                             \
    "add r9, r9, #1\n\t"                                \
    "str r9, [r8, #36]\n\t"                             \
    "ldr r9, [r8, #64]\n\t"                             \
    "subs r9, r9, #1\n\t"                               \
    "str r9, [r8, #64]\n\t"                             \
    "bne 6b\n\t"                                        \
    "add sp, sp, #8\n\t"                                \
    "pop {r4-r11, pc}\n\t"

// m = max(m, |a|) (t a scratch): |a| as (a ^ s) - s, s = a >> 31.
#define DW_ABS_MAX(m, a, t)                            \
    "eor " t ", " a ", " a ", asr #31\n\t"              \
    "sub " t ", " t ", " a ", asr #31\n\t"              \
    "cmp " m ", " t "\n\t"                              \
    "it lt\n\t"                                         \
    "movlt " m ", " t "\n\t"

// Pass 0 without accumulate: max |acc| per channel into max[4] (r0 kept for the next pixel;
// lr, the output, is not needed: a scratch).
__attribute__((naked, noinline, noipa, aligned(4))) static void phase_max(dw_phase_walk *a) {
    (void)a;
    __asm__ volatile(
        DW_PHASE_HEAD
        DW_PHASE_PIXEL
        "add r9, r8, #80\n\t"
        "ldm r9, {r1, r2, r10, r11}\n\t"
        DW_ABS_MAX("r1", "r4", "lr") DW_ABS_MAX("r2", "r5", "lr") DW_ABS_MAX("r10", "r6", "lr")
        DW_ABS_MAX("r11", "r7", "lr")
        "stm r9, {r1, r2, r10, r11}\n\t"
        DW_PHASE_TAIL);
}

#if defined(__ARM_FP)
// Two values as store_q8 makes them from accs a, b and scales ca, cb (of s0-s3; s4 inv, s5 0.5),
// into bytes j, j + 1 of the pixel (r9, r10 scratch): t = ((float)a * c) * inv, sign from t's
// bits, |t| + 0.5 truncated (vcvt rounds toward zero), at most 127. In pairs: one vmov moves
// two words each way.
#define DW_STORE2(a, b, ca, cb, j, j1)                 \
    "vmov s6, s7, " a ", " b "\n\t"                     \
    "vcvt.f32.s32 s6, s6\n\t"                           \
    "vcvt.f32.s32 s7, s7\n\t"                           \
    "vmul.f32 s6, s6, " ca "\n\t"                       \
    "vmul.f32 s7, s7, " cb "\n\t"                       \
    "vmul.f32 s6, s6, s4\n\t"                           \
    "vmul.f32 s7, s7, s4\n\t"                           \
    "vmov r9, r10, s6, s7\n\t"                          \
    "vabs.f32 s6, s6\n\t"                               \
    "vabs.f32 s7, s7\n\t"                               \
    "vadd.f32 s6, s6, s5\n\t"                           \
    "vadd.f32 s7, s7, s5\n\t"                           \
    "vcvt.s32.f32 s6, s6\n\t"                           \
    "vcvt.s32.f32 s7, s7\n\t"                           \
    "vmov " a ", " b ", s6, s7\n\t"                     \
    "usat " a ", #7, " a "\n\t"                         \
    "usat " b ", #7, " b "\n\t"                         \
    "eor " a ", " a ", r9, asr #31\n\t"                 \
    "sub " a ", " a ", r9, asr #31\n\t"                 \
    "eor " b ", " b ", r10, asr #31\n\t"                \
    "sub " b ", " b ", r10, asr #31\n\t"                \
    "strb " a ", [lr, #" j "]\n\t"                      \
    "strb " b ", [lr, #" j1 "]\n\t"

// Pass 1 without accumulate: the int8 values.
__attribute__((naked, noinline, noipa, aligned(4))) static void phase_store(dw_phase_walk *a) {
    (void)a;
    __asm__ volatile(
        "add r1, r0, #96\n\t"
        "vldm r1, {s0-s5}\n\t"
        DW_PHASE_HEAD
        DW_PHASE_PIXEL
        DW_STORE2("r4", "r5", "s0", "s1", "0", "1") DW_STORE2("r6", "r7", "s2", "s3", "2", "3")
        DW_PHASE_TAIL);
}
#endif

// ---- the copies ------------------------------------------------------------------------------

// n >= 1 entries: d[2 i], d[2 i + 1] = the int16 pairs (bytes 0 and 2, 1 and 3) of the 4 int8 at
// p + i * step; two a step (5.5 instructions an entry).
__attribute__((naked, noinline, noipa, aligned(4))) static void pairs_copy(int32_t *d, const int8_t *p,
                                                        int32_t step, int32_t n) {
    (void)d;
    (void)p;
    (void)step;
    (void)n;
    __asm__ volatile(
        "push {r4-r7}\n\t"
        "subs r3, r3, #2\n\t"
        "blt 2f\n\t"
        "1: ldr r4, [r1]\n\t"
        "ldr r6, [r1, r2]\n\t"
        "add r1, r1, r2, lsl #1\n\t"
        "sxtb16 r5, r4, ror #8\n\t"
        "sxtb16 r4, r4\n\t"
        "sxtb16 r7, r6, ror #8\n\t"
        "sxtb16 r6, r6\n\t"
        "stmia r0!, {r4-r7}\n\t"
        "subs r3, r3, #2\n\t"
        "bge 1b\n\t"
        "2: adds r3, r3, #2\n\t"
        "beq 3f\n\t"
        "ldr r4, [r1]\n\t"
        "sxtb16 r5, r4, ror #8\n\t"
        "sxtb16 r4, r4\n\t"
        "stmia r0!, {r4, r5}\n\t"
        "3: pop {r4-r7}\n\t"
        "bx lr\n\t");
}

// ---- the values -----------------------------------------------------------------------------

// The same int8 as mt_grad_put (the destination is int8 here), as sign and magnitude: float
// addition rounds to nearest even, which is odd-symmetric, so t + (t >= 0 ? 0.5 : -0.5) is
// +-(|t| + 0.5), and the truncation and the clamp to +-127 are odd-symmetric too. NaN: 0 both
// ways (vcvt gives 0); -0.0: 0; +-inf and |t| >= 2^31: vcvt saturates, then +-127.
static inline void store_q8(int8_t *dst, float v, float inv) {
    const float t = v * inv;
    int32_t sign;
    __builtin_memcpy(&sign, &t, 4);
    sign >>= 31;  // 0 or -1
    const int32_t m = (int32_t)__usat((int32_t)(__builtin_fabsf(t) + 0.5f), 7);
    *dst = (int8_t)((m ^ sign) - sign);
}

// max(m, |acc|) for m >= 0, |acc| <= 2^31 - 1 (kh * kw is bounded): |acc| as (acc ^ s) - s with
// s = acc >> 31 (2 instructions, where gcc's cmp, it, neg takes 3).
static inline int32_t abs_max(int32_t m, int32_t acc) {
    int32_t a;
    __asm__("eor %[a], %[acc], %[acc], asr #31\n"
            "   sub %[a], %[a], %[acc], asr #31\n"
            "   cmp %[m], %[a]\n"
            "   it lt\n"
            "   movlt %[m], %[a]\n"
            : [m] "+r"(m), [a] "=&r"(a)
            : [acc] "r"(acc)
            : "cc");
    return m;
}

// An entry of the buffer or table: the 4 int8 of v as int16 pairs, bytes 0 and 2, 1 and 3 (strd:
// one store where gcc makes two).
static inline void store_pair(int32_t *d, int32_t v) {
    const int32_t even = __sxtb16(v), odd = sxtb16_ror8(v);
    __asm__("strd %[e], %[o], [%[d]]" : : [e] "r"(even), [o] "r"(odd), [d] "r"(d) : "memory");
}

// What the values need, copied once (so the int8 stores do not make the compiler reload them).
typedef struct {
    float c[4], old_scale, inv;
} dw_put;

// The values of count pixels whose sums are at s, into dst moving by step: one of the four
// below for the pass, called through dw_grp.put.
typedef struct dw_grp dw_grp;
typedef void dw_put_fn(dw_grp *r, const int32_t *s, int32_t count, int8_t *dst, int32_t step);

// The values' loop; accumulate and store are constants in each caller below. Returns the
// running amax.
MT_DSP_INLINE float put_body(const int32_t *s, int32_t count, int8_t *dst, int32_t step,
                             const dw_put *p, float amax, int accumulate, int store) {
    const float c0 = p->c[0], c1 = p->c[1], c2 = p->c[2], c3 = p->c[3];
    const float old_scale = p->old_scale, inv = p->inv;
    for (const int32_t *end = s + 4 * count; s != end; s += 4, dst += step) {
        float v0 = (float)s[0] * c0, v1 = (float)s[1] * c1;
        float v2 = (float)s[2] * c2, v3 = (float)s[3] * c3;
        if (accumulate) {
            v0 = old_scale * (float)dst[0] + v0;
            v1 = old_scale * (float)dst[1] + v1;
            v2 = old_scale * (float)dst[2] + v2;
            v3 = old_scale * (float)dst[3] + v3;
        }
        if (store) {
            store_q8(dst, v0, inv);
            store_q8(dst + 1, v1, inv);
            store_q8(dst + 2, v2, inv);
            store_q8(dst + 3, v3, inv);
        } else {
            amax = mt_abs_max(amax, v0);
            amax = mt_abs_max(amax, v1);
            amax = mt_abs_max(amax, v2);
            amax = mt_abs_max(amax, v3);
        }
    }
    return amax;
}

// ---- the pass --------------------------------------------------------------------------------

typedef struct dw_phase_axis dw_phase_axis;

// The pass's state: where the values go, the workspace, the tile.
struct dw_grp {
    const dw_ctx *x;
    dw_out *o;
    dw_put_fn *put;
    void (*phase)(dw_phase_walk *);  // the asm walker of the pass, or 0 (accumulate)
    int32_t ch;                  // the group: channels [ch, ch + 4)
    int32_t max_acc[4];          // by_max: the group's largest |acc| in the tile
    dw_put p;
    int32_t *sums, *tab, *buf;
    dw_phase_axis *phases;       // stride_h of them, then stride_w
    int32_t n;                   // the image
    int32_t by, bh, bx, bw;      // the buffer: output rows [by, by + bh), columns [bx, bx + bw)
};

// Pass 0 without accumulate: max |acc| per channel.
static void put_max(dw_grp *r, const int32_t *s, int32_t count, int8_t *dst, int32_t step) {
    (void)dst;
    (void)step;
    int32_t m0 = r->max_acc[0], m1 = r->max_acc[1], m2 = r->max_acc[2], m3 = r->max_acc[3];
    for (const int32_t *end = s + 4 * count; s != end; s += 4) {
        m0 = abs_max(m0, s[0]);
        m1 = abs_max(m1, s[1]);
        m2 = abs_max(m2, s[2]);
        m3 = abs_max(m3, s[3]);
    }
    r->max_acc[0] = m0;
    r->max_acc[1] = m1;
    r->max_acc[2] = m2;
    r->max_acc[3] = m3;
}

static void put_amax_acc(dw_grp *r, const int32_t *s, int32_t count, int8_t *dst,
                         int32_t step) {
    r->o->amax = put_body(s, count, dst, step, &r->p, r->o->amax, 1, 0);
}

static void put_store(dw_grp *r, const int32_t *s, int32_t count, int8_t *dst, int32_t step) {
    put_body(s, count, dst, step, &r->p, 0.0f, 0, 1);
}

static void put_store_acc(dw_grp *r, const int32_t *s, int32_t count, int8_t *dst,
                          int32_t step) {
    put_body(s, count, dst, step, &r->p, 0.0f, 1, 1);
}

// The outputs the pixels of input indices [a, b) of an axis meet, over the axis's phases:
// [*lo, *hi], grown from the range given (lo > hi: none yet).
static void axis_reach(int32_t k, int32_t s, int32_t pad, int32_t a, int32_t b, int32_t *lo,
                       int32_t *hi) {
    for (int32_t i = a; i < b; i++) {
        const int32_t t = i + pad, p = t % s, m = t / s;
        if (p < k) {
            const int32_t first = m + 1 - (k - p + s - 1) / s;
            *lo = first < *lo ? first : *lo;
            *hi = m > *hi ? m : *hi;
        }
    }
}

// The end of the tile from a along an axis of n indices: as many as keep the outputs they meet
// (clipped to [0, size_out) when clip) within limit entries; at least one. [*lo, *hi]: those
// outputs (lo > hi: none).
static int32_t tile_end(int32_t k, int32_t s, int32_t pad, int32_t size_out, int clip, int32_t a,
                        int32_t n, int32_t limit, int32_t *lo, int32_t *hi) {
    int32_t b = a;
    *lo = INT32_MAX;
    *hi = INT32_MIN;
    for (; b < n; b++) {
        int32_t l = *lo, h = *hi;
        axis_reach(k, s, pad, b, b + 1, &l, &h);
        const int32_t lc = clip && l < 0 ? 0 : l, hc = clip && h >= size_out ? size_out - 1 : h;
        if (b > a && hc - lc + 1 > limit) {
            break;
        }
        *lo = l;
        *hi = h;
    }
    if (clip) {
        *lo = *lo < 0 ? 0 : *lo;
        *hi = *hi >= size_out ? size_out - 1 : *hi;
    }
    return b;
}

// The tile's grad_out of the group as int16 pairs: rows [by, by + bh) (inside the map),
// columns [bx, bx + bw), zero outside the map.
__attribute__((noinline)) static void buffer_fill(const dw_grp *r) {
    const dw_ctx *x = r->x;
    const int32_t c = x->in->c, ow = x->out->w;
    const int32_t l = r->bx < 0 ? -r->bx : 0;  // zero columns on the left, then the map's
    int32_t mid = ow - (r->bx + l);
    mid = mid > r->bw - l ? r->bw - l : (mid < 0 ? 0 : mid);
    const int32_t right = r->bw - l - mid;
    int32_t *d = r->buf;
    const int8_t *row = x->q + ((r->n * x->out->h + r->by) * ow + r->bx + l) * c + r->ch;
    for (int32_t y = 0; y < r->bh; y++, row += ow * c) {
        for (const int32_t *end = d + 2 * l; d != end; d += 2) {
            store_pair(d, 0);
        }
        if (mid > 0) {
            pairs_copy(d, row, c, mid);
            d += 2 * mid;
        }
        for (const int32_t *end = d + 2 * right; d != end; d += 2) {
            store_pair(d, 0);
        }
    }
}

// One phase along an axis in the tile: its taps, and its pixels k in [k0, k1) (m = m0 + k at
// input index i0 + k * stride). Kept in the workspace, one per phase of each axis, for all the
// groups of the tile.
struct dw_phase_axis {
    int32_t phase, taps, m0, i0, k0, k1;
};

static void phase_axes(dw_phase_axis *p, int32_t k, int32_t s, int32_t size_out, int32_t pad,
                       int32_t size_in, int32_t lo, int32_t hi) {
    for (int32_t phase = 0; phase < s; phase++, p++) {
        const dw_axis a = axis_of(phase, k, s, size_out);
        const dw_span sp = span_of(&a, pad, size_in);
        p->phase = phase;
        p->taps = a.taps;
        p->m0 = sp.m0;
        p->i0 = sp.i0;
        p->k0 = lo > sp.i0 ? (lo - sp.i0 + s - 1) / s : 0;
        const int32_t e = hi > sp.i0 ? (hi - sp.i0 + s - 1) / s : 0;
        p->k1 = e < sp.count ? e : sp.count;
    }
}

// The phase's weights of the group: table row rr is tap ay.taps - 1 - rr, column cc tap
// ax.taps - 1 - cc (so that the pixel's taps read the buffer forwards).
__attribute__((noinline)) static void table_build(const dw_grp *r, const dw_phase_axis *ay,
                                                   const dw_phase_axis *ax) {
    const dw_ctx *x = r->x;
    const int32_t c = x->in->c, kw = x->filter->w;
    const int32_t rows = ay->taps, cols = ax->taps;
    const int32_t row_step = x->params->stride_h * kw * c, col_step = x->params->stride_w * c;
    // tap (rows - 1, cols - 1) of the phase first, then back along each row and up the rows
    const int8_t *wr = x->w + r->ch + ((ay->phase + (rows - 1) * x->params->stride_h) * kw +
                                       ax->phase + (cols - 1) * x->params->stride_w) * c;
    int32_t *e = r->tab;
    for (int32_t rr = 0; rr < rows; rr++, wr -= row_step, e += TAB_WORDS) {
        pairs_copy(e, wr, -col_step, cols);
    }
}

// The group's pixels of one phase in the tile: pixel row by pixel row (the rows of the table
// that meet the buffer), RUN_MAX pixels a walk.
__attribute__((noinline)) static void tile_phase(dw_grp *r, const dw_phase_axis *py,
                                                  const dw_phase_axis *px) {
    const dw_ctx *x = r->x;
    const int32_t c = x->in->c, sh = x->params->stride_h, sw = x->params->stride_w;
    const int32_t ty = py->taps, tx = px->taps, n_x = px->k1 - px->k0;
    const int32_t bw = r->bw, by = r->by, by_end = r->by + r->bh, step = sw * c;
    int32_t *const sums = r->sums;
    dw_put_fn *const put = r->put;
    if (ty > 0 && tx > 0) {
        table_build(r, py, px);
    }
    int8_t *dst = r->o->dst->q + r->ch +
                  ((r->n * x->in->h + py->i0 + py->k0 * sh) * x->in->w + px->i0 +
                   px->k0 * sw) * c;
    int32_t oy0 = py->m0 + py->k0 - ty + 1;  // the output of table row 0
    // the buffer entry of the first pixel at output row 0, table column 0
    const int32_t q0 = (px->m0 + px->k0 - tx + 1 - r->bx - by * bw) * 2;
    if (r->phase) {
        dw_phase_walk pw = {0, step, 0, 0, {0, 0, 0, 0}, 8 * n_x, oy0, by, by_end,
                            tx > 0 ? ty : 0, r->tab, (uintptr_t)r->buf + (uintptr_t)(q0 * 4),
                            sh * x->in->w * c - n_x * step, py->k1 - py->k0,
                            tx > 0 ? tx : 1, bw * 8, dst,
                            {r->max_acc[0], r->max_acc[1], r->max_acc[2], r->max_acc[3]},
                            {r->p.c[0], r->p.c[1], r->p.c[2], r->p.c[3]}, r->p.inv, 0.5f,
                            {0, 0}};
        r->phase(&pw);
        for (int32_t j = 0; j < 4; j++) {
            r->max_acc[j] = pw.max[j];
        }
        return;
    }
    dw_walk walk = {0, 0, {0, 0, 0, 0}, 0, 0, 0, bw * 8, tx, sums};
    for (int32_t y = py->k0; y < py->k1; y++, oy0++, dst += sh * x->in->w * c) {
        const int32_t rr0 = by > oy0 ? by - oy0 : 0;
        const int32_t rr1 = by_end - oy0 < ty ? by_end - oy0 : ty;
        walk.rows = tx > 0 ? rr1 - rr0 : 0;
        if (walk.rows > 0) {
            walk.w = r->tab + rr0 * TAB_WORDS;
            walk.back = walk.rows * bw * 8 - 8;
            walk.q = r->buf + q0 + (oy0 + rr0) * bw * 2;
        } else {
            for (int32_t i = 0; i < 4 * RUN_MAX; i++) {
                sums[i] = 0;
            }
        }
        for (int32_t k = 0; k < n_x; k += RUN_MAX, walk.q += 2 * RUN_MAX) {
            const int32_t count = n_x - k < RUN_MAX ? n_x - k : RUN_MAX;
            if (walk.rows > 0) {
                walk.end = sums + 4 * count;
                tap_walk(&walk);
            }
            put(r, sums, count, dst + k * step, step);
        }
    }
}

// The tile's groups: by_max folds each group's max |acc| in the tile into amax at once, the same
// float as folding the max over the tiles ((float)m * c is monotone in m).
static void tile_groups(dw_grp *r, int32_t ya, int32_t yb, int32_t xa, int32_t xb) {
    const dw_ctx *x = r->x;
    const mt_dims *in = x->in, *f = x->filter, *out = x->out;
    const mt_conv_params *cp = x->params;
    const int32_t sh = cp->stride_h, sw = cp->stride_w;
    dw_phase_axis *pys = r->phases, *pxs = r->phases + sh;
    phase_axes(pys, f->h, sh, out->h, cp->pad_h, in->h, ya, yb);
    phase_axes(pxs, f->w, sw, out->w, cp->pad_w, in->w, xa, xb);
    for (r->ch = 0; r->ch + 4 <= in->c; r->ch += 4) {
        for (int32_t j = 0; j < 4; j++) {
            r->p.c[j] = x->s_g * x->s_w[r->ch + j];
            r->max_acc[j] = 0;
        }
        buffer_fill(r);
        for (const dw_phase_axis *py = pys; py != pys + sh; py++) {
            for (const dw_phase_axis *px = pxs; px != pxs + sw; px++) {
                if (py->k0 < py->k1 && px->k0 < px->k1) {
                    tile_phase(r, py, px);
                }
            }
        }
        for (int32_t j = 0; r->o->by_max && j < 4; j++) {
            r->o->amax = mt_abs_max(r->o->amax, (float)r->max_acc[j] * r->p.c[j]);
        }
    }
}

#define PHASE_WORDS ((int32_t)(sizeof(dw_phase_axis) / 4))

// The workspace holds the sums, the phases of both axes, a table of the most taps and a buffer
// of at least 7 x 7 entries (every pixel's taps).
int mt_dw_q8_dsp_applies(const dw_ctx *x) {
    const int32_t sh = x->params->stride_h, sw = x->params->stride_w;
    const int32_t ty = (x->filter->h + sh - 1) / sh, tx = (x->filter->w + sw - 1) / sw;
    return ty <= TAB_ROW && tx <= TAB_ROW &&
           4 * RUN_MAX + (sh + sw) * PHASE_WORDS + ty * TAB_WORDS + 2 * 49 <= WS_WORDS;
}

void mt_dw_q8_pass_dsp(const dw_ctx *x, dw_out *o) {
    int32_t ws[WS_WORDS];
    const mt_dims *in = x->in, *f = x->filter, *out = x->out;
    const mt_conv_params *cp = x->params;
    const int32_t sh = cp->stride_h, sw = cp->stride_w;
    const int32_t ty_max = (f->h + sh - 1) / sh;  // phase 0 has the most taps
    dw_put_fn *put = o->by_max ? put_max : o->pass == 0 ? put_amax_acc  // with accumulate
                     : o->accumulate ? put_store_acc : put_store;
    void (*phase)(dw_phase_walk *) = o->by_max ? phase_max : 0;
#if defined(__ARM_FP)
    phase = o->pass == 1 && !o->accumulate ? phase_store : phase;
#endif
    // only tap_walk's passes keep sums: the asm walkers' give those words to the buffer (fewer
    // tiles, so less grad_out copied twice at their seams)
    int32_t *phases = ws + (phase ? 0 : 4 * RUN_MAX);
    int32_t *tab = phases + (sh + sw) * PHASE_WORDS;
    dw_grp r = {x, o, put, phase, 0, {0, 0, 0, 0}, {{0.0f, 0.0f, 0.0f, 0.0f}, o->old_scale, o->inv},
                ws, tab, tab + ty_max * TAB_WORDS, (dw_phase_axis *)phases, 0, 0, 0, 0, 0};
    const int32_t budget = (WS_WORDS - (int32_t)(r.buf - ws)) / 2;  // buffer entries
    for (r.n = 0; r.n < in->n; r.n++) {
        for (int32_t xa = 0, xb; xa < in->w; xa = xb) {
            int32_t lo, hi;
            xb = tile_end(f->w, sw, cp->pad_w, out->w, 0, xa, in->w, budget / ty_max, &lo, &hi);
            r.bx = hi >= lo ? lo : 0;  // none: no column of the tile has x taps
            r.bw = hi >= lo ? hi - lo + 1 : 0;
            for (int32_t ya = 0, yb; ya < in->h; ya = yb) {
                yb = tile_end(f->h, sh, cp->pad_h, out->h, 1, ya, in->h,
                              budget / (r.bw > 0 ? r.bw : 1), &lo, &hi);
                r.by = hi >= lo ? lo : 0;  // none: every pixel row's taps miss the map
                r.bh = hi >= lo ? hi - lo + 1 : 0;
                tile_groups(&r, ya, yb, xa, xb);
            }
        }
    }
}
#else
typedef int mt_dwconv2d_q8_grad_in_m4_unused;  // ISO C: a translation unit is never empty
#endif
