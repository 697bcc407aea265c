// SPDX-License-Identifier: MIT
// Linker fixture: one use of each relocation kind the linker supports, exported as functions
// that the x64 test calls in micropython (other arches are checked by decoding).
#include "fx_runtime.h"

// Defined in fx_other.c: a call and a non-static BSS array across objects.
int fx_helper(int x);
extern int fx_shared[4];

extern const uint16_t mt_qstr_call_chain;
extern const uint16_t mt_qstr_table_call;
extern const uint16_t mt_qstr_name_len;
extern const uint16_t mt_qstr_count;
extern const uint16_t mt_qstr_float_mix;
extern const uint16_t mt_qstr_dense;
extern const uint16_t mt_qstr_div64;
extern const uint16_t mt_qstr_udiv32;
extern const uint16_t mt_qstr_greet;
extern const uint16_t mt_qstr_fail;
extern const uint16_t mt_qstr_sum3;

typedef int (*fx_binop_t)(int, int);

int fx_counter;  // non-static BSS: reached through the GOT

static int op_add(int a, int b) { return a + b; }
static int op_sub(int a, int b) { return a - b; }
static int op_mul(int a, int b) { return a * b; }

// Const tables of pointers (to functions and to strings): .data.rel.ro, absolute words.
static const fx_binop_t fx_ops[] = {op_add, op_sub, op_mul};
static const char *const fx_names[] = {"alpha", "be", "gamma!", "delta-long"};

static mp_obj_t call_chain(mp_obj_t x) {
    fx_shared[0] += 1;
    return fx_new_int(fx_helper((int)fx_get_int(x)) + fx_shared[0] - fx_shared[0]);
}

static mp_obj_t table_call(mp_obj_t i) {
    return fx_new_int(fx_ops[fx_get_int(i) % 3](7, 3));
}

static mp_obj_t name_len(mp_obj_t i) {
    const char *s = fx_names[fx_get_int(i) & 3];
    int n = 0;
    while (s[n]) {
        n++;
    }
    return fx_new_int(n);
}

static mp_obj_t count(void) {
    fx_counter += 1;
    return fx_new_int(fx_counter);
}

static mp_obj_t float_mix(mp_obj_t i) {
    volatile float f = (float)fx_get_int(i);
    volatile double d = (double)fx_get_int(i);
    return fx_new_int((int)(f * 2.5f + 0.25f) + (int)(d / 3.0 * 1.5));
}

// Cases that differ in code, not just in value, so gcc emits a jump table (armv6m: a
// __gnu_thumb1_case_* helper from libgcc).
static mp_obj_t dense(mp_obj_t i) {
    int v = (int)fx_get_int(i);
    int r;
    switch (v) {
        case 0: r = 11; break;
        case 1: r = fx_helper(7); break;
        case 2: r = v * 19; break;
        case 3: r = fx_helper(v) + 30; break;
        case 4: r = v << 4; break;
        case 5: r = fx_helper(20); break;
        case 6: r = 73 ^ v; break;
        case 7: r = fx_helper(29); break;
        case 8: r = v * 12 + 1; break;
        default: r = -1; break;
    }
    return fx_new_int(r);
}

static mp_obj_t div64(mp_obj_t a, mp_obj_t b) {
    int64_t num = (int64_t)fx_get_int(a) * 1000003;
    return fx_new_int((intptr_t)(num / (int64_t)fx_get_int(b)));
}

static mp_obj_t udiv32(mp_obj_t a, mp_obj_t b) {
    uint32_t x = (uint32_t)fx_get_int(a), y = (uint32_t)fx_get_int(b);
    return fx_new_int((intptr_t)(x / y + x % y));
}

static mp_obj_t greet(void) {
    return fx_new_qstr(mt_qstr_hello_world);
}

static mp_obj_t fail(void) {
    fx_raise_msg(fx_load_global(mt_qstr_ValueError), "fixture says no");
    return FX_NONE;
}

static mp_obj_t sum3(size_t n, const mp_obj_t *args) {
    intptr_t total = 0;
    for (size_t k = 0; k < n; k++) {
        total += fx_get_int(args[k]);
    }
    return fx_new_int(total);
}

static FX_FUN_1(call_chain_obj, call_chain);
static FX_FUN_1(table_call_obj, table_call);
static FX_FUN_1(name_len_obj, name_len);
static FX_FUN_0(count_obj, count);
static FX_FUN_1(float_mix_obj, float_mix);
static FX_FUN_1(dense_obj, dense);
static FX_FUN_2(div64_obj, div64);
static FX_FUN_2(udiv32_obj, udiv32);
static FX_FUN_0(greet_obj, greet);
static FX_FUN_0(fail_obj, fail);
static FX_FUN_VAR(sum3_obj, 1, 3, sum3);

mp_obj_t mpy_init(void *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    (void)n_args;
    (void)n_kw;
    (void)args;
    void *context = ((void **)self)[1];
    void *old = fx_swap_globals(((void **)context)[1]);
    fx_store_global(mt_qstr_call_chain, &call_chain_obj);
    fx_store_global(mt_qstr_table_call, &table_call_obj);
    fx_store_global(mt_qstr_name_len, &name_len_obj);
    fx_store_global(mt_qstr_count, &count_obj);
    fx_store_global(mt_qstr_float_mix, &float_mix_obj);
    fx_store_global(mt_qstr_dense, &dense_obj);
    fx_store_global(mt_qstr_div64, &div64_obj);
    fx_store_global(mt_qstr_udiv32, &udiv32_obj);
    fx_store_global(mt_qstr_greet, &greet_obj);
    fx_store_global(mt_qstr_fail, &fail_obj);
    fx_store_global(mt_qstr_sum3, &sum3_obj);
    fx_swap_globals(old);
    return FX_NONE;
}
