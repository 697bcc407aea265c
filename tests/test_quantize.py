# SPDX-License-Identifier: MIT
"""Post-training quantization: BN folding, weight/activation quantization, the int8 graph file,
and float vs int8 accuracy on digits."""

import json
import sys

import numpy as np
import pytest

from microtrain_tools.sim import float_model, int8_run
from microtrain_tools.quantize import ptq as quantize
from microtrain_tools.formats import int8_graph as ig
from microtrain_tools.formats import model as mdl
from microtrain_tools.cli import main as cli_main
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.paths import ROOT
from model_fixtures import pooled_cnn, tiny_cnn


def test_bn_folding_equals_the_unfolded_model():
    m = tiny_cnn(seed=2)
    folded = quantize.fold_batchnorm(m)
    assert [ly.op for ly in folded.layers].count("batchnorm") == 0
    assert folded.layer("conv1").act == "relu6"
    assert folded.layer("res").inputs == ["pw", "conv1"]
    x = np.random.default_rng(0).standard_normal((4, *m.input_shape)).astype(np.float32)
    np.testing.assert_allclose(float_model.forward(folded, x), float_model.forward(m, x),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(m.layer("conv1").params["weight"],
                                  tiny_cnn(seed=2).layer("conv1").params["weight"])


def test_bn_folding_of_a_depthwise_conv():
    rng = np.random.default_rng(1)
    bn = mdl.batchnorm("bn", "dw", 3)
    bn.params = {"gamma": rng.random(3) + 0.5, "beta": rng.random(3), "mean": rng.random(3),
                 "var": rng.random(3) + 0.1}
    m = mdl.FloatModel((4, 4, 3), [
        mdl.conv2d("dw", "input", rng.standard_normal((3, 3, 3)), padding=1, depthwise=True),
        bn])
    x = rng.standard_normal((2, 4, 4, 3))
    np.testing.assert_allclose(float_model.forward(quantize.fold_batchnorm(m), x),
                               float_model.forward(m, x), rtol=1e-5, atol=1e-5)


def test_bn_that_cannot_be_folded_is_named():
    m = pooled_cnn()
    layers = m.layers[:1] + [mdl.avgpool("pool", "c1"), mdl.batchnorm("bn", "pool", 4),
                             mdl.fc("head", "bn", np.ones((3, 4)))]
    with pytest.raises(MicrotrainError, match="batchnorm 'bn' cannot be folded"):
        quantize.fold_batchnorm(mdl.FloatModel(m.input_shape, layers))


def test_weights_are_symmetric_per_output_channel():
    w = np.random.default_rng(0).standard_normal((5, 3, 3, 2)) * np.arange(1, 6)[:, None, None,
                                                                                 None]
    q, s = quantize.quantize_weights(w, depthwise=False)
    assert q.dtype == np.int8 and s.shape == (5,)
    assert np.all(np.abs(q).reshape(5, -1).max(axis=1) == 127)
    assert np.all(np.abs(q * s[:, None, None, None] - w) <= s[:, None, None, None] / 2 + 1e-7)
    qd, sd = quantize.quantize_weights(w[0].transpose(1, 2, 0)[:, :, :2], depthwise=True)
    assert sd.shape == (2,) and np.all(np.abs(qd).max(axis=(0, 1)) == 127)


@pytest.mark.parametrize("lo, hi", [(0.0, 6.0), (-1.5, 3.0), (-2.0, -1.0), (0.5, 2.0)])
def test_activation_ranges_hold_zero_exactly(lo, hi):
    scale, zp = quantize.scale_zero_point(lo, hi)
    assert -128 <= zp <= 127
    t = ig.Tensor("t", (1, 1, 1), scale, zp)
    assert t.dequantize(t.quantize(0.0)) == 0.0
    assert abs(t.dequantize(t.quantize(hi)) - hi) <= scale / 2 + 1e-9 or hi < 0


def _quantized(make=tiny_cnn, n=64, seed=0):
    m = make(seed=seed)
    x = np.random.default_rng(seed).standard_normal((n, *m.input_shape)).astype(np.float32)
    graph, _ = quantize.quantize(m, x)
    return m, graph, x


def test_int8_graph_follows_the_float_model():
    m, graph, x = _quantized()
    assert [ly.op for ly in graph.layers] == ["conv2d", "dwconv2d", "pwconv2d", "add", "conv2d",
                                             "flatten", "fc", "fc"]
    out = graph.output.dequantize(int8_run.run(graph, graph.input.quantize(x)))
    ref = float_model.forward(m, x)
    span = ref.max() - ref.min()
    err = np.abs(out - ref).max()
    assert err < 0.08 * span, f"int8 output differs from float by {err} of span {span}"


def test_int8_graph_file_round_trip(tmp_path):
    _, graph, x = _quantized()
    path = tmp_path / "g.mtg"
    ig.save_graph(graph, path)
    back = ig.load_graph(path)
    assert back.tensors == graph.tensors
    for a, b in zip(graph.layers, back.layers):
        assert (a.name, a.op, a.inputs, a.attrs) == (b.name, b.op, b.inputs, b.attrs)
        assert sorted(a.arrays) == sorted(b.arrays)
        for k in a.arrays:
            assert a.arrays[k].dtype == b.arrays[k].dtype
            np.testing.assert_array_equal(a.arrays[k], b.arrays[k], err_msg=f"{a.name}/{k}")
    xq = graph.input.quantize(x)
    np.testing.assert_array_equal(int8_run.run(graph, xq), int8_run.run(back, xq))


def test_int8_graph_damage_is_named(tmp_path):
    _, graph, _ = _quantized(pooled_cnn)
    path = tmp_path / "g.mtg"
    ig.save_graph(graph, path)
    data = path.read_bytes()
    for cut in (0, 7, len(data) // 3, len(data) - 3):
        (tmp_path / "cut.mtg").write_bytes(data[:cut])
        with pytest.raises(MicrotrainError, match="not a microtrain int8 graph"):
            ig.load_graph(tmp_path / "cut.mtg")
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    doc = json.loads(arrays["graph"].tobytes())
    for change, message in [({"magic": "microtrain-float-model"}, "magic is"),
                            ({"version": 7}, "version 7 is not supported")]:
        arrays["graph"] = np.frombuffer(json.dumps({**doc, **change}).encode(), np.uint8)
        np.savez(tmp_path / "bad.npz", **arrays)
        with pytest.raises(MicrotrainError, match=message):
            ig.load_graph(tmp_path / "bad.npz")
    arrays["graph"] = np.frombuffer(json.dumps(doc).encode(), np.uint8)
    arrays["c1/weight"] = arrays["c1/weight"].astype(np.int16)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(MicrotrainError, match="layer 'c1': array 'weight' must be int8"):
        ig.load_graph(tmp_path / "bad.npz")
    # a float model is not an int8 graph
    mdl.save_model(pooled_cnn(), tmp_path / "float.npz")
    with pytest.raises(MicrotrainError, match="expected 'microtrain-int8-graph'"):
        ig.load_graph(tmp_path / "float.npz")


def test_graph_validation_names_the_layer():
    _, graph, _ = _quantized(pooled_cnn)
    head = graph.layer("head")
    head.arrays["bias"] = head.arrays["bias"][:2]
    with pytest.raises(MicrotrainError, match="layer 'head': bias must have shape"):
        ig.validate(graph)
    head.arrays["bias"] = np.zeros(3, np.int32)
    head.attrs["act_min"] = 200
    with pytest.raises(MicrotrainError, match="layer 'head': act_min/act_max"):
        ig.validate(graph)
    head.attrs["act_min"] = -128
    del graph.layer("c1").attrs["stride"]
    with pytest.raises(MicrotrainError, match="layer 'c1': missing or malformed attribute"):
        ig.validate(graph)


def test_bad_calibration_data_is_named():
    m = pooled_cnn()
    with pytest.raises(MicrotrainError, match="calibration data is empty"):
        quantize.quantize(m, np.zeros((0, 5, 5, 2)))
    with pytest.raises(MicrotrainError, match="samples of shape \\(4, 5, 2\\)"):
        quantize.quantize(m, np.zeros((3, 4, 5, 2)))
    with pytest.raises(MicrotrainError, match="non-finite"):
        quantize.quantize(m, np.full((3, 5, 5, 2), np.nan))


def test_reference_and_c_library_take_the_same_calls():
    """int8_run's op calls run unchanged on the C kernels (the host library) bit for bit."""
    from microtrain_tools.sim import hostlib

    try:
        hostlib.library()
    except MicrotrainError as err:
        from conftest import skip_or_fail

        skip_or_fail(f"host kernel library unavailable: {err}")
    _, graph, x = _quantized()
    xq = graph.input.quantize(x[:8])

    class COps(dict):
        def __getitem__(self, name):
            return lambda args, bufs: hostlib.run_op(name, [int(a) for a in args], bufs)

    ref = int8_run.run(graph, xq, keep=True)
    c = int8_run.run(graph, xq, keep=True, ops=COps())
    for name in ref:
        np.testing.assert_array_equal(ref[name], c[name], err_msg=name)


# ---- digits: the demo's model ----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    sys.path.insert(0, str(ROOT / "examples" / "demo"))
    try:
        import pretrain
    finally:
        sys.path.pop(0)
    return pretrain


@pytest.fixture(scope="module")
def digits_model(demo):
    return demo.pretrain(epochs=8, log=None)


def test_digits_float_vs_int8_within_margin(demo, digits_model):
    """Margin: int8 accuracy within 2 points of float on held-out digits 0-5, and the two pick
    the same class on at least 97% of samples."""
    (xtr, ytr), (xte, yte) = demo.digits_split()
    xc, _ = demo.only(xtr, ytr, demo.PRETRAIN_CLASSES)
    xo, yo = demo.only(xte, yte, demo.PRETRAIN_CLASSES)
    graph, report = quantize.quantize(digits_model, xc[:200], eval_data=(xo, yo))
    assert report.float_accuracy > 0.93, report
    assert abs(report.int8_accuracy - report.float_accuracy) <= 0.02, report
    assert report.agreement >= 0.97, report
    assert "accuracy on" in quantize.format_report(report)


def test_import_command_writes_a_graph_and_reports(tmp_path, demo, digits_model, capsys):
    (xtr, ytr), (xte, yte) = demo.digits_split()
    mdl.save_model(digits_model, tmp_path / "m.npz")
    np.savez(tmp_path / "calib.npz", x=xtr[:100])
    np.savez(tmp_path / "test.npz", x=xte, y=yte)
    out = tmp_path / "m.mtg"
    cli_main(["import", str(tmp_path / "m.npz"), "--calib", str(tmp_path / "calib.npz"),
              "--eval", str(tmp_path / "test.npz"), "-o", str(out)])
    text = capsys.readouterr().out
    n_bn = sum(ly.op == "batchnorm" for ly in digits_model.layers)
    # The count of batch norms, not of layers before and after (issue 9: "2 -> 2" with none).
    assert (f"folded {n_bn} batch norms" if n_bn else "no batch norms to fold") in text
    assert "int8" in text and "wrote" in text
    graph = ig.load_graph(out)
    assert graph.input.shape == (8, 8, 1) and graph.output.shape == (1, 1, 10)
    with pytest.raises(SystemExit):
        cli_main(["import", str(tmp_path / "m.npz"), "-o", str(out)])
    assert "needs calibration data" in capsys.readouterr().err


def test_demo_pretrain_script_writes_its_files(demo, tmp_path, capsys):
    assert demo.main(["-o", str(tmp_path), "--epochs", "1"]) == 0
    m = mdl.load_model(tmp_path / "digits_cnn.npz")
    g = ig.load_graph(tmp_path / "digits_cnn.mtg")
    assert m.input_shape == g.input.shape == (8, 8, 1)
    for name in ("calib", "train", "test"):
        with np.load(tmp_path / f"{name}.npz") as npz:
            assert npz["x"].shape[1:] == (8, 8, 1), name
    assert "int8" in capsys.readouterr().out
