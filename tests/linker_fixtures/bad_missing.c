// SPDX-License-Identifier: MIT
// Refused: calls a function nobody defines, and gcc turns the zeroing into a memset call.
int fx_not_defined_anywhere(int x);

struct fx_big { int v[64]; };
struct fx_big fx_block;

void *mpy_init(void *self, unsigned n_args, unsigned n_kw, void **args) {
    (void)self, (void)n_args, (void)n_kw, (void)args;
    struct fx_big zero = {{0}};
    fx_block = zero;
    return (void *)(long)fx_not_defined_anywhere(3);
}
