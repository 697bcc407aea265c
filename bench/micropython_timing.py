# SPDX-License-Identifier: MIT
"""Timing inside the unix port of MicroPython: build the x64 native module (as `make natmod`
does, with the natmod flags) and time `_microtrain.op` calls in bench/micropython/time_ops.py.
"""

import json
from pathlib import Path

import numpy as np

from microtrain_tools.device.micropython_runner import run_script
from microtrain_tools.mpy.natmod_build import build_module
from microtrain_tools.paths import BUILD_DIR, ROOT

SCRIPT = ROOT / "bench" / "micropython" / "time_ops.py"
TYPECODES = {np.dtype(np.int8): "b", np.dtype(np.int32): "i", np.dtype(np.float32): "f"}


def build_x64_module(out_dir=BUILD_DIR / "bench") -> Path:
    out_dir = Path(out_dir)
    result = build_module("x64", out_dir / "x64" / "_microtrain.mpy",
                          build_dir=out_dir / "x64-objects", log=lambda _: None)
    return result.out_path


def time_in_micropython(cases, module: Path, work_dir, *, timeout: float = 240.0):
    """cases: [(op, args, bufs, calls)] -> [(seconds per call, [bytes of each buffer after the
    first call])]."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    encoded = [{"op": op, "args": [int(a) for a in args], "calls": int(calls),
                "bufs": [[TYPECODES[b.dtype], b.tobytes().hex()] for b in bufs]}
               for op, args, bufs, calls in cases]
    case_file = work_dir / "upy_cases.json"
    case_file.write_text(json.dumps(encoded))
    result = run_script(SCRIPT, path=[module.parent], args=[case_file], timeout=timeout,
                        heapsize="16M").check()
    return [(us * 1e-6, [bytes.fromhex(h) for h in hexes])
            for us, hexes in json.loads(result.stdout)]
