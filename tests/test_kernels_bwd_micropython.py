# SPDX-License-Identifier: MIT
"""The backward, loss and update ops inside the x64 native module, run by the unix-port
micropython through `_microtrain.op(op_id, args, *bufs)` (the device's path: our linker, the
module glue, empty optional buffers), equal the numpy reference bit for bit."""

import json

from conftest import ROOT
from microtrain_tools.device.micropython_runner import run_script
from microtrain_tools.reference import REFERENCE_OPS
from test_kernels_bwd_cortex_m import cases
from test_kernels_fwd_micropython import encode


def test_backward_ops_in_micropython_equal_numpy(micropython, built_module, tmp_path):
    mpy_dir = built_module("x64").parent
    all_cases = [(name, args, bufs) for name, args, bufs in cases()]
    case_file = tmp_path / "cases.json"
    case_file.write_text(json.dumps([encode(n, a, b) for n, a, b in all_cases]))
    result = run_script(ROOT / "tests" / "micropython" / "natmod_fwd_ops.py", path=[mpy_dir],
                        args=[case_file], micropython=micropython, timeout=60)
    assert result.ok, result.describe()
    results = json.loads(result.stdout)
    assert len(results) == len(all_cases)
    for (name, args, bufs), got in zip(all_cases, results):
        assert got[0] != "error", f"{name}: {got}"
        ref = [b.copy() for b in bufs]
        REFERENCE_OPS[name](args, ref)
        for i, (g, r) in enumerate(zip(got, ref)):
            assert g == r.tobytes().hex(), f"{name} buffer {i}: micropython differs from numpy"
