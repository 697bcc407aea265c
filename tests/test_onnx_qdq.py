# SPDX-License-Identifier: MIT
"""`microtrain import model_qdq.onnx`: QDQ int8 ONNX models as onnxruntime's quantize_static
writes them (tests/onnx_fixtures/make_qdq_models.py) import with the file's own quantization,
keep the file's int8 weights and int32 biases, and agree with onnxruntime running the same file
(its int8 kernels) within one output step, on the same class for every sample."""

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from microtrain_tools.sim import int8_run
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.importers.dispatch import import_model

FIXTURES = Path(__file__).parent / "onnx_fixtures"
MODELS = {"cnn_block_qdq": ((3, 12, 12), 1), "mlp_qdq": ((13,), 1)}  # input, max steps apart


def onnxruntime_outputs(path, x):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])


def as_nhwc(x):
    return x.transpose(0, 2, 3, 1) if x.ndim == 4 else x.reshape(len(x), 1, 1, -1)


@pytest.mark.parametrize("name", MODELS)
def test_qdq_model_agrees_with_onnxruntime(name):
    shape, max_steps = MODELS[name]
    path = FIXTURES / f"{name}.onnx"
    graph, report = import_model(path)  # no --calib: the file's quantization
    assert report is None
    x = np.random.default_rng(4).normal(size=(300, *shape)).astype(np.float32)
    want = onnxruntime_outputs(path, x)
    got = graph.output.dequantize(int8_run.predict(graph, graph.input.quantize(as_nhwc(x))))
    got = got.reshape(len(x), -1)
    steps = np.abs(got - want) / graph.output.scale
    assert steps.max() <= max_steps + 1e-3, steps.max()
    assert (got.argmax(1) == want.argmax(1)).all()
    assert len(np.unique(got)) > 20, "outputs pinned at a few values would test little"


@pytest.mark.parametrize("name", MODELS)
def test_qdq_model_keeps_the_files_weights_and_scales(name):
    path = FIXTURES / f"{name}.onnx"
    model = onnx.load(str(path))
    consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    dq = {n.output[0]: consts[n.input[0]] for n in model.graph.node
          if n.op_type == "DequantizeLinear" and n.input[0] in consts}
    layer_nodes = [n for n in model.graph.node if n.op_type in ("Conv", "Gemm")]
    graph, _ = import_model(path)
    layers = graph.weight_layers()
    assert len(layers) == len(layer_nodes)
    for ly, node in zip(layers, layer_nodes):
        w, b = dq[node.input[1]], dq[node.input[2]]
        assert (w.dtype, b.dtype) == (np.int8, np.int32), ly.name
        theirs = w.transpose(0, 2, 3, 1) if w.ndim == 4 else w  # OIHW -> OHWI
        if ly.op == "dwconv2d":
            theirs = w[:, 0].transpose(1, 2, 0)  # (c, 1, kh, kw) -> (kh, kw, c)
        assert np.array_equal(ly.weight, theirs.reshape(ly.weight.shape)), ly.name
        assert np.array_equal(ly.arrays["bias"], b), ly.name
    q_in = [n for n in model.graph.node if n.op_type == "QuantizeLinear"
            and n.input[0] == model.graph.input[0].name][0]
    assert graph.input.scale == pytest.approx(float(consts[q_in.input[1]]), rel=1e-6)
    assert graph.input.zero_point == int(consts[q_in.input[2]])


def quantized_copy(tmp_path, **options):
    from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize_static

    class Samples(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.items = iter([{"input": rng.normal(size=(1, 13)).astype(np.float32)}
                               for _ in range(8)])

        def get_next(self):
            return next(self.items, None)

    src = FIXTURES / "mlp.onnx"
    name = onnx.load(str(src)).graph.input[0].name
    assert name == "input", name
    out = tmp_path / "q.onnx"
    quantize_static(str(src), str(out), Samples(), weight_type=QuantType.QInt8, **options)
    return out


def test_qoperator_format_is_refused(tmp_path):
    from onnxruntime.quantization import QuantFormat, QuantType

    path = quantized_copy(tmp_path, quant_format=QuantFormat.QOperator,
                          activation_type=QuantType.QInt8)
    with pytest.raises(MicrotrainError, match="QOperator-format.*QuantFormat.QDQ"):
        import_model(path)


def test_uint8_activations_are_refused(tmp_path):
    from onnxruntime.quantization import QuantFormat, QuantType

    path = quantized_copy(tmp_path, quant_format=QuantFormat.QDQ,
                          activation_type=QuantType.QUInt8)
    with pytest.raises(MicrotrainError, match="activations must be int8.*QInt8"):
        import_model(path)


def test_float_models_keep_the_pools_input_scale(tmp_path):
    """Calibrated ranges of every tensor must not turn a float model's pool into a mean: only a
    QDQ file's own pool scale does (a regression: the demo's numbers moved)."""
    calib = tmp_path / "c.npz"
    np.savez(calib, x=np.random.default_rng(0).normal(size=(64, 12, 12, 3)).astype(np.float32))
    floated, _ = import_model(FIXTURES / "cnn_block.onnx", calib=calib)
    qdq, _ = import_model(FIXTURES / "cnn_block_qdq.onnx")
    for graph, mean in ((floated, False), (qdq, True)):
        pool = next(ly for ly in graph.layers if ly.op == "avgpool")
        assert ("multiplier" in pool.arrays) == mean, graph.name
        same = graph.tensors[pool.name].scale == graph.tensors[pool.inputs[0]].scale
        assert same != mean, graph.name
