// SPDX-License-Identifier: MIT
// Test-only stand-in for the natmod SDK: just enough to make builtin function objects and
// call mp_fun_table entries by index (NATMOD_FACTS sections 2 and 3). Not the real SDK.
#ifndef FX_RUNTIME_H
#define FX_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

typedef void *mp_obj_t;
struct fx_type;  // opaque: only its address is used

extern void *const mp_fun_table[];
extern const struct fx_type mp_type_fun_builtin_0;
extern const struct fx_type mp_type_fun_builtin_1;
extern const struct fx_type mp_type_fun_builtin_2;
extern const struct fx_type mp_type_fun_builtin_var;

// Runtime qstr numbers: the linker adds each name to the module's qstr table.
extern const uint16_t mt_qstr_ValueError;
extern const uint16_t mt_qstr_hello_world;

typedef struct {
    const struct fx_type *type;
    void *fun;
} fx_fun_fixed_t;

typedef struct {
    const struct fx_type *type;
    uint32_t sig;
    void *fun;
} fx_fun_var_t;

#define FX_FUN_0(name, fn) const fx_fun_fixed_t name = {&mp_type_fun_builtin_0, (void *)(fn)}
#define FX_FUN_1(name, fn) const fx_fun_fixed_t name = {&mp_type_fun_builtin_1, (void *)(fn)}
#define FX_FUN_2(name, fn) const fx_fun_fixed_t name = {&mp_type_fun_builtin_2, (void *)(fn)}
#define FX_FUN_VAR(name, nmin, nmax, fn) \
    const fx_fun_var_t name = {&mp_type_fun_builtin_var, ((nmin) << 17) | ((nmax) << 1), (void *)(fn)}

#define FX_NONE ((mp_obj_t)mp_fun_table[0])

static inline intptr_t fx_get_int(mp_obj_t o) {
    return ((intptr_t(*)(mp_obj_t, uintptr_t))mp_fun_table[3])(o, 2);
}

static inline mp_obj_t fx_new_int(intptr_t v) {
    return ((mp_obj_t(*)(uintptr_t, uintptr_t))mp_fun_table[4])((uintptr_t)v, 2);
}

static inline mp_obj_t fx_new_qstr(uint16_t q) {
    return ((mp_obj_t(*)(uintptr_t, uintptr_t))mp_fun_table[4])(q, 8);
}

static inline void *fx_swap_globals(void *globals) {
    return ((void *(*)(void *))mp_fun_table[5])(globals);
}

static inline mp_obj_t fx_load_global(uint16_t q) {
    return ((mp_obj_t(*)(size_t))mp_fun_table[7])(q);
}

static inline void fx_store_global(uint16_t q, const void *obj) {
    ((void (*)(size_t, const void *))mp_fun_table[13])(q, obj);
}

static inline void fx_raise_msg(mp_obj_t exc_type, const char *msg) {
    ((void (*)(mp_obj_t, const char *))mp_fun_table[55])(exc_type, msg);
}

#endif
