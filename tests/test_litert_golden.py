# SPDX-License-Identifier: MIT
"""The numpy reference and the C kernels equal a real TFLite interpreter bit for bit.

LiteRT (ai-edge-litert 2.3.0, pinned) runs each single-layer fixture of tests/litert_fixtures/
with its reference kernels (OpResolverType.BUILTIN_REF: no XNNPACK, no optimized kernels): every
fixture matches bit for bit. LiteRT's optimized kernels without delegates
(BUILTIN_WITHOUT_DEFAULT_DELEGATES) match too for conv, depthwise, fc and average pool; its
optimized ADD and DEQUANTIZE differ by one step on a few elements, and XNNPACK (AUTO) by one
step on some conv outputs, so those are not golden. The layer's parameters are read from the
same .tflite (tensor scales, zero points, weights, options) and turned into our op arguments the
way TFLite's Prepare does (reference.tflite_params).
"""

from pathlib import Path

import numpy as np
import pytest

from conftest import skip_or_fail
from kernels_fwd_cases import seed_of
from microtrain_tools.sim import hostlib
from microtrain_tools.reference import REFERENCE_OPS
from microtrain_tools.reference import args as A
from microtrain_tools.formats.tflite_params import activation_range, add_params
from microtrain_tools.formats.tflite_params import conv_multipliers, conv_output_and_padding

FIXTURES = Path(__file__).parent / "litert_fixtures"
# model_*.tflite are the multi-layer models of test_tflite_import.py (make_models.py).
NAMES = sorted(p.stem for p in FIXTURES.glob("*.tflite") if not p.stem.startswith("model_"))
RESOLVER = "BUILTIN_REF"
# Fixtures whose ops LiteRT's optimized (non-delegate) kernels also compute bit for bit.
OPTIMIZED_MATCHES = [n for n in NAMES if not n.startswith(("add_", "dequantize"))]


def litert():
    try:
        from ai_edge_litert import interpreter, schema_py_generated
    except ImportError as err:
        skip_or_fail(f"ai-edge-litert is not installed ({err}): run `make venv`")
    return interpreter, schema_py_generated


class Layer:
    """The one operator of a fixture, read from the flatbuffer."""

    def __init__(self, path: Path):
        _, tfl = litert()
        self.tfl = tfl
        model = tfl.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
        sub = model.subgraphs[0]
        (self.op,) = sub.operators
        code = model.operatorCodes[self.op.opcodeIndex]
        self.code = max(code.builtinCode, code.deprecatedBuiltinCode)
        self.options = self.op.builtinOptions
        self.tensors = sub.tensors
        self.buffers = model.buffers

    def tensor(self, i):
        return self.tensors[self.op.inputs[i] if i >= 0 else self.op.outputs[0]]

    def quant(self, i):
        q = self.tensor(i).quantization
        return np.asarray(q.scale, np.float32), np.asarray(q.zeroPoint, np.int64)

    def const(self, i, dtype):
        t = self.tensor(i)
        data = np.asarray(self.buffers[t.buffer].data, np.uint8).tobytes()
        return np.frombuffer(data, dtype).reshape(t.shape).copy()

    def shape(self, i):
        return tuple(int(v) for v in self.tensor(i).shape)

    def act(self, out_scale, out_zp):
        names = {
            self.tfl.ActivationFunctionType.NONE: "none",
            self.tfl.ActivationFunctionType.RELU: "relu",
            self.tfl.ActivationFunctionType.RELU6: "relu6",
        }
        return activation_range(names[self.options.fusedActivationFunction], out_scale, out_zp)


def run_litert(path: Path, inputs, resolver_name=RESOLVER):
    interpreter, _ = litert()
    resolver = getattr(interpreter.OpResolverType, resolver_name)
    it = interpreter.Interpreter(model_path=str(path), experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    for detail, x in zip(it.get_input_details(), inputs):
        it.set_tensor(detail["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def conv_op(layer: Layer, x):
    """(op name, args, bufs) of a CONV_2D or DEPTHWISE_CONV_2D layer."""
    tfl = layer.tfl
    depthwise = layer.code == tfl.BuiltinOperator.DEPTHWISE_CONV_2D
    s_in, zp_in = layer.quant(0)
    s_w, _ = layer.quant(1)
    s_out, zp_out = layer.quant(-1)
    filt, bias = layer.const(1, np.int8), layer.const(2, np.int32)
    n, h, w, c_in = x.shape
    _, out_h, out_w, c_out = layer.shape(-1)
    o = layer.options
    padding = "same" if o.padding == tfl.Padding.SAME else "valid"
    want_h, pad_h = conv_output_and_padding(h, filt.shape[1], o.strideH, padding)
    want_w, pad_w = conv_output_and_padding(w, filt.shape[2], o.strideW, padding)
    assert (want_h, want_w) == (out_h, out_w), f"the model's output shape is not {padding}'s"
    act_min, act_max = layer.act(s_out[0], zp_out[0])
    mult, shift = conv_multipliers(s_in[0], s_w, s_out[0])
    conv = A.Conv(o.strideH, o.strideW, pad_h, pad_w, A.Act(-int(zp_in[0]), int(zp_out[0]),
                                                              act_min, act_max))
    args = A.pack_conv(conv) + [n, h, w, c_in, *filt.shape, n, out_h, out_w, c_out]
    bufs = [mult, shift, x.ravel(), filt.ravel(), bias, np.zeros(n * out_h * out_w * c_out,
                                                                  np.int8)]
    return ("mt_dwconv2d_s8_fwd" if depthwise else "mt_conv2d_s8_fwd"), args, bufs


def fc_op(layer: Layer, x):
    s_in, zp_in = layer.quant(0)
    s_w, _ = layer.quant(1)
    s_out, zp_out = layer.quant(-1)
    filt, bias = layer.const(1, np.int8), layer.const(2, np.int32)
    c_out, c_in = filt.shape
    batch = x.shape[0]
    mult, shift = conv_multipliers(s_in[0], np.broadcast_to(s_w, (c_out,)), s_out[0])
    act_min, act_max = layer.act(s_out[0], zp_out[0])
    act = A.Act(-int(zp_in[0]), int(zp_out[0]), act_min, act_max)
    args = A.pack_act(act) + [batch, 1, 1, c_in, c_out, 1, 1, c_in, batch, 1, 1, c_out]
    return "mt_fc_s8_fwd", args, [mult, shift, x.ravel(), filt.ravel(), bias,
                                  np.zeros(batch * c_out, np.int8)]


def add_op(layer: Layer, x1, x2):
    (s1, zp1), (s2, zp2), (s_out, zp_out) = layer.quant(0), layer.quant(1), layer.quant(-1)
    act_min, act_max = layer.act(s_out[0], zp_out[0])
    p = add_params(s1[0], int(zp1[0]), s2[0], int(zp2[0]), s_out[0], int(zp_out[0]), act_min,
                   act_max)
    return "mt_add_s8_fwd", p.pack() + list(x1.shape), [x1.ravel(), x2.ravel(),
                                                         np.zeros(x1.size, np.int8)]


def avgpool_op(layer: Layer, x):
    s_in, zp = layer.quant(0)
    o = layer.options
    n, h, w, c = x.shape
    assert (o.filterHeight, o.filterWidth) == (h, w), "only global average pool is a kernel"
    act_min, act_max = layer.act(s_in[0], zp[0])
    args = [-int(zp[0]), int(zp[0]), act_min, act_max, n, h, w, c, n, 1, 1, c]
    return "mt_avgpool_s8_fwd", args, [x.ravel(), np.zeros(n * c, np.int8)]


def dequant_op(layer: Layer, x):
    s, zp = layer.quant(0)
    dims = list(x.shape) + [1] * (4 - x.ndim)
    args = [-int(zp[0]), A.f32_bits(s[0]), *dims]
    return "mt_dequant_s8_f32", args, [x.ravel(), np.zeros(x.size, np.float32)]


def our_op(layer: Layer, inputs):
    ops = layer.tfl.BuiltinOperator
    if layer.code in (ops.CONV_2D, ops.DEPTHWISE_CONV_2D):
        return conv_op(layer, *inputs)
    return {
        ops.FULLY_CONNECTED: fc_op,
        ops.ADD: add_op,
        ops.AVERAGE_POOL_2D: avgpool_op,
        ops.DEQUANTIZE: dequant_op,
    }[layer.code](layer, *inputs)


def test_every_kind_of_layer_has_a_fixture():
    assert len(NAMES) >= 15, NAMES
    for prefix in ("conv2d_3x3", "conv2d_1x1", "conv2d_conv1d", "dwconv_3x3", "dwconv_7x7",
                   "fc_", "add_", "avgpool_", "dequantize"):
        assert any(n.startswith(prefix) for n in NAMES), prefix


@pytest.mark.parametrize("name", NAMES)
def test_reference_and_c_equal_litert(name):
    check_fixture(name, RESOLVER)


@pytest.mark.parametrize("name", OPTIMIZED_MATCHES)
def test_litert_optimized_kernels_agree_too(name):
    check_fixture(name, "BUILTIN_WITHOUT_DEFAULT_DELEGATES")


def check_fixture(name, resolver):
    path = FIXTURES / f"{name}.tflite"
    layer = Layer(path)
    rng = np.random.default_rng(seed_of(name))
    inputs = []
    for i, _ in enumerate(layer.op.inputs):
        t = layer.tensor(i)
        if layer.buffers[t.buffer].data is None or len(layer.buffers[t.buffer].data) == 0:
            inputs.append(rng.integers(-128, 128, size=layer.shape(i), dtype=np.int8))
    golden = run_litert(path, inputs, resolver)
    op, args, bufs = our_op(layer, inputs)
    out_index = len(bufs) - 1
    ref_bufs = [b.copy() for b in bufs]
    REFERENCE_OPS[op](args, ref_bufs)
    c_bufs = [b.copy() for b in bufs]
    hostlib.run_op(op, args, c_bufs)
    want = golden.ravel()
    for who, got in (("numpy reference", ref_bufs[out_index]), ("C kernel", c_bufs[out_index])):
        diff = np.flatnonzero(got.view(np.uint8 if got.dtype == np.int8 else np.uint32)
                              != want.view(np.uint8 if want.dtype == np.int8 else np.uint32))
        assert diff.size == 0, (
            f"{name}: {who} differs from LiteRT ({resolver}) at {diff.size} of {want.size} "
            f"elements, first at {diff[0]}: {got[diff[0]]} vs {want[diff[0]]}"
        )
    # A golden test is only worth something if the outputs vary.
    assert len(np.unique(want)) >= min(8, want.size // 2), f"{name}: outputs barely vary"
