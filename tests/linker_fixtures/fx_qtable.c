// SPDX-License-Identifier: MIT
// Linker fixture: reads the module qstr table directly (mp_native_qstr_table[i], the
// official convention) next to an mt_qstr symbol that makes entry 1 exist.
#include "fx_runtime.h"

extern const uint16_t mp_native_qstr_table[];
extern const uint16_t mt_qstr_qtable_probe;  // entry 1: the first name the linker adds

static mp_obj_t probe(void) {
    return fx_new_qstr(mp_native_qstr_table[1]);
}

static FX_FUN_0(probe_obj, probe);

mp_obj_t mpy_init(void *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    (void)n_args;
    (void)n_kw;
    (void)args;
    void *context = ((void **)self)[1];
    void *old = fx_swap_globals(((void **)context)[1]);
    fx_store_global(mt_qstr_qtable_probe, &probe_obj);
    fx_swap_globals(old);
    return FX_NONE;
}
