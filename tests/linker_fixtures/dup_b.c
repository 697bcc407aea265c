// SPDX-License-Identifier: MIT
// Second definition of fx_twice (see dup_a.c).
int fx_twice(void) { return 2; }
