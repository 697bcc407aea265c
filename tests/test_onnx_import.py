# SPDX-License-Identifier: MIT
"""`microtrain import model.onnx`: float models made by PyTorch's exporter
(tests/onnx_fixtures/make_models.py) import into our float model and then our PTQ.

Checked against onnxruntime: the imported float model gives onnxruntime's outputs within float32
rounding (our model takes NHWC samples, onnxruntime the same samples in NCHW), and the int8 graph
quantized from it stays within post-training-quantization error of them.
"""

from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner

from conftest import skip_or_fail
from microtrain_tools.sim import float_model, int8_run
from microtrain_tools.cli import group as cli
from microtrain_tools.cli import main as cli_main
from microtrain_tools.compiler import compile_model
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.importers.dispatch import import_model
from microtrain_tools.formats.int8_graph import load_graph
from microtrain_tools.importers.onnx_import import load_onnx
from microtrain_tools.policy.definition import Optimizer, make_policy
from microtrain_tools.sim.simulate import HostModel

FIXTURES = Path(__file__).parent / "onnx_fixtures"
IMPORTED = ["cnn_block", "cnn_block_dynamo", "bn_flatten_map", "mlp"]


def onnxruntime_outputs(path: Path, x_nhwc):
    """onnxruntime's outputs for NHWC samples (fed one by one: some fixtures fix batch 1); a
    model of (batch, n) input gets them as (1, n)."""
    try:
        import onnxruntime
    except ImportError as err:
        skip_or_fail(f"onnxruntime is not installed ({err}): run `make venv`")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    rank = len(session.get_inputs()[0].shape)
    feed = [x[None].transpose(0, 3, 1, 2) if rank == 4 else x.reshape(1, -1) for x in x_nhwc]
    return np.array([session.run(None, {name: x})[0].ravel() for x in feed])


def samples(model, n=64, seed=0):
    return np.random.default_rng(seed).normal(0.0, 1.0, (n, *model.input_shape)).astype(
        np.float32)


def calib_file(tmp_path, model, n=64, seed=1, nchw=False):
    """Calibration samples with the float model's own classes as labels; (n, features) for a
    model of (1, 1, features) input, as its user has them."""
    x = samples(model, n, seed)
    y = float_model.predict(model, x).argmax(1)
    path = tmp_path / "calib.npz"
    if nchw:
        x = x.transpose(0, 3, 1, 2)
    elif model.input_shape[:2] == (1, 1):
        x = x.reshape(n, -1)
    np.savez(path, x=x, y=y)
    return path


@pytest.mark.parametrize("name", IMPORTED)
def test_float_model_equals_onnxruntime(name):
    path = FIXTURES / f"{name}.onnx"
    model, _ = load_onnx(path)
    x = samples(model)
    want = onnxruntime_outputs(path, x)
    got = float_model.predict(model, x)
    assert got.shape == want.shape
    # float32 rounding only: the same maths summed in another order
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    assert np.ptp(want, axis=0).min() > 1e-3, "outputs that do not vary would test nothing"


@pytest.mark.parametrize("name", IMPORTED)
def test_quantized_model_is_within_ptq_error_of_onnxruntime(name, tmp_path):
    path = FIXTURES / f"{name}.onnx"
    model, _ = load_onnx(path)
    graph, report = import_model(path, calib=calib_file(tmp_path, model, n=256))
    x = samples(model, 200, seed=2)  # not the calibration samples
    want = onnxruntime_outputs(path, x)
    got = graph.output.dequantize(int8_run.predict(graph, graph.input.quantize(x)))
    got = got.reshape(len(x), -1)
    spread = np.abs(want).max()
    # int8 activations and weights: errors of a few output steps, a few percent of the range;
    # a fresh sample whose activations leave the calibrated ranges saturates (the mlp's worst
    # sample is off by a quarter of the range), so the bound is on 95% of the samples.
    err = np.abs(got - want).max(axis=1)
    assert np.quantile(err, 0.95) < 0.04 * spread, (np.quantile(err, 0.95), spread)
    assert (got.argmax(1) == want.argmax(1)).mean() >= 0.9
    assert report.agreement >= 0.9 and report.n_calib == 256


def test_layers_and_layouts():
    block, _ = load_onnx(FIXTURES / "cnn_block.onnx")
    assert [(ly.op, ly.act) for ly in block.layers] == [
        ("conv2d", "relu"), ("conv2d", "relu6"), ("conv2d", "none"), ("add", "none"),
        ("avgpool", "none"), ("fc", "relu"), ("fc", "none")]
    assert block.layers[1].depthwise and block.layers[-1].name == "head"
    assert block.input_shape == (12, 12, 3)
    onnx_w = {t.name: onnx.numpy_helper.to_array(t)
              for t in onnx.load(FIXTURES / "cnn_block.onnx").graph.initializer}
    assert np.array_equal(block.layers[1].params["weight"],
                          onnx_w["dw.weight"][:, 0].transpose(1, 2, 0))
    bn, notes = load_onnx(FIXTURES / "bn_flatten_map.onnx")
    assert [ly.op for ly in bn.layers] == ["conv2d", "batchnorm", "flatten", "fc"]
    assert bn.layers[1].act == "relu6" and bn.layers[0].attrs["padding"] == (0, 0)
    assert any("CHW order" in note for note in notes)


def test_unsupported_op_is_refused_by_name_and_node():
    with pytest.raises(MicrotrainError, match=r"node 2 \(MaxPool '/MaxPool'\): microtrain has "
                       r"no MaxPool; supported ops: .*Re-export"):
        load_onnx(FIXTURES / "maxpool.onnx")


def edited(tmp_path, edit):
    """cnn_block.onnx changed by edit(model) and saved: the refusals of ops we do not map."""
    model = onnx.load(FIXTURES / "cnn_block.onnx")
    edit(model)
    path = tmp_path / "edited.onnx"
    onnx.save(model, path)
    return path


def set_clip_max(model, value):
    clip = next(n for n in model.graph.node if n.op_type == "Clip")
    const = next(n for n in model.graph.node if n.output[0] == clip.input[2])
    const.attribute[0].t.CopyFrom(onnx.numpy_helper.from_array(np.float32(value)))


def set_op(model, old, new):
    next(n for n in model.graph.node if n.op_type == old).op_type = new


def pad_bottom(model):
    conv = model.graph.node[0]
    pads = next(a for a in conv.attribute if a.name == "pads")
    pads.ints[:] = [1, 1, 2, 1]


def gemm_alpha_beta_untransposed(model):
    """The head Gemm as other exporters may write it: alpha, beta and a (in, out) weight."""
    gemm = [n for n in model.graph.node if n.op_type == "Gemm"][-1]
    weight = next(t for t in model.graph.initializer if t.name == gemm.input[1])
    weight.CopyFrom(onnx.numpy_helper.from_array(
        onnx.numpy_helper.to_array(weight).T.copy() / 2, weight.name))
    del gemm.attribute[:]
    gemm.attribute.extend([onnx.helper.make_attribute("alpha", 2.0),
                           onnx.helper.make_attribute("beta", 0.5)])


def test_gemm_attributes_follow_onnxruntime(tmp_path):
    path = edited(tmp_path, gemm_alpha_beta_untransposed)
    model, _ = load_onnx(path)
    x = samples(model)
    want = onnxruntime_outputs(path, x)
    np.testing.assert_allclose(float_model.predict(model, x), want, rtol=1e-5,
                               atol=1e-5 * np.abs(want).max())
    original = onnxruntime_outputs(FIXTURES / "cnn_block.onnx", x)
    assert np.abs(want - original).max() > 1e-3, "beta 0.5 must change the outputs"


@pytest.mark.parametrize("edit,message", [
    (lambda m: set_op(m, "Relu", "Sigmoid"), r"node 1 \(Sigmoid '/Relu'\): microtrain has no Sigmoid"),
    (lambda m: set_op(m, "Relu", "QuantizeLinear"),
     r"node 1 \(QuantizeLinear '/Relu'\): QuantizeLinear without a scale input"),
    (lambda m: set_clip_max(m, 3.0), r"node 5 \(Clip '/Clip'\): Clip\(0.0, 3.0\): only"),
    (pad_bottom, r"node 0 \(Conv '/conv/Conv'\): padding .* less at the bottom"),
])
def test_ops_we_cannot_map_are_refused(tmp_path, edit, message):
    with pytest.raises(MicrotrainError, match=message):
        load_onnx(edited(tmp_path, edit))


def test_damaged_file_is_refused(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes((FIXTURES / "cnn_block.onnx").read_bytes()[:300])
    with pytest.raises(MicrotrainError, match="bad.onnx is not an ONNX model"):
        load_onnx(bad)


def test_nchw_calibration_samples_are_refused_with_the_fix(tmp_path):
    path = FIXTURES / "cnn_block.onnx"
    model, _ = load_onnx(path)
    with pytest.raises(MicrotrainError, match=r"look NCHW .* x.transpose\(0, 2, 3, 1\)"):
        import_model(path, calib=calib_file(tmp_path, model, nchw=True))


def test_imported_model_learns_on_the_host(tmp_path):
    path = FIXTURES / "cnn_block.onnx"
    model, _ = load_onnx(path)
    graph, _ = import_model(path, calib=calib_file(tmp_path, model, n=128))
    policy = make_policy(graph, bias_last_n=2, weights=[("head", 1.0, "first_k"),
                                                        ("fc0", 0.5, "first_k")],
                         optimizer=Optimizer(lr=0.1))
    host = HostModel(compile_model(graph, policy))
    x = samples(model, 1, seed=3)[0]
    host.predict(x)
    label = int(np.argmin(host.logits()))
    losses = [host.learn(x, label) for _ in range(30)]
    # This untrained net's logits span only about 0.65 and the int8 output's calibrated range
    # holds them there, so the loss stops near 1.04: the label must win, not the loss reach 0.
    assert losses[-1] < 0.6 * losses[0], losses
    host.predict(x)
    assert int(np.argmax(host.logits())) == label
    assert host.guards_intact()


def test_cli_import(tmp_path, capsys):
    model, _ = load_onnx(FIXTURES / "bn_flatten_map.onnx")
    calib = calib_file(tmp_path, model)
    out = tmp_path / "m.mtg"
    res = CliRunner().invoke(cli, ["import", str(FIXTURES / "bn_flatten_map.onnx"), "--calib",
                                   str(calib), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "folded 1 batch norms" in res.output and "CHW order" in res.output
    assert "float and int8 agree" in res.output
    graph = load_graph(out)
    assert [ly.op for ly in graph.layers] == ["conv2d", "flatten", "fc"]
    assert graph.layers[-1].name == "head"
    with pytest.raises(SystemExit) as stop:
        cli_main(["import", str(FIXTURES / "maxpool.onnx"), "--calib", str(calib), "-o",
                  str(tmp_path / "x")])
    assert stop.value.code == 1
    assert "node 2 (MaxPool" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_readme_quotes_what_the_onnx_import_prints(tmp_path, monkeypatch):
    """The README's worked ONNX example, run as written (from a folder holding the fixtures)."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme[readme.index("### ONNX"):]
    command = "microtrain import tests/onnx_fixtures/cnn_block.onnx --calib c.npz -o m.mtg"
    quoted = section[section.index(command) + len(command):].split("\n\n")[0]
    quoted = [line.strip() for line in quoted.strip().splitlines()]
    assert len(quoted) >= 5, quoted
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "onnx_fixtures").symlink_to(FIXTURES)
    monkeypatch.chdir(tmp_path)
    np.savez("c.npz", x=np.random.default_rng(0).normal(size=(256, 12, 12, 3)).astype(
        np.float32))  # the README's one-liner
    res = CliRunner().invoke(cli, command.split()[1:])
    assert res.exit_code == 0, res.output
    assert [line.strip() for line in res.output.strip().splitlines()] == quoted
