// SPDX-License-Identifier: MIT
// Refused: thread-local storage does not exist in a natmod.
__thread int fx_per_thread;

void *mpy_init(void *self, unsigned n_args, unsigned n_kw, void **args) {
    (void)self, (void)n_args, (void)n_kw, (void)args;
    fx_per_thread += 1;
    return 0;
}
