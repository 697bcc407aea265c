// SPDX-License-Identifier: MIT
// Refused: static BSS is reached PC-relatively, but the loader puts BSS in a separate block.
static int fx_hidden_count;

void *mpy_init(void *self, unsigned n_args, unsigned n_kw, void **args) {
    (void)self, (void)n_args, (void)n_kw, (void)args;
    fx_hidden_count += 1;
    return (void *)&fx_hidden_count;
}
