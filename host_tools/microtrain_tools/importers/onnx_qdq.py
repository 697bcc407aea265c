# SPDX-License-Identifier: MIT
"""A QDQ int8 ONNX model (onnxruntime's quantize_static, QuantFormat.QDQ) -> Int8Graph with the
file's own quantization: no calibration.

onnx_import reads the file as a float model whose weights are the file's int8 weights
dequantized, and collects the scale and zero point of every QuantizeLinear on an activation.
Here those become the tensors' quantization, and our weight quantizer, given the file's weight
scales (per output channel or per tensor), gives back the file's int8 weights and int32 biases
exactly (tests/test_onnx_qdq.py checks it). A global average pool with a scale of its own
becomes our requantizing mean (TFLite's MEAN arithmetic). What differs from onnxruntime: every
layer requantizes with TFLite's fixed-point arithmetic, so outputs agree within a quantization
step (on the fixtures), not bit for bit.
"""

from __future__ import annotations

from ..errors import MicrotrainError
from ..formats.int8_graph import Int8Graph
from ..formats.model import INPUT, FloatModel
from ..quantize.ptq import fold_batchnorm, to_int8_graph

FUSES_RELU = ("conv2d", "fc", "add")


def qdq_to_int8(model: FloatModel, quant: dict, path, log=lambda msg: None) -> Int8Graph:
    """quant: {"act": {our tensor: (scale, zero point)}, "weights": {layer: scales}} from
    onnx_import.read_onnx."""
    weight_scales, quant = quant["weights"], quant["act"]
    folded = fold_batchnorm(model)
    ranges, pool_ranges = {}, {}
    for name in [INPUT] + [ly.name for ly in folded.layers]:
        layer = None if name == INPUT else next(ly for ly in folded.layers if ly.name == name)
        if layer is not None and (layer.op == "flatten" or (layer.op == "avgpool"
                                                             and name not in quant)):
            continue  # they keep their input's quantization
        if name not in quant:
            what = "the input" if layer is None else f"layer {name!r} ({layer.op})"
            raise MicrotrainError(f"{path}: a QDQ model with no QuantizeLinear after {what}; "
                                  "every input, conv, Gemm and Add output needs one, as "
                                  "quantize_static writes them")
        scale, zero = quant[name]
        pooled = layer is not None and layer.op == "avgpool"
        (pool_ranges if pooled else ranges)[name] = (scale * (-128 - zero), scale * (127 - zero))
        # quantize_static folds a Relu into its output range: a range that starts at 0 after
        # a conv / fc / add is that Relu (the same int8 outputs; the right gradient mask)
        if layer is not None and layer.op in FUSES_RELU and layer.act == "none" and zero == -128:
            layer.attrs["act"] = "relu"
            log(f"{name}: output range starts at 0: its Relu, folded by the quantizer")
    missing = [ly.name for ly in folded.layers if ly.op in ("conv2d", "fc")
               and ly.name not in weight_scales]
    if missing:
        raise MicrotrainError(f"{path}: layer {missing[0]!r} has float weights in a QDQ model; "
                              "every Conv / Gemm weight should be an int8 constant with a "
                              "DequantizeLinear, as quantize_static writes it")
    graph = to_int8_graph(folded, ranges, weight_scales, pool_ranges)
    graph.meta["source"] = f"onnx qdq {getattr(path, 'name', path)}"
    return graph
