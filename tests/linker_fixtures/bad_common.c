// SPDX-License-Identifier: MIT
// Refused when compiled with -fcommon: a COMMON symbol has no section to place.
int fx_shared_thing;

void *mpy_init(void *self, unsigned n_args, unsigned n_kw, void **args) {
    (void)self, (void)n_args, (void)n_kw, (void)args;
    return &fx_shared_thing;
}
