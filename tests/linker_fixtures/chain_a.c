// SPDX-License-Identifier: MIT
// Archive fixture: fx_helper needs fx_chain_b from another member (a transitive pull).
int fx_chain_b(int x);

int fx_helper(int x) {
    return fx_chain_b(x) + 1;
}
