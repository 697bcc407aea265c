# SPDX-License-Identifier: MIT
"""`microtrain import model.tflite`: int8 TFLite models made by TensorFlow's converter
(tests/litert_fixtures/make_models.py) import into our int8 graph with TFLite's numerics.

The imported graph runs as our compiled predict program (compile_model + HostModel, int8 input)
and its int8 output equals LiteRT's interpreter with reference kernels (BUILTIN_REF) bit for bit,
on the tensor before the SOFTMAX / DEQUANTIZE the import drops.
"""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import skip_or_fail
from microtrain_tools.cli import group as cli
from microtrain_tools.cli import main as cli_main
from microtrain_tools.compiler import compile_model
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.formats.int8_graph import load_graph
from microtrain_tools.policy.definition import Optimizer, make_policy, save_policy
from microtrain_tools.sim.simulate import HostModel
from microtrain_tools.importers.tflite_import import load_tflite

FIXTURES = Path(__file__).parent / "litert_fixtures"
IMPORTED = ["model_block", "model_float_io", "model_mean"]


def litert_tensors(path: Path, graph, xq, tensors) -> list:
    """LiteRT's int8 values of the given tensor indices, one (n, size) array per index, for
    int8 input samples (float input models get the samples dequantized exactly: the model's
    QUANTIZE gives the same int8 back)."""
    try:
        from ai_edge_litert import interpreter as lite
    except ImportError as err:
        skip_or_fail(f"ai-edge-litert is not installed ({err}): run `make venv`")
    it = lite.Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                          experimental_op_resolver_type=lite.OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    (detail,) = it.get_input_details()
    out = [[] for _ in tensors]
    for x in xq:
        x = x.reshape(detail["shape"])  # (1, h, w, c), or (1, n) for an fc-only model
        if detail["dtype"] != np.int8:
            x = graph.input.dequantize(x)
        it.set_tensor(detail["index"], x)
        it.invoke()
        for values, index in zip(out, tensors):
            values.append(it.get_tensor(index).ravel().copy())
    return [np.array(values) for values in out]


def litert_logits(path: Path, graph, xq):
    """LiteRT's int8 logits tensor (the one before a dropped SOFTMAX / DEQUANTIZE)."""
    return litert_tensors(path, graph, xq, [graph.meta["logits_tensor"]])[0]


def host_logits(graph, compiled, xq):
    """Our int8 output: the program returns it dequantized in float32; undo that exactly."""
    host = HostModel(compiled)
    t = graph.output
    out = []
    for x in xq:
        host.predict(x)
        out.append(np.round(host.logits() / np.float32(t.scale)) + t.zero_point)
    return np.array(out).astype(np.int64)


@pytest.mark.parametrize("name", IMPORTED)
def test_imported_model_equals_litert_bit_for_bit(name):
    path = FIXTURES / f"{name}.tflite"
    graph = load_tflite(path)
    policy = make_policy(graph, bias_last_n=1, weights=[("head", 1.0, "first_k")])
    compiled = compile_model(graph, policy, input_dtype="int8")
    rng = np.random.default_rng(sum(map(ord, name)))
    xq = rng.integers(-128, 128, (100, *graph.input.shape)).astype(np.int8)
    want = litert_logits(path, graph, xq).astype(np.int64)
    got = host_logits(graph, compiled, xq)
    assert got.shape == want.shape
    assert np.array_equal(got, want), f"{name}: {np.abs(got - want).max()} steps apart"
    assert len(np.unique(want)) > 3, "outputs pinned at one value would test nothing"


def test_block_model_has_every_layer_kind():
    graph = load_tflite(FIXTURES / "model_block.tflite")
    ops = [ly.op for ly in graph.layers]
    assert ops == ["conv2d", "dwconv2d", "pwconv2d", "add", "avgpool", "fc"]
    conv = graph.layer("conv0")
    assert conv.attrs["padding"] == (1, 1), "the PAD is folded into the conv"
    assert graph.layers[-1].name == "head"
    assert len(set(conv.arrays["w_scale"].tolist())) > 1, "per-channel weight scales"


@pytest.mark.parametrize("name,op,index", [("model_maxpool", "MAX_POOL_2D", 1)])
def test_unsupported_op_is_refused_by_name_and_index(name, op, index):
    with pytest.raises(MicrotrainError, match=rf"op {index} \({op}\).*(Re-export|Export)"):
        load_tflite(FIXTURES / f"{name}.tflite")


def test_damaged_file_is_refused(tmp_path):
    bad = tmp_path / "bad.tflite"
    data = bytearray((FIXTURES / "model_block.tflite").read_bytes())
    bad.write_bytes(bytes(data[:200]))
    with pytest.raises(MicrotrainError, match="bad.tflite"):
        load_tflite(bad)
    bad.write_bytes(b"not a flatbuffer at all")
    with pytest.raises(MicrotrainError, match="not a TFLite flatbuffer"):
        load_tflite(bad)


def test_imported_model_learns_on_the_host():
    graph = load_tflite(FIXTURES / "model_block.tflite")
    policy = make_policy(graph, bias_last_n=2, weights=[("head", 1.0, "first_k"),
                                                        ("conv1", 0.5, "first_k")],
                         optimizer=Optimizer(lr=0.05))
    host = HostModel(compile_model(graph, policy, input_dtype="int8"))
    x = np.random.default_rng(3).integers(-128, 128, graph.input.shape).astype(np.int8)
    host.predict(x)
    label = int(np.argmin(host.logits()))
    losses = [host.learn(x, label) for _ in range(15)]
    assert losses[-1] < 0.5 * losses[0], losses
    assert host.guards_intact()


def test_cli_import_then_mem(tmp_path, capsys):
    runner = CliRunner()
    out = tmp_path / "m.mtg"
    res = runner.invoke(cli, ["import", str(FIXTURES / "model_block.tflite"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "dropped the final SOFTMAX" in res.output
    graph = load_graph(out)
    assert graph.layers[-1].name == "head"
    policy = tmp_path / "p.json"
    save_policy(make_policy(graph, bias_last_n=3, weights=[("head", 1.0, "first_k"),
                                                           ("conv1", 0.25, "first_k")]), policy)
    res = runner.invoke(cli, ["mem", str(out), "--policy", str(policy), "--input-dtype", "int8"])
    assert res.exit_code == 0, res.output
    assert "conv1" in res.output or "arena" in res.output.lower(), res.output
    with pytest.raises(SystemExit) as stop:
        cli_main(["import", str(FIXTURES / "model_maxpool.tflite"), "-o", str(tmp_path / "x")])
    assert stop.value.code == 1
    assert "op 1 (MAX_POOL_2D)" in capsys.readouterr().err and not (tmp_path / "x").exists()
