# SPDX-License-Identifier: MIT
"""The device API the README documents, on the unix port: an int8-input bundle carries its input
quantization and quantizes sensor values as the host does (issue 9, trap 7), and the README's
"Learning on the unix port" recipe runs as written, from the pack folder with -X heapsize=16M."""

import re

import numpy as np
import pytest

from conftest import ROOT
from e2e_models import samples, small_graph
from microtrain_tools.bundle.boards import load_board
from microtrain_tools.cli import main as cli_main
from microtrain_tools.compiler import compile_model
from microtrain_tools.formats.int8_graph import save_graph
from microtrain_tools.device.micropython_runner import run_script
from microtrain_tools.bundle.pack import make_bundle, pack
from microtrain_tools.policy.definition import make_policy, save_policy
from microtrain_tools.sim.simulate import HostModel


@pytest.fixture(scope="module")
def graph():
    return small_graph()


def test_int8_input_bundle_carries_its_quantization(graph, tmp_path, micropython):
    compiled = compile_model(graph, make_policy(graph, bias_last_n=1), input_dtype="int8")
    bundle = make_bundle(compiled, "small")
    t_in = graph.input
    assert (bundle.input_scale, bundle.input_zero_point) == (t_in.scale, t_in.zero_point)
    pack(bundle, load_board("unix"), tmp_path, log=lambda *a: None)
    # values around every rounding boundary, and beyond the int8 range on both sides
    rng = np.random.default_rng(3)
    n = graph.input.shape[0] * graph.input.shape[1] * graph.input.shape[2]
    edges = (np.arange(n) - n // 2 + 0.5) * t_in.scale  # exact halves before the zero point
    values = np.concatenate([rng.uniform(-1.5, 1.5, n), edges, rng.uniform(-40, 40, n)])
    rows = values.reshape(3, n)
    (tmp_path / "run.py").write_text(f"""
from array import array
import microtrain
m = microtrain.load("small")
print(repr(m.input_scale), m.input_zero_point, m.input_dtype)
buf = bytearray(m.input_size)
for row in {[list(map(float, r)) for r in rows]!r}:
    q = m.quantize_input(row)
    assert bytes(m.quantize_input(row, buf)) == bytes(q)
    print(list(q), m.predict(q))
""")
    out = run_script(tmp_path / "run.py", path=[tmp_path], cwd=tmp_path,
                     micropython=micropython).check().stdout.strip().splitlines()
    scale, zp, dtype = out[0].split()
    assert (float(scale), int(zp), dtype) == (t_in.scale, t_in.zero_point, "int8")
    host = HostModel(compiled)
    for row, line in zip(rows, out[1:]):
        q, predicted = line.rsplit("] ", 1)
        expected = t_in.quantize(row)
        assert np.array_equal(np.array(eval(q + "]"), np.int8), expected)
        assert int(predicted) == host.predict(expected)
    assert len(out) == 4


def recipe() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Learning on the unix port"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_unix_port_recipe_runs_as_written(graph, tmp_path, micropython):
    save_graph(graph, tmp_path / "m.mtg")
    policy = make_policy(graph, bias_last_n=2, weights=[("head", 1.0, "first_k")])
    save_policy(policy, tmp_path / "p.json")
    dist = tmp_path / "dist"
    cli_main(["pack", str(tmp_path / "m.mtg"), "--policy", str(tmp_path / "p.json"),
              "--board", "unix", "-o", str(dist)])
    # a task it can learn: the label is which half of the input holds the larger sum
    x, _ = samples(300, seed=8)
    flat = x.reshape(len(x), -1)
    y = (flat[:, : flat.shape[1] // 2].sum(1) > flat[:, flat.shape[1] // 2:].sum(1)).astype(int)
    np.savetxt(dist / "train.txt", np.column_stack([flat[:200], y[:200]]))
    np.savetxt(dist / "test.txt", np.column_stack([flat[200:], y[200:]]))
    (dist / "learn.py").write_text(recipe())
    result = run_script(dist / "learn.py", cwd=dist, heapsize="16M", micropython=micropython,
                        timeout=300).check()
    out = result.stdout
    before = float(re.search(r"accuracy before ([\d.]+)", out).group(1))
    after = float(re.search(r"accuracy after ([\d.]+)", out).group(1))
    losses = [float(v) for v in re.findall(r"mean loss ([\d.e-]+)", out)]
    assert len(losses) == 3 and losses[-1] < losses[0], out
    assert after > before, out
    saved = re.search(r"saved (\S+)", out).group(1)
    assert (dist / saved).exists(), out
    assert f"inputs {flat.shape[1]} outputs" in out
