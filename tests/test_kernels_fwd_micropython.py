# SPDX-License-Identifier: MIT
"""The forward ops inside the x64 native module, run by the unix-port micropython through
`_microtrain.op(op_id, args, *bufs)`, equal the numpy reference bit for bit."""

import json

import numpy as np

from conftest import ROOT
from kernels_fwd_cases import add_case, avgpool_case, conv_case, dequant_case, fc_case
from microtrain_tools.device.micropython_runner import run_script
from microtrain_tools.reference import REFERENCE_OPS

TYPECODES = {np.dtype(np.int8): "b", np.dtype(np.int32): "i", np.dtype(np.float32): "f"}


def cases():
    rng = np.random.default_rng(20261123)
    yield "mt_conv2d_s8_fwd", conv_case(rng, h=7, w=6, c_in=3, c_out=5, stride=(2, 2))
    yield "mt_conv2d_s8_fwd", conv_case(rng, h=1, w=12, k=(1, 5), c_in=2, c_out=3, clamp="relu6")
    yield "mt_conv2d_s8_fwd", conv_case(rng, k=(1, 1), padding="valid", c_in=6, c_out=7)
    yield "mt_pwconv2d_s8_fwd", conv_case(rng, k=(1, 1), padding="valid", c_in=5, c_out=9,
                                          scale_range=(0.5, 20.0), bias_range=100000)
    yield "mt_dwconv2d_s8_fwd", conv_case(rng, depthwise=True, k=(7, 7), stride=(2, 2), h=11,
                                          w=10, c_in=5)
    yield "mt_dwconv2d_s8_fwd", conv_case(rng, depthwise=True, n=2, c_in=4, clamp="relu")
    yield "mt_fc_s8_fwd", fc_case(rng, n=2, in_shape=(2, 3, 4), c_out=10)
    yield "mt_add_s8_fwd", add_case(rng, dims=(1, 3, 5, 7), clamp="relu")
    yield "mt_avgpool_s8_fwd", avgpool_case(rng, dims=(2, 4, 4, 9))
    yield "mt_dequant_s8_f32", dequant_case(rng, dims=(1, 1, 1, 40))


def encode(name, args, bufs):
    return {"op": name, "args": [int(a) for a in args],
            "bufs": [[TYPECODES[b.dtype], b.tobytes().hex()] for b in bufs]}


def test_forward_ops_in_micropython_equal_numpy(micropython, built_module, tmp_path):
    mpy_dir = built_module("x64").parent
    all_cases = list(cases())
    bad_args, bad_bufs = conv_case(np.random.default_rng(1))
    bad_args[17] = 5  # an output height that does not follow from the input
    all_cases.append(("mt_conv2d_s8_fwd", (bad_args, bad_bufs)))
    case_file = tmp_path / "cases.json"
    case_file.write_text(json.dumps([encode(n, *c) for n, c in all_cases]))
    result = run_script(ROOT / "tests" / "micropython" / "natmod_fwd_ops.py", path=[mpy_dir],
                        args=[case_file], micropython=micropython, timeout=60)
    assert result.ok, result.describe()
    results = json.loads(result.stdout)
    assert len(results) == len(all_cases)
    assert results[-1] == ["error", "mt_conv2d_s8_fwd: shapes do not agree"], results[-1]
    for (name, (args, bufs)), got in zip(all_cases[:-1], results[:-1]):
        assert got[0] != "error", f"{name}: {got}"
        ref = [b.copy() for b in bufs]
        REFERENCE_OPS[name](args, ref)
        for i, (g, r) in enumerate(zip(got, ref)):
            assert g == r.tobytes().hex(), f"{name} buffer {i}: micropython differs from numpy"
