# SPDX-License-Identifier: MIT
"""Hostile args, buffer sizes and float values (NaN, inf) to every backward, loss and update op,
under AddressSanitizer and UBSan: each call returns a status, stays inside its buffers and never
converts an out-of-range float to an int (see kernels_bwd_fuzz.py)."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import skip_or_fail

HERE = Path(__file__).parent


def test_backward_ops_survive_hostile_input_under_sanitizers(tmp_path):
    asan = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True)
    if asan.returncode != 0 or not Path(asan.stdout.strip()).is_file():
        skip_or_fail("gcc's libasan.so not found (Debian package libasan8 / gcc)")
    env = dict(os.environ, LD_PRELOAD=asan.stdout.strip(),
               ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    cmd = [sys.executable, str(HERE / "kernels_bwd_fuzz.py"), str(tmp_path / "libasan_mt.so"),
           "20261124", "30"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE, timeout=300)
    assert proc.returncode == 0, f"fuzz failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    ok, refused, n_ops = (int(v) for v in proc.stdout.split())
    # Every op of the family is reached, and both outcomes occur, or the fuzz is not exploring.
    assert n_ops >= 30 and ok > 40 and refused > 300, (ok, refused, n_ops)
