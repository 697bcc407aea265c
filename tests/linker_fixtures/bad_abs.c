// SPDX-License-Identifier: MIT
// Refused on x64 when compiled with -fno-pic: a 32-bit absolute address (R_X86_64_32).
int fx_value;

void *mpy_init(void *self, unsigned n_args, unsigned n_kw, void **args) {
    (void)self, (void)n_args, (void)n_kw, (void)args;
    return &fx_value;
}
