# SPDX-License-Identifier: MIT
"""Hostile args and buffer sizes to every forward op, under AddressSanitizer and UBSan: each call
returns a status and stays inside its buffers (see kernels_fwd_fuzz.py)."""

from fuzz_ops import run_sanitized


def test_forward_ops_survive_hostile_input_under_sanitizers(tmp_path):
    ok, refused = run_sanitized("kernels_fwd_fuzz.py", tmp_path, 20261123, 150)
    # Both outcomes must occur, or the fuzz is not exploring.
    assert ok > 50 and refused > 200, (ok, refused)
