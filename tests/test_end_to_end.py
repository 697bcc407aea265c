# SPDX-License-Identifier: MIT
"""The whole path: int8 graph + policy -> compiled programs -> packed dist/ -> learning in the
unix port of MicroPython, number for number equal to the host simulation."""

import shutil

import numpy as np
import pytest

from e2e_models import samples, small_graph
from microtrain_tools.bundle.boards import load_board
from microtrain_tools.compiler import compile_model
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.device.micropython_runner import run_script
from microtrain_tools.bundle.pack import make_bundle, pack
from microtrain_tools.policy.definition import Optimizer, make_policy
from microtrain_tools.sim.simulate import HostModel

N_STEPS = 12

DEVICE_SCRIPT = """
import binascii, gc
from array import array
import microtrain

m = microtrain.load("small")
with open("samples.bin", "rb") as f:
    data = f.read()
n = len(data) // (4 * m.input_size + 4)
for i in range(n):
    off = i * (4 * m.input_size + 4)
    x = array("f", data[off:off + 4 * m.input_size])
    y = int.from_bytes(data[off + 4 * m.input_size:off + 4 * m.input_size + 4], "little")
    p = m.predict(x)
    print("predict", p, binascii.hexlify(bytes(m._out)).decode())
    m.learn(x, y)
    print("learn", binascii.hexlify(bytes(m._out)).decode())
print("params", binascii.hexlify(bytes(m._params)).decode())
print("memory", m.memory()["arena"], m.memory()["params"])
"""


def host_trace(compiled, x, y):
    host = HostModel(compiled)
    lines = []
    for xi, yi in zip(x, y):
        p = host.predict(xi)
        lines.append(f"predict {p} {host.out.tobytes().hex()}")
        host.learn(xi, yi)
        lines.append(f"learn {host.out.tobytes().hex()}")
    lines.append(f"params {host.params.tobytes().hex()}")
    return host, lines


def write_samples(path, x, y):
    with open(path, "wb") as f:
        for xi, yi in zip(x, y):
            f.write(xi.astype("<f4").tobytes() + int(yi).to_bytes(4, "little"))


@pytest.fixture(scope="module")
def graph():
    return small_graph()


def policy_all_kinds(graph, rounding="stochastic", momentum=0.9):
    return make_policy(
        graph, bias_last_n=4,
        weights=[("head", 1.0, "first_k"), ("project", 0.5, "largest_norm"),
                 ("dw", 0.5, "first_k")],
        optimizer=Optimizer(lr=0.05, momentum=momentum, rounding=rounding))


@pytest.mark.parametrize("rounding", ["truncate", "stochastic", "master_fp32"])
def test_unix_port_equals_host_simulation(graph, tmp_path, micropython, rounding):
    compiled = compile_model(graph, policy_all_kinds(graph, rounding))
    pack(make_bundle(compiled, "small"), load_board("unix"), tmp_path, log=lambda *a: None)
    x, y = samples(N_STEPS)
    write_samples(tmp_path / "samples.bin", x, y)
    (tmp_path / "run.py").write_text(DEVICE_SCRIPT)
    result = run_script(tmp_path / "run.py", path=[tmp_path], cwd=tmp_path,
                        micropython=micropython).check()
    device = result.stdout.strip().splitlines()
    host, expected = host_trace(compiled, x, y)
    assert device[:-1] == expected, "device and host simulation differ"
    assert device[-1] == f"memory {compiled.arena_size} {len(compiled.params)}"
    assert host.guards_intact()
    assert host.params.tobytes() != compiled.params, "learning changed nothing"


def test_arena_plan_equals_what_the_executor_touches(graph):
    compiled = compile_model(graph, policy_all_kinds(graph))
    x, y = samples(3)
    touched = np.zeros(compiled.arena_size, bool)
    for fill in (0xA5, 0x5A):
        host = HostModel(compiled, fill=fill)  # arena and guards start as `fill`
        for xi, yi in zip(x, y):
            host.predict(xi)
            host.learn(xi, yi)
        assert host.guards_intact(), "a kernel wrote outside the arena"
        touched |= host.arena != fill
    planned_end = max(off + t.size for t, off in compiled.tensors.items())
    assert touched.nonzero()[0].max() + 1 == planned_end
    assert (planned_end + 3) // 4 * 4 == compiled.arena_size


def test_fewer_updated_layers_give_a_smaller_plan_and_pruned_backward(graph):
    full = compile_model(graph, make_policy(graph, bias_last_n=5, weights=[
        ("conv1", 1.0, "first_k"), ("expand", 1.0, "first_k"), ("dw", 1.0, "first_k"),
        ("project", 1.0, "first_k"), ("head", 1.0, "first_k")]))
    # same optimizer everywhere (no momentum, no master copies): only the policy differs
    sparse = compile_model(graph, policy_all_kinds(graph, rounding="truncate", momentum=0.0))
    head_only = compile_model(graph, make_policy(graph, bias_last_n=1,
                                                 weights=[("head", 1.0, "first_k")]))
    bias_only = compile_model(graph, make_policy(graph, bias_last_n=2))

    def cost(c):
        return c.arena_size + len(c.params)

    assert cost(head_only) <= cost(sparse) <= cost(full)
    assert cost(head_only) < cost(full)
    def n_backward(c):
        return sum("grad" in op.name or "update" in op.name for op in c.learn)

    assert n_backward(head_only) < n_backward(sparse) < n_backward(full)
    # Pruning: nothing below the lowest updated layer gets a backward op.
    for c, lowest in ((head_only, "head"), (bias_only, "project"), (sparse, "expand")):
        backward = [op for op in c.learn if "grad" in op.name or "update" in op.name]
        below = {ly.name for ly in graph.layers[: graph.index(lowest)]}
        assert not [op for op in backward if op.comment.split(":")[0] in below], lowest
        assert not [op for op in c.learn if op.comment.startswith(f"{lowest}: dL/dx")]
    # bias-only and last-layer-only policies learn
    x, y = samples(20)
    for c in (head_only, bias_only):
        host = HostModel(c)
        losses = [host.learn(xi, 0) for xi in x]
        assert losses[-1] < losses[0], "training on one label must lower its loss"


def test_device_rejects_bad_input_and_foreign_state(graph, tmp_path, micropython):
    compiled = compile_model(graph, policy_all_kinds(graph))
    pack(make_bundle(compiled, "small"), load_board("unix"), tmp_path, log=lambda *a: None)
    other = compile_model(graph, make_policy(graph, bias_last_n=1))
    other_dir = tmp_path / "other"
    pack(make_bundle(other, "small"), load_board("unix"), other_dir, log=lambda *a: None)
    script = """
from array import array
import microtrain
m = microtrain.load("small")
x = array("f", bytes(4 * m.input_size))
def expect(fn, *args):
    try:
        fn(*args)
    except (ValueError, TypeError, OSError) as err:
        print("refused:", type(err).__name__, err)
    else:
        print("accepted")
expect(m.learn, array("f", bytes(8)), 1)
expect(m.learn, x, 99)
expect(m.learn, x, -1)
expect(m.learn, x, "1")
expect(m.predict, array("b", bytes(m.input_size)))
m.learn(x, 1)
before = bytes(m._params)
expect(m.load_state, "other.state")
expect(m.load_state, "missing.state")
with open("cut.state.a", "wb") as f:
    m.save("good.state")
    f.write(open("good.state.a", "rb").read()[:30])
expect(m.load_state, "cut.state")
data = bytearray(open("good.state.a", "rb").read())
data[-1] ^= 0xFF
with open("bad.state.b", "wb") as f:
    f.write(data)
expect(m.load_state, "bad.state")
print("kept", bytes(m._params) == before)
m.learn(x, 2)
print("from", m.load_state("good.state"))
print("restored", bytes(m._params) == before)
nan = array("f", x)
nan[3] = float("nan")
inf = array("f", x)
inf[0] = float("-inf")
expect(m.learn, nan, 1)
expect(m.learn, inf, 1)
expect(m.predict, nan)
print("kept", bytes(m._params) == before)
expect(m.evaluate, [x, x], [1, "3"])
expect(m.evaluate, [x, x], [1, 99])
expect(m.evaluate, [x], [1.0])
"""
    # The other model's state, saved by its own packed dist (its manifest lists its files).
    (other_dir / "make_other.py").write_text(
        "import microtrain\nm = microtrain.load('small')\nm.save('other.state')\n")
    run_script(other_dir / "make_other.py", path=[other_dir], cwd=other_dir,
               micropython=micropython).check()
    shutil.copy(other_dir / "other.state.a", tmp_path / "other.state.a")
    (tmp_path / "bad.py").write_text(script)
    out = run_script(tmp_path / "bad.py", path=[tmp_path], cwd=tmp_path,
                     micropython=micropython).check().stdout
    lines = out.strip().splitlines()
    assert lines[0].startswith("refused: ValueError x has 2 values"), out
    assert lines[1].startswith("refused: ValueError label must be"), out
    assert lines[2].startswith("refused: ValueError label must be"), out
    assert lines[3].startswith("refused: ValueError label must be"), out
    assert lines[4].startswith("refused:"), out  # int8 input to a float model
    assert "belongs to another model" in lines[5], out
    assert lines[6].startswith("refused: OSError"), out
    assert "truncated" in lines[7], out
    assert "damaged" in lines[8], out
    assert lines[9:12] == ["kept True", "from good.state.a", "restored True"], out
    for line in lines[12:15]:
        assert line.startswith("refused: ValueError training program op 0: input or target is "
                               "NaN or infinite"), out
    assert lines[15] == "kept True", out
    for line in lines[16:19]:
        assert line.startswith("refused: ValueError label must be an int in 0..4"), out
    assert len(lines) == 19, out


def test_corrupt_bundle_is_refused_at_load(graph, tmp_path, micropython):
    compiled = compile_model(graph, policy_all_kinds(graph))
    bundle = make_bundle(compiled, "small")
    bundle.learn = bundle.learn[:-5]
    pack(bundle, load_board("unix"), tmp_path, log=lambda *a: None)
    (tmp_path / "run.py").write_text(
        "import microtrain\ntry:\n    microtrain.load('small')\n"
        "except ValueError as err:\n    print('refused', err)\n")
    out = run_script(tmp_path / "run.py", path=[tmp_path], cwd=tmp_path,
                     micropython=micropython).check().stdout
    assert out.startswith("refused training program"), out


def test_learn_allocates_nothing(graph, tmp_path, micropython):
    compiled = compile_model(graph, policy_all_kinds(graph))
    pack(make_bundle(compiled, "small"), load_board("unix"), tmp_path, log=lambda *a: None)
    (tmp_path / "run.py").write_text("""
import gc
from array import array
import microtrain
m = microtrain.load("small")
x = array("f", bytes(4 * m.input_size))
def steps(n):
    for i in range(n):
        m.learn(x, 1, False)
def measure():
    # locals only: storing a new global would grow the module dict and count against learn
    gc.collect()
    before = gc.mem_alloc()
    steps(100)
    return gc.mem_alloc() - before
steps(2)
print(measure())
""")
    out = run_script(tmp_path / "run.py", path=[tmp_path], cwd=tmp_path,
                     micropython=micropython).check().stdout
    assert out.strip() == "0", f"learn allocated {out.strip()} bytes over 100 calls"


def test_compiler_errors_are_clear(graph):
    with pytest.raises(MicrotrainError, match="updates nothing"):
        compile_model(graph, make_policy(graph, bias_last_n=0))
    with pytest.raises(MicrotrainError, match="input dtype"):
        compile_model(graph, None, input_dtype="int16")


def test_compiler_refuses_a_q8_weight_update_beyond_the_exact_pixel_bound():
    """A weight update whose output has more than 65,793 pixels would overflow the int32 sums of
    mt_*_q8_update: the compiler names the layer instead; f32 gradients and bias-only updates
    still compile."""
    from microtrain_tools.formats import model as mdl
    from microtrain_tools.quantize.ptq import quantize

    rng = np.random.default_rng(0)
    layers = [mdl.conv2d("wide", "input", rng.standard_normal((1, 1, 1, 1)).astype(np.float32),
                         np.zeros(1, np.float32)),
              mdl.avgpool("pool", "wide"),
              mdl.fc("head", "pool", rng.standard_normal((2, 1)).astype(np.float32),
                     np.zeros(2, np.float32))]
    model = mdl.FloatModel((257, 257, 1), layers, name="wide")
    big, _ = quantize(model, rng.uniform(-1, 1, (2, 257, 257, 1)).astype(np.float32))
    policy = make_policy(big, weights=[("wide", 1.0, "first_k")])
    with pytest.raises(MicrotrainError, match="layer 'wide': 66049 output pixels"):
        compile_model(big, policy)
    compile_model(big, make_policy(big, bias_last_n=2))


def test_truncated_or_damaged_packed_files_are_refused_before_import(graph, tmp_path, micropython):
    compiled = compile_model(graph, policy_all_kinds(graph))
    pack(make_bundle(compiled, "small"), load_board("unix"), tmp_path, log=lambda *a: None)
    (tmp_path / "run.py").write_text(
        "import microtrain\ntry:\n    microtrain.load('small')\n"
        "except ValueError as err:\n    print('refused', err)\nelse:\n    print('loaded')\n")

    def run():
        return run_script(tmp_path / "run.py", path=[tmp_path], cwd=tmp_path,
                          micropython=micropython).check().stdout.strip()

    assert run() == "loaded"
    native = tmp_path / "_microtrain.mpy"
    whole = native.read_bytes()
    native.write_bytes(whole[: len(whole) // 2])
    assert run().startswith("refused _microtrain.mpy is truncated"), "a cut module must not load"
    damaged = bytearray(whole)
    damaged[len(whole) // 2] ^= 0x55
    native.write_bytes(bytes(damaged))
    assert run().startswith("refused _microtrain.mpy is damaged")
    native.unlink()
    assert run().startswith("refused _microtrain.mpy is missing")


def test_device_mse_targets_must_be_float32(graph, tmp_path, micropython):
    """An MSE target of array('d') or array('i') would be read as raw float32 bytes: refused, as
    is a NaN target; array('f') and lists train (issue 8 D5, D6)."""
    policy = make_policy(graph, bias_last_n=2, loss="mse")
    pack(make_bundle(compile_model(graph, policy), "small"), load_board("unix"), tmp_path,
         log=lambda *a: None)
    (tmp_path / "run.py").write_text("""
from array import array
import microtrain
m = microtrain.load("small")
x = array("f", bytes(4 * m.input_size))
before = bytes(m._params)
for y in (array("d", [0.0] * 5), array("i", [0] * 5), bytes(20), array("f", [0, 0, float("nan"), 0, 0])):
    try:
        m.learn(x, y)
        print("accepted")
    except ValueError as err:
        print("refused:", err)
print("kept", bytes(m._params) == before)
m.learn(x, [0, 1, 0, 0, 0])
m.learn(x, array("f", [0, 1, 0, 0, 0]))
print("learned", bytes(m._params) != before)
""")
    out = run_script(tmp_path / "run.py", path=[tmp_path], cwd=tmp_path,
                     micropython=micropython).check().stdout.strip().splitlines()
    assert out[:3] == ["refused: y must be array('f') or a list/tuple of numbers for this model"] * 3
    assert out[3].startswith("refused: training program op") and "NaN or infinite" in out[3]
    assert out[4:] == ["kept True", "learned True"], out
