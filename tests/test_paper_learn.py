# SPDX-License-Identifier: MIT
"""Learn steps of the paper's three models with their sparse schemes (128x128x3 int8 input, a
new 10-class head), compiled as `microtrain pack` does (the frozen prefix streamed, clamps from
bit masks), run in the unix port and equal the host simulation byte for byte."""

import numpy as np
import pytest

from microtrain_tools.bundle.boards import load_board
from microtrain_tools.compiler import compile_model
from microtrain_tools.device.micropython_runner import run_script
from microtrain_tools.bundle.pack import make_bundle, pack
from microtrain_tools.importers.paper_models import load_paper_model, paper_policy
from microtrain_tools.sim.simulate import HostModel
from shared_data import shared_data

SCRIPT = """
import binascii
import microtrain
m = microtrain.load("paper")
with open("x.bin", "rb") as f:
    x = f.read()
m.learn(x, 3)
print(binascii.hexlify(bytes(m._out)).decode())
m.learn(x, 7)
print(binascii.hexlify(bytes(m._out)).decode())
print(binascii.hexlify(bytes(m._params)).decode())
"""


@pytest.mark.parametrize("model,scheme", (("mcunet-5fps", "49kb"), ("mbv2-w0.35", "99kb"),
                                          ("proxyless-w0.3", "98kb")))
def test_paper_model_learn_steps_equal_host(tmp_path, micropython, model, scheme):
    folder = shared_data("paper_models")
    graph = load_paper_model(model, path=folder / f"{model}.pkl")
    compiled = compile_model(graph, paper_policy(model, scheme, graph), input_dtype="int8")
    assert compiled.tiling is not None, "the frozen prefix is streamed"
    assert any(op.name == "mt_clampmask_q8_grad_in" for op in compiled.learn)
    x = np.random.default_rng(0).integers(-128, 128, 128 * 128 * 3).astype(np.int8)
    host = HostModel(compiled)
    expected = []
    for label in (3, 7):
        host.learn(x, label)
        expected.append(host.out.tobytes().hex())
    expected.append(host.params.tobytes().hex())
    assert host.guards_intact()

    pack(make_bundle(compiled, "paper"), load_board("unix"), tmp_path, log=lambda *a: None)
    (tmp_path / "x.bin").write_bytes(x.tobytes())
    (tmp_path / "run.py").write_text(SCRIPT)
    out = run_script(tmp_path / "run.py", path=[tmp_path], cwd=tmp_path, micropython=micropython,
                     heapsize="4M", timeout=120).check().stdout
    assert out.strip().splitlines() == expected
