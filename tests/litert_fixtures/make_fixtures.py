# SPDX-License-Identifier: MIT
"""Write the single-op int8 .tflite fixtures of tests/test_litert_golden.py.

Generator: this script, without TensorFlow. The flatbuffers are built with the TFLite schema's
object API that ai-edge-litert ships (ai_edge_litert.schema_py_generated) and the `flatbuffers`
package it depends on.
Versions:  ai-edge-litert 2.3.0, flatbuffers 25.12.19, numpy 2.4.6 (requirements.txt).
Seed:      SEED below; every weight, bias and scale comes from numpy.random.default_rng(SEED).
Run:       .venv/bin/python tests/litert_fixtures/make_fixtures.py   (rewrites *.tflite here)

Each fixture is one quantized layer as TFLite's converter emits it: int8 activations with a
per-tensor scale and zero point, int8 weights with symmetric per-output-channel scales
(quantized_dimension 0; depthwise: 3), int32 bias at scale s_in * s_w[c], fused activation.
"""

from pathlib import Path

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as tfl

SEED = 20261123
HERE = Path(__file__).resolve().parent

ACT = {"none": tfl.ActivationFunctionType.NONE, "relu": tfl.ActivationFunctionType.RELU,
       "relu6": tfl.ActivationFunctionType.RELU6}
PAD = {"same": tfl.Padding.SAME, "valid": tfl.Padding.VALID}


class ModelBuilder:
    """One subgraph, one operator; buffer 0 is the empty sentinel TFLite expects."""

    def __init__(self):
        self.buffers = [tfl.BufferT()]
        self.tensors = []

    def tensor(self, name, shape, dtype, scale, zero_point, data=None, axis=0):
        q = tfl.QuantizationParametersT()
        q.scale = [float(s) for s in np.atleast_1d(scale)]
        q.zeroPoint = [int(z) for z in np.atleast_1d(zero_point)]
        q.quantizedDimension = axis
        t = tfl.TensorT()
        t.name, t.shape, t.type, t.quantization = name, list(shape), dtype, q
        t.buffer = 0
        if data is not None:
            buf = tfl.BufferT()
            buf.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8).tolist()
            self.buffers.append(buf)
            t.buffer = len(self.buffers) - 1
        self.tensors.append(t)
        return len(self.tensors) - 1

    def finish(self, op_code, version, options_type, options, inputs, outputs, graph_inputs):
        code = tfl.OperatorCodeT()
        code.builtinCode, code.deprecatedBuiltinCode, code.version = op_code, op_code, version
        op = tfl.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = 0, inputs, outputs
        op.builtinOptionsType, op.builtinOptions = options_type, options
        sub = tfl.SubGraphT()
        sub.tensors, sub.inputs, sub.outputs, sub.operators = (
            self.tensors, graph_inputs, outputs, [op])
        model = tfl.ModelT()
        model.version, model.operatorCodes, model.subgraphs = 3, [code], [sub]
        model.buffers, model.description = self.buffers, "microtrain test fixture"
        b = flatbuffers.Builder(1024)
        b.Finish(model.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def weights_and_scales(rng, shape, channels):
    w = rng.integers(-127, 128, size=shape, dtype=np.int8)
    scales = np.exp(rng.uniform(np.log(2e-3), np.log(2e-2), size=channels)).astype(np.float32)
    return w, scales


def output_scale(s_in, s_w, terms):
    """Spread the outputs over int8 with some saturation: ~3 sigma of the accumulator."""
    return np.float32(s_in * float(np.median(s_w)) * 74.0 * 73.0 * np.sqrt(terms) * 2.5 / 127)


def output_zero_point(rng, act):
    """After a ReLU the converter puts the zero point near -128, so the range is not wasted."""
    return int(rng.integers(-128, -100)) if act != "none" else int(rng.integers(-128, 128))


def conv(rng, name, in_shape, c_out, k, stride, padding, act, depthwise=False):
    n, h, w, c_in = in_shape
    s_in, zp_in = np.float32(rng.uniform(0.01, 0.1)), int(rng.integers(-128, 128))
    if depthwise:
        c_out = c_in
        f_shape, axis, terms = (1, *k, c_in), 3, k[0] * k[1]
    else:
        f_shape, axis, terms = (c_out, *k, c_in), 0, k[0] * k[1] * c_in
    filt, s_w = weights_and_scales(rng, f_shape, c_out)
    bias = rng.integers(-3000, 3000, size=c_out).astype(np.int32)
    s_out, zp_out = output_scale(s_in, s_w, terms), output_zero_point(rng, act)
    if act == "relu6":
        # ReLU6 outputs span [0, 6]: the converter's output scale is 6/255, and weights small
        # enough that the accumulator spreads over it instead of pinning at 6.
        s_w = (s_w * np.float32(6 / 255) / s_out).astype(np.float32)
        s_out = np.float32(6 / 255)
    if padding == "same":
        out_h, out_w = -(-h // stride[0]), -(-w // stride[1])
    else:
        out_h, out_w = (h - k[0]) // stride[0] + 1, (w - k[1]) // stride[1] + 1
    m = ModelBuilder()
    x = m.tensor("input", in_shape, tfl.TensorType.INT8, s_in, zp_in)
    f = m.tensor("filter", f_shape, tfl.TensorType.INT8, s_w, [0] * c_out, filt, axis)
    bb = m.tensor("bias", (c_out,), tfl.TensorType.INT32, s_in * s_w, [0] * c_out, bias)
    y = m.tensor("output", (n, out_h, out_w, c_out), tfl.TensorType.INT8, s_out, zp_out)
    if depthwise:
        opt = tfl.DepthwiseConv2DOptionsT()
        opt.depthMultiplier = 1
        code = tfl.BuiltinOperator.DEPTHWISE_CONV_2D
        otype = tfl.BuiltinOptions.DepthwiseConv2DOptions
    else:
        opt = tfl.Conv2DOptionsT()
        code, otype = tfl.BuiltinOperator.CONV_2D, tfl.BuiltinOptions.Conv2DOptions
    opt.padding, opt.strideH, opt.strideW = PAD[padding], stride[0], stride[1]
    opt.dilationHFactor = opt.dilationWFactor = 1
    opt.fusedActivationFunction = ACT[act]
    return name, m.finish(code, 3, otype, opt, [x, f, bb], [y], [x])


def fully_connected(rng, name, batch, c_in, c_out, act, per_channel):
    s_in, zp_in = np.float32(rng.uniform(0.01, 0.1)), int(rng.integers(-128, 128))
    filt, s_w = weights_and_scales(rng, (c_out, c_in), c_out)
    if not per_channel:
        s_w = s_w[:1]
    bias = rng.integers(-5000, 5000, size=c_out).astype(np.int32)
    s_out, zp_out = output_scale(s_in, s_w, c_in), output_zero_point(rng, act)
    m = ModelBuilder()
    x = m.tensor("input", (batch, c_in), tfl.TensorType.INT8, s_in, zp_in)
    f = m.tensor("filter", (c_out, c_in), tfl.TensorType.INT8, s_w, [0] * len(s_w), filt)
    bb = m.tensor("bias", (c_out,), tfl.TensorType.INT32, s_in * s_w, [0] * len(s_w), bias)
    y = m.tensor("output", (batch, c_out), tfl.TensorType.INT8, s_out, zp_out)
    opt = tfl.FullyConnectedOptionsT()
    opt.fusedActivationFunction = ACT[act]
    return name, m.finish(tfl.BuiltinOperator.FULLY_CONNECTED, 5,
                          tfl.BuiltinOptions.FullyConnectedOptions, opt, [x, f, bb], [y], [x])


def add(rng, name, shape, act, s1, s2, s_out):
    zp1, zp2, zp_out = (int(v) for v in rng.integers(-128, 128, size=3))
    m = ModelBuilder()
    a = m.tensor("input1", shape, tfl.TensorType.INT8, np.float32(s1), zp1)
    b = m.tensor("input2", shape, tfl.TensorType.INT8, np.float32(s2), zp2)
    y = m.tensor("output", shape, tfl.TensorType.INT8, np.float32(s_out), zp_out)
    opt = tfl.AddOptionsT()
    opt.fusedActivationFunction = ACT[act]
    return name, m.finish(tfl.BuiltinOperator.ADD, 2, tfl.BuiltinOptions.AddOptions, opt,
                          [a, b], [y], [a, b])


def global_avgpool(rng, name, shape, act):
    n, h, w, c = shape
    s, zp = np.float32(rng.uniform(0.01, 0.1)), int(rng.integers(-128, 128))
    m = ModelBuilder()
    x = m.tensor("input", shape, tfl.TensorType.INT8, s, zp)
    y = m.tensor("output", (n, 1, 1, c), tfl.TensorType.INT8, s, zp)
    opt = tfl.Pool2DOptionsT()
    opt.padding, opt.strideH, opt.strideW = tfl.Padding.VALID, 1, 1
    opt.filterHeight, opt.filterWidth = h, w
    opt.fusedActivationFunction = ACT[act]
    return name, m.finish(tfl.BuiltinOperator.AVERAGE_POOL_2D, 2,
                          tfl.BuiltinOptions.Pool2DOptions, opt, [x], [y], [x])


def dequantize(rng, name, shape):
    s, zp = np.float32(rng.uniform(1e-3, 0.5)), int(rng.integers(-128, 128))
    m = ModelBuilder()
    x = m.tensor("input", shape, tfl.TensorType.INT8, s, zp)
    y = m.tensor("output", shape, tfl.TensorType.FLOAT32, 0.0, 0)
    m.tensors[y].quantization = None
    return name, m.finish(tfl.BuiltinOperator.DEQUANTIZE, 2, tfl.BuiltinOptions.NONE, None,
                          [x], [y], [x])


def fixtures(rng):
    yield conv(rng, "conv2d_3x3_same_relu", (1, 9, 9, 3), 4, (3, 3), (1, 1), "same", "relu")
    yield conv(rng, "conv2d_3x3_s2_valid", (1, 10, 9, 5), 6, (3, 3), (2, 2), "valid", "none")
    yield conv(rng, "conv2d_5x5_s2_same_relu6", (1, 8, 7, 2), 3, (5, 5), (2, 2), "same", "relu6")
    yield conv(rng, "conv2d_conv1d_k5_s2", (1, 1, 20, 4), 5, (1, 5), (1, 2), "same", "none")
    yield conv(rng, "conv2d_1x1_relu6", (1, 6, 6, 8), 12, (1, 1), (1, 1), "valid", "relu6")
    yield conv(rng, "conv2d_1x1_s2", (1, 7, 7, 6), 5, (1, 1), (2, 2), "same", "none")
    yield conv(rng, "dwconv_3x3_same_relu6", (1, 8, 8, 6), 0, (3, 3), (1, 1), "same", "relu6",
               depthwise=True)
    yield conv(rng, "dwconv_7x7_s2_same", (1, 13, 14, 5), 0, (7, 7), (2, 2), "same", "none",
               depthwise=True)
    yield conv(rng, "dwconv_3x3_s2_valid_relu", (1, 9, 9, 7), 0, (3, 3), (2, 2), "valid",
               "relu", depthwise=True)
    yield fully_connected(rng, "fc_per_tensor", 1, 32, 10, "none", per_channel=False)
    yield fully_connected(rng, "fc_batch2_relu", 2, 48, 7, "relu", per_channel=False)
    yield fully_connected(rng, "fc_per_channel", 1, 20, 6, "none", per_channel=True)
    yield add(rng, "add_relu", (1, 5, 5, 8), "relu", 0.05, 0.03, 0.06)
    yield add(rng, "add_unequal_scales", (1, 3, 4, 6), "none", 0.002, 0.4, 0.3)
    yield global_avgpool(rng, "avgpool_5x5", (1, 5, 5, 8), "none")
    yield global_avgpool(rng, "avgpool_7x7", (1, 7, 7, 13), "none")
    yield global_avgpool(rng, "avgpool_2x2_even", (1, 2, 2, 16), "none")
    yield dequantize(rng, "dequantize", (1, 10))


def main():
    rng = np.random.default_rng(SEED)
    for name, data in fixtures(rng):
        (HERE / f"{name}.tflite").write_bytes(data)
        print(f"{name}.tflite  {len(data)} bytes")


if __name__ == "__main__":
    main()
