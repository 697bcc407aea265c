# SPDX-License-Identifier: MIT
"""Hostile args and buffer sizes to every forward op, under AddressSanitizer and UBSan: each call
returns a status and stays inside its buffers (see kernels_fwd_fuzz.py)."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import skip_or_fail

HERE = Path(__file__).parent


def test_forward_ops_survive_hostile_input_under_sanitizers(tmp_path):
    asan = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True)
    if asan.returncode != 0 or not Path(asan.stdout.strip()).is_file():
        skip_or_fail("gcc's libasan.so not found (Debian package libasan8 / gcc)")
    env = dict(os.environ, LD_PRELOAD=asan.stdout.strip(),
               ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    cmd = [sys.executable, str(HERE / "kernels_fwd_fuzz.py"), str(tmp_path / "libasan_mt.so"),
           "20261123", "150"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE, timeout=300)
    assert proc.returncode == 0, f"fuzz failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    ok, refused = (int(v) for v in proc.stdout.split())
    # Both outcomes must occur, or the fuzz is not exploring.
    assert ok > 50 and refused > 200, (ok, refused)
