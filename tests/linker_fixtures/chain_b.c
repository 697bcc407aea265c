// SPDX-License-Identifier: MIT
// Archive fixture: the second link of the chain, and fx_main.c's shared BSS array.
int fx_shared[4];

int fx_chain_b(int x) {
    return 3 * x;
}
