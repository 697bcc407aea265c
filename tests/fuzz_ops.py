# SPDX-License-Identifier: MIT
"""The harness the op fuzzers share (kernels_fwd_fuzz.py, kernels_bwd_fuzz.py): the mutations,
buffers with guarded tails, the call loop that runs inside the sanitized subprocess, and the
pytest side that starts that subprocess with AddressSanitizer preloaded."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from microtrain_tools.sim import hostlib
from microtrain_tools.errors import MicrotrainError

SPECIAL = [0, 1, -1, 2, 3, 7, 127, 128, -128, -129, 255, 65536, 65537, 1 << 30,
           (1 << 31) - 1, -(1 << 31), 31, 30, -31, -32]
DTYPES = {"b": np.int8, "i": np.int32, "f": np.float32}
HERE = Path(__file__).parent


def mutate(rng, args, bufs, info):
    args = list(args)
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(len(args)))
        args[i] = int(rng.choice(SPECIAL)) if rng.random() < 0.7 else args[i] + int(
            rng.integers(-3, 4))
    bufs = [b.copy() for b in bufs]
    if rng.random() < 0.5:
        i = int(rng.integers(len(bufs)))
        bufs[i] = np.zeros(int(rng.integers(0, bufs[i].size + 3)), DTYPES[info.buf_types[i]])
    return args, bufs


def guarded(bufs):
    """Each buffer as the head of a larger array whose tail must stay untouched."""
    out = []
    for b in bufs:
        whole = np.concatenate([b, np.full(16, 0x5A, b.dtype) if b.dtype != np.float32
                                else np.full(16, 7.0, np.float32)])
        out.append((whole, whole[: b.size]))
    return out


def use_sanitized_library(sanitizers):
    """In the subprocess (argv: LIB_PATH SEED COUNT): build and use the host library with
    `sanitizers` at LIB_PATH; returns (SEED, COUNT)."""
    hostlib.LIB_PATH = Path(sys.argv[1])
    hostlib.CFLAGS = ("-std=c99", "-O1", "-g", "-shared", "-fPIC", f"-fsanitize={sanitizers}",
                      "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")
    return int(sys.argv[2]), int(sys.argv[3])


def fuzz(sanitizers, names, case):
    """In the subprocess (argv: LIB_PATH SEED CALLS_PER_OP): build the library with
    `sanitizers`, call each op of `names` (a list, or a function that reads them from the built
    library) CALLS_PER_OP times on case(rng, name, info) -> (args, bufs), and stop at the first
    write past a buffer. Returns {"ok": n, "refused": n}."""
    seed, calls = use_sanitized_library(sanitizers)
    rng = np.random.default_rng(seed)
    counts = {"ok": 0, "refused": 0}
    for name in names() if callable(names) else names:
        info = hostlib.op_info(name)
        for _ in range(calls):
            args, bufs = case(rng, name, info)
            pairs = guarded(bufs)
            tails = [whole[b.size:].copy() for whole, b in pairs]
            try:
                hostlib.run_op(name, args, [b for _, b in pairs])
                counts["ok"] += 1
            except MicrotrainError:
                counts["refused"] += 1
            for (whole, b), tail in zip(pairs, tails):
                if not np.array_equal(whole[b.size:].view(np.uint8), tail.view(np.uint8)):
                    raise SystemExit(f"{name} wrote past a buffer: args={args}")
    return counts


def run_sanitized(script, tmp_path, seed, calls):
    """Run a fuzz script under ASan and UBSan; return the numbers it prints."""
    from conftest import skip_or_fail

    asan = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True)
    if asan.returncode != 0 or not Path(asan.stdout.strip()).is_file():
        skip_or_fail("gcc's libasan.so not found (Debian package libasan8 / gcc)")
    env = dict(os.environ, LD_PRELOAD=asan.stdout.strip(),
               ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    cmd = [sys.executable, str(HERE / script), str(tmp_path / "libasan_mt.so"), str(seed),
           str(calls)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE,
                          timeout=max(300, calls))
    assert proc.returncode == 0, f"fuzz failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return [int(v) for v in proc.stdout.split()]
