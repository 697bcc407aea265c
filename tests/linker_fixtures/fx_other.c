// SPDX-License-Identifier: MIT
// Linker fixture, second object: a function called from fx_main.c and a shared BSS array.
int fx_shared[4];

int fx_helper(int x) {
    return 3 * x + 1;
}
