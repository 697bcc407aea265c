// SPDX-License-Identifier: MIT
// Defines fx_twice, as dup_b.c does too: a duplicate definition.
int fx_twice(void) { return 1; }

void *mpy_init(void *self, unsigned n_args, unsigned n_kw, void **args) {
    (void)self, (void)n_args, (void)n_kw, (void)args;
    return (void *)(long)fx_twice();
}
