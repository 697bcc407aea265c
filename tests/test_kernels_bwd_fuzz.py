# SPDX-License-Identifier: MIT
"""Hostile args, buffer sizes and float values (NaN, inf) to every backward, loss and update op,
under AddressSanitizer and UBSan: each call returns a status, stays inside its buffers and never
converts an out-of-range float to an int (see kernels_bwd_fuzz.py)."""

from fuzz_ops import run_sanitized


def test_backward_ops_survive_hostile_input_under_sanitizers(tmp_path):
    ok, refused, n_ops = run_sanitized("kernels_bwd_fuzz.py", tmp_path, 20261124, 30)
    # Every op of the family is reached, and both outcomes occur, or the fuzz is not exploring.
    assert n_ops >= 30 and ok > 40 and refused > 300, (ok, refused, n_ops)
