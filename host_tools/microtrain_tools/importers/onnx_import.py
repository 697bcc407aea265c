# SPDX-License-Identifier: MIT
"""A float .onnx model as PyTorch's exporter writes it -> FloatModel (then our PTQ); a QDQ int8
model as onnxruntime's quantize_static writes it -> the same FloatModel plus the file's own
activation quantization (then our int8 graph with those scales, no calibration).

The protobuf is read with the `onnx` package. ONNX is NCHW with OIHW weights; our model is NHWC
with (out, kh, kw, in) weights and depthwise (kh, kw, c), so every weight is transposed here and
the model takes NHWC samples. Its float outputs equal onnxruntime's within float32 rounding
(tests/test_onnx_import.py).

Ops, by what they become:
  Conv                         conv2d (group 1) or depthwise conv2d (group == channels)
  BatchNormalization           batchnorm (folded into the conv before it by the quantizer)
  Gemm; MatMul (+ Add of a     fc (a flatten of a feature map before it: the fc's columns are
  constant bias)               reordered from ONNX's CHW order to our HWC order)
  Relu, Clip(0, 6)             the act of the conv / fc / batchnorm / add before it
  Add of two tensors           add (equal shapes, no broadcast)
  GlobalAveragePool; ReduceMean avgpool
  over H and W; AveragePool
  over the whole map
  Flatten(axis 1), Reshape     flatten (nothing when the map is 1x1 already)
  to (batch, n)
  Identity, Dropout            nothing (the same tensor)
  Constant, Shape, Gather,     evaluated here: they only compute constants such as a Reshape's
  Unsqueeze, Squeeze, Concat,  target shape
  Cast, Slice
  QuantizeLinear /             QDQ: a DequantizeLinear of a constant (int8 weights, int32 bias)
  DequantizeLinear             is evaluated here into float weights; a QuantizeLinear of an
                               activation gives that tensor its int8 scale and zero point (the
                               last one wins: after a Relu / Clip, the activated output), and the
                               DequantizeLinear after it is nothing. QLinearConv and the other
                               QOperator-format ops are refused (quantize with QuantFormat.QDQ).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MicrotrainError
from ..formats.model import INPUT, FloatModel, Layer, conv_out_size

LAYER_OPS = ("Conv", "BatchNormalization", "Gemm", "MatMul", "Relu", "Clip", "Add",
             "GlobalAveragePool", "ReduceMean", "AveragePool", "Flatten", "Reshape",
             "Identity", "Dropout")
CONST_OPS = ("Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Slice")
MAX_FILE_BYTES = 256 << 20
FUSES_ACT = ("conv2d", "fc", "batchnorm", "add")


def _onnx():
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as err:  # an optional dependency of the host tools
        raise MicrotrainError(f"reading .onnx needs the onnx package ({err}): "
                              "pip install \"microtrain-tools[onnx]\"") from None
    return onnx, numpy_helper


@dataclass
class Value:
    """An ONNX activation tensor as we hold it: our tensor name, the ONNX rank (4: NCHW map,
    2: (batch, n) vector) and, for a flattened map, perm: our element i is ONNX's perm[i]."""

    name: str
    rank: int
    perm: np.ndarray | None = None


def chw_to_hwc(h, w, c) -> np.ndarray:
    """Where each element of our HWC flatten sits in ONNX's CHW flatten."""
    return np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).ravel()


class _Importer:
    def __init__(self, path: Path, model):
        _, self.numpy_helper = _onnx()
        self.path, self.graph = path, model.graph
        self.consts: dict[str, np.ndarray] = {
            t.name: self.numpy_helper.to_array(t) for t in self.graph.initializer}
        self.values: dict[str, Value] = {}
        self.layers: list[Layer] = []
        self.shapes: dict[str, tuple] = {}
        self.from_matmul: set[str] = set()  # fc layers whose bias an Add may still set
        self.counts: dict[str, int] = {}
        self.notes: list[str] = []
        self.uses: dict[str, int] = {}
        self.act_quant: dict[str, tuple] = {}  # our tensor -> (scale, zero point) of a QDQ file
        self.dq_scales: dict[str, np.ndarray] = {}  # a dequantized constant -> its scales
        self.weight_scales: dict[str, np.ndarray] = {}  # our layer -> its weights' file scales
        for node in self.graph.node:
            for name in node.input:
                self.uses[name] = self.uses.get(name, 0) + 1
        for out in self.graph.output:
            self.uses[out.name] = self.uses.get(out.name, 0) + 1
        self.index, self.node = 0, None

    # ---- errors, names, attributes -----------------------------------------------------------

    def fail(self, msg: str):
        n = self.node
        raise MicrotrainError(f"{self.path}: node {self.index} ({n.op_type} {n.name!r}): {msg}")

    def new_name(self, kind: str) -> str:
        n = self.counts.get(kind, 0)
        self.counts[kind] = n + 1
        return f"{kind}{n}"

    def attrs(self) -> dict:
        import onnx
        return {a.name: onnx.helper.get_attribute_value(a) for a in self.node.attribute}

    def const(self, name, what):
        if name not in self.consts:
            self.fail(f"{what} ({name!r}) must be a constant (an initializer or Constant node)")
        return self.consts[name]

    def value(self, name) -> Value:
        if name not in self.values:
            self.fail(f"input {name!r} is not an activation made by an earlier supported node")
        return self.values[name]

    def add_layer(self, op, inputs, attrs, params, shape, rank, kind=None) -> Layer:
        layer = Layer(self.new_name(kind or op), op, inputs, attrs, params)
        self.layers.append(layer)
        self.shapes[layer.name] = shape
        self.values[self.node.output[0]] = Value(layer.name, rank)
        return layer

    # ---- the walk ----------------------------------------------------------------------------

    def run(self, name) -> tuple[FloatModel, list[str]]:
        input_shape = self.graph_input()
        for self.index, self.node in enumerate(self.graph.node):
            op = self.node.op_type
            if op not in ("QuantizeLinear", "DequantizeLinear") and (
                    "Quant" in op or op.startswith(("QLinear", "QGemm", "ConvInteger"))):
                self.fail("a QOperator-format quantized ONNX model (QLinearConv, QGemm, ...): "
                          "only float and QDQ models import; quantize with quant_format="
                          "QuantFormat.QDQ, or import the float model with --calib samples")
            if self.node.domain not in ("", "ai.onnx"):
                self.fail(f"op of domain {self.node.domain!r}: only standard ONNX ops import")
            if op in CONST_OPS or (op == "Identity" and self.node.input[0] in self.consts):
                self.consts[self.node.output[0]] = self.constant_op(op)
            elif op in LAYER_OPS:
                getattr(self, f"op_{op.lower()}")()
                if op in ("Conv", "Gemm", "MatMul") and self.node.input[1] in self.dq_scales:
                    self.weight_scales[self.layers[-1].name] = self.dq_scales[self.node.input[1]]
            elif op in ("QuantizeLinear", "DequantizeLinear"):
                self.qdq(op)
            else:
                self.fail(f"microtrain has no {op}; supported ops: {', '.join(LAYER_OPS)} "
                          f"(and constant shape work: {', '.join(CONST_OPS)}). Re-export the "
                          "model without it (for example a strided conv instead of a pooling "
                          "layer, ReLU or ReLU6 instead of other activations)")
        return self.finish(input_shape, name), self.notes

    def graph_input(self) -> tuple:
        inputs = [i for i in self.graph.input if i.name not in self.consts]
        if len(inputs) != 1:
            raise MicrotrainError(f"{self.path}: {len(inputs)} graph inputs; one is supported")
        t = inputs[0].type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        if t.elem_type != 1 or len(dims) not in (2, 4) or None in dims[1:]:
            raise MicrotrainError(f"{self.path}: the input must be float32 (N, C, H, W) or "
                                  f"(N, features) with fixed sizes after the batch, got "
                                  f"{dims} of element type {t.elem_type}")
        shape = (dims[2], dims[3], dims[1]) if len(dims) == 4 else (1, 1, dims[1])
        self.values[inputs[0].name] = Value(INPUT, len(dims))
        self.shapes[INPUT] = shape
        return shape

    def finish(self, input_shape, name) -> FloatModel:
        if len(self.graph.output) != 1:
            raise MicrotrainError(f"{self.path}: {len(self.graph.output)} graph outputs; one "
                                  "is supported")
        out = self.graph.output[0].name
        if out not in self.values or not self.layers:
            raise MicrotrainError(f"{self.path}: the output {out!r} is not computed by a layer")
        v = self.values[out]
        if v.name != self.layers[-1].name:
            raise MicrotrainError(f"{self.path}: the output {out!r} is not made by the last "
                                  "layer; a model with side branches after its output does "
                                  "not import")
        if v.perm is not None:
            raise MicrotrainError(f"{self.path}: the output is a flattened feature map (its "
                                  "order differs between NCHW and NHWC); end with a Linear")
        if not any(ly.op in ("conv2d", "fc") for ly in self.layers):
            raise MicrotrainError(f"{self.path}: no conv or fully connected layer to learn")
        last = self.layers[-1]
        if last.op in ("conv2d", "fc"):  # as tflite_import: the layer a new task retrains
            for ly in self.layers:
                ly.inputs = ["head" if x == last.name else x for x in ly.inputs]
            for found in (self.act_quant, self.weight_scales):
                if last.name in found:
                    found["head"] = found.pop(last.name)
            last.name = "head"
        return FloatModel(input_shape, self.layers, name)

    # ---- constants: evaluated here -----------------------------------------------------------

    def constant_op(self, op) -> np.ndarray:
        a, ins = self.attrs(), list(self.node.input)
        if op == "Constant":
            if "value" not in a:
                self.fail(f"only a Constant with a tensor 'value' is supported, got {sorted(a)}")
            return self.numpy_helper.to_array(a["value"])
        if op == "Shape":
            v = self.value(ins[0])
            h, w, c = self.shapes[v.name]
            full = np.array([1, c, h, w] if v.rank == 4 else [1, h * w * c], np.int64)
            return full[a.get("start", 0):a.get("end", len(full))]
        x = [self.const(n, "input") if n else None for n in ins]
        if op == "Identity" or op == "Cast":
            return x[0] if op == "Identity" else x[0].astype(self.cast_dtype(a["to"]))
        if op == "Gather":
            return np.take(x[0], x[1], axis=a.get("axis", 0))
        if op in ("Unsqueeze", "Squeeze"):
            axes = a.get("axes", x[1] if len(x) > 1 else None)
            if op == "Squeeze":
                return np.squeeze(x[0], None if axes is None else tuple(int(i) for i in axes))
            out = x[0]
            rank = out.ndim + len(axes)
            for axis in sorted(int(i) % rank for i in axes):
                out = np.expand_dims(out, axis)
            return out
        if op == "Concat":
            return np.concatenate(x, axis=a["axis"])
        if op == "Slice":
            starts, ends = x[1], x[2]
            axes = x[3] if len(x) > 3 and x[3] is not None else range(len(starts))
            steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(starts)
            index = [slice(None)] * x[0].ndim
            for s, e, ax, st in zip(starts, ends, axes, steps):
                index[int(ax)] = slice(int(s), int(e), int(st))
            return x[0][tuple(index)]
        raise AssertionError(op)

    # ---- QDQ -----------------------------------------------------------------------------------

    def qdq_params(self, axis_default=1):
        """(scale, zero point, axis) of this QuantizeLinear / DequantizeLinear node."""
        ins = list(self.node.input)
        if len(ins) < 2 or not ins[1]:
            self.fail(f"{self.node.op_type} without a scale input (x, scale[, zero point])")
        scale = np.asarray(self.const(ins[1], "the scale"), np.float32)
        zero = (np.asarray(self.const(ins[2], "the zero point")) if len(ins) > 2 and ins[2]
                else np.zeros(scale.shape, np.int8))
        return scale, zero, int(self.attrs().get("axis", axis_default))

    def qdq(self, op):
        x, y = self.node.input[0], self.node.output[0]
        scale, zero, axis = self.qdq_params()
        if x in self.consts:  # weights and biases: evaluated into float constants
            q = np.asarray(self.consts[x])
            shape = [1] * q.ndim
            if scale.size > 1:
                shape[axis % q.ndim] = -1
            s, z = scale.reshape(shape).astype(np.float64), zero.reshape(shape).astype(np.int64)
            if op == "DequantizeLinear":
                self.consts[y] = ((q.astype(np.int64) - z) * s).astype(np.float32)
                self.dq_scales[y] = scale
            else:
                info = np.iinfo(zero.dtype)
                self.consts[y] = np.clip(np.round(q / s) + z, info.min, info.max).astype(
                    zero.dtype)
            return
        v = self.value(x)
        if op == "QuantizeLinear":
            if zero.dtype != np.int8 or scale.size != 1:
                self.fail(f"activations must be int8 with one scale (QuantType.QInt8, per "
                          f"tensor), got zero point {zero.dtype} of {scale.size} values")
            self.act_quant[v.name] = (float(scale.ravel()[0]), int(zero.ravel()[0]))
        self.values[y] = v  # the Q / DQ pair of an activation is the same tensor for us

    def cast_dtype(self, to):
        import onnx
        return onnx.helper.tensor_dtype_to_np_dtype(to)

    # ---- one rule per op ---------------------------------------------------------------------

    def map_input(self, what="input") -> tuple[Value, tuple]:
        v = self.value(self.node.input[0])
        if v.rank != 4:
            self.fail(f"the {what} must be an (N, C, H, W) feature map")
        return v, self.shapes[v.name]

    def op_conv(self):
        a = self.attrs()
        v, (h, w, c) = self.map_input()
        weight = self.const(self.node.input[1], "the weight")
        if weight.ndim != 4:
            self.fail(f"only 2-D convolutions import (weight of rank {weight.ndim})")
        co, ci_per_group, kh, kw = weight.shape
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            self.fail("dilated convolutions are not supported")
        group = a.get("group", 1)
        depthwise = group != 1
        if depthwise and not (group == c == co and ci_per_group == 1):
            self.fail(f"a grouped conv with {group} groups of {c} -> {co} channels: only "
                      "group 1 or a depthwise conv (groups = in = out channels) is supported")
        sh, sw = a.get("strides", [1, 1])
        top, left, bottom, right = self.padding(a, (h, w), (kh, kw), (sh, sw))
        for size, k, s, lo, hi in ((h, kh, sh, top, bottom), (w, kw, sw, left, right)):
            if hi > lo or conv_out_size(size, k, s, lo) != (size + lo + hi - k) // s + 1:
                self.fail(f"padding (top, left, bottom, right) = {(top, left, bottom, right)}: "
                          "only equal padding, or less at the bottom/right, is supported")
        bias = (self.const(self.node.input[2], "the bias") if len(self.node.input) > 2
                and self.node.input[2] else np.zeros(co, np.float32))
        if depthwise:
            weight = weight[:, 0].transpose(1, 2, 0)  # (c, 1, kh, kw) -> (kh, kw, c)
        else:
            weight = weight.transpose(0, 2, 3, 1)  # OIHW -> OHWI
        attrs = {"kernel": (kh, kw), "stride": (sh, sw), "padding": (top, left),
                 "groups": co if depthwise else 1, "act": "none"}
        out = (conv_out_size(h, kh, sh, top), conv_out_size(w, kw, sw, left), co)
        self.add_layer("conv2d", [v.name], attrs, {"weight": np.ascontiguousarray(weight),
                                                   "bias": bias}, out, 4,
                       "dwconv" if depthwise else "conv")

    def padding(self, a, hw, k, s):
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("NOTSET", "VALID"):
            pads = a.get("pads", [0, 0, 0, 0]) if auto == "NOTSET" else [0, 0, 0, 0]
            return pads[0], pads[1], pads[2], pads[3]
        if auto == "SAME_UPPER":  # the extra pixel goes at the end, as ours
            total = [max((-(-n // st) - 1) * st + kk - n, 0) for n, kk, st in zip(hw, k, s)]
            return total[0] // 2, total[1] // 2, total[0] - total[0] // 2, \
                total[1] - total[1] // 2
        self.fail(f"auto_pad {auto} is not supported; export with explicit padding")

    def op_batchnormalization(self):
        a = self.attrs()
        if a.get("training_mode", 0):
            self.fail("a BatchNormalization in training mode: export the model in eval() mode")
        if any(self.uses.get(o, 0) for o in self.node.output[1:] if o):
            self.fail("the running mean/var outputs are used: export the model in eval() mode")
        v = self.value(self.node.input[0])
        h, w, c = self.shapes[v.name]
        names = ("gamma", "beta", "mean", "var")
        params = {p: self.const(n, p).astype(np.float32).reshape(-1)
                  for p, n in zip(names, self.node.input[1:5])}
        attrs = {"act": "none", "eps": float(a.get("epsilon", 1e-5))}
        if v.perm is not None:
            self.fail("a BatchNormalization after a flatten of a feature map is not supported")
        self.add_layer("batchnorm", [v.name], attrs, params, (h, w, c), v.rank, "bn")

    def vector_input(self) -> tuple[Value, int]:
        v = self.value(self.node.input[0])
        h, w, c = self.shapes[v.name]
        if v.rank != 2:
            self.fail("the input must be a (batch, n) vector: flatten the feature map first")
        return v, h * w * c

    def fc(self, weight, bias, v):
        """An fc from an ONNX (out, in) weight, its columns put in our order."""
        if v.perm is not None:
            weight = weight[:, v.perm]
        params = {"weight": np.ascontiguousarray(weight, np.float32),
                  "bias": np.asarray(bias, np.float32)}
        return self.add_layer("fc", [v.name], {"act": "none"}, params,
                              (1, 1, weight.shape[0]), 2)

    def op_gemm(self):
        a = self.attrs()
        v, n = self.vector_input()
        if a.get("transA", 0):
            self.fail("Gemm with transA is not supported")
        b = self.const(self.node.input[1], "B (the weight)")
        weight = (b if a.get("transB", 0) else b.T) * np.float32(a.get("alpha", 1.0))
        if weight.ndim != 2 or weight.shape[1] != n:
            self.fail(f"weight of shape {b.shape} does not fit an input of {n} features")
        bias = np.zeros(weight.shape[0], np.float32)
        if len(self.node.input) > 2 and self.node.input[2]:
            c = self.const(self.node.input[2], "C (the bias)") * np.float32(a.get("beta", 1.0))
            bias = self.bias_vector(c, weight.shape[0])
        self.fc(weight, bias, v)

    def bias_vector(self, c, n):
        if c.size not in (1, n) or (c.ndim == 2 and c.shape[0] != 1) or c.ndim > 2:
            self.fail(f"a bias of shape {c.shape} does not broadcast to ({n},) per sample")
        return np.broadcast_to(c.reshape(-1), (n,)).astype(np.float32)

    def op_matmul(self):
        v, n = self.vector_input()
        w = self.const(self.node.input[1], "the second operand (the weight)")
        if w.ndim != 2 or w.shape[0] != n:
            self.fail(f"weight of shape {w.shape} does not fit an input of {n} features")
        layer = self.fc(w.T, np.zeros(w.shape[1], np.float32), v)
        self.from_matmul.add(layer.name)

    def op_add(self):
        a, b = self.node.input
        if a in self.consts or b in self.consts:
            return self.bias_add(b if a in self.consts else a, a if a in self.consts else b)
        va, vb = self.value(a), self.value(b)
        shape = self.shapes[va.name]
        if shape != self.shapes[vb.name] or va.rank != vb.rank:
            self.fail(f"Add of shapes {shape} and {self.shapes[vb.name]}: broadcasting is not "
                      "supported")
        if (va.perm is None) != (vb.perm is None) or (
                va.perm is not None and not np.array_equal(va.perm, vb.perm)):
            self.fail("Add of two flattened feature maps is not supported")
        self.add_layer("add", [va.name, vb.name], {"act": "none"}, {}, shape, va.rank)
        self.values[self.node.output[0]].perm = va.perm

    def bias_add(self, x, const_name):
        """MatMul + Add(constant): the bias of the fc that the MatMul became."""
        v = self.value(x)
        layer = self.layers[-1]
        if v.name != layer.name or layer.name not in self.from_matmul or self.uses[x] != 1:
            self.fail("adding a constant is supported only as the bias right after a MatMul")
        layer.params["bias"] = self.bias_vector(self.consts[const_name],
                                                layer.params["weight"].shape[0])
        self.from_matmul.discard(layer.name)
        self.values[self.node.output[0]] = v

    def op_relu(self):
        self.activation("relu")

    def op_clip(self):
        a, ins = self.attrs(), list(self.node.input)
        lo, hi = a.get("min"), a.get("max")  # opset < 11 has attributes, later ones inputs
        if len(ins) > 1 and ins[1]:
            lo = float(self.const(ins[1], "min"))
        if len(ins) > 2 and ins[2]:
            hi = float(self.const(ins[2], "max"))
        if lo == 0.0 and hi == 6.0:
            return self.activation("relu6")
        if lo == 0.0 and (hi is None or hi == np.inf):
            return self.activation("relu")
        self.fail(f"Clip({lo}, {hi}): only Clip(0, 6) (ReLU6) and Clip(0, inf) (ReLU) map to "
                  "our activations")

    def activation(self, act):
        """Relu / Clip become the act of the layer that makes their input, when that layer has
        none yet and nothing else reads its output."""
        x = self.node.input[0]
        v = self.value(x)
        layer = self.layers[-1] if self.layers else None
        if (layer is None or v.name != layer.name or layer.op not in FUSES_ACT
                or layer.act != "none" or self.uses[x] != 1):
            self.fail(f"{act} must follow a Conv, Gemm/MatMul, BatchNormalization or Add whose "
                      "output nothing else reads (it becomes that layer's activation)")
        layer.attrs["act"] = act
        self.values[self.node.output[0]] = v

    def op_globalaveragepool(self):
        self.avgpool(keepdims=True)

    def op_reducemean(self):
        a = self.attrs()
        axes = a.get("axes")
        if axes is None and len(self.node.input) > 1:
            axes = self.const(self.node.input[1], "axes")
        if axes is None or sorted(int(i) % 4 for i in np.ravel(axes)) != [2, 3]:
            self.fail("only a ReduceMean over height and width (a global average pool) is "
                      "supported")
        self.avgpool(keepdims=bool(a.get("keepdims", 1)))

    def op_averagepool(self):
        a = self.attrs()
        _, (h, w, _) = self.map_input()
        if list(a.get("kernel_shape", [])) != [h, w] or any(a.get("pads", [0])):
            self.fail(f"a {a.get('kernel_shape')} pool on a {h}x{w} map: only a pool over the "
                      "whole map (global average pooling) is supported")
        self.avgpool(keepdims=True)

    def avgpool(self, keepdims):
        v, (h, w, c) = self.map_input()
        self.add_layer("avgpool", [v.name], {}, {}, (1, 1, c), 4 if keepdims else 2, "pool")

    def op_flatten(self):
        if self.attrs().get("axis", 1) != 1:
            self.fail("only Flatten(axis=1) (keep the batch) is supported")
        self.flatten()

    def op_reshape(self):
        shape = self.const(self.node.input[1], "the target shape").reshape(-1)
        v = self.value(self.node.input[0])
        n = int(np.prod(self.shapes[v.name]))
        if len(shape) != 2 or int(shape[0]) not in (-1, 0, 1) or int(shape[1]) not in (-1, n):
            self.fail(f"Reshape to {shape.tolist()}: only a flatten to (batch, {n}) is "
                      "supported")
        self.flatten()

    def flatten(self):
        v = self.value(self.node.input[0])
        h, w, c = self.shapes[v.name]
        if v.rank == 2 or (h, w) == (1, 1):
            self.values[self.node.output[0]] = Value(v.name, 2, v.perm)
            return
        self.add_layer("flatten", [v.name], {}, {}, (1, 1, h * w * c), 2)
        self.values[self.node.output[0]].perm = chw_to_hwc(h, w, c)
        self.notes.append(f"flatten of a {h}x{w}x{c} map: the next layer's weights are "
                          "reordered from ONNX's CHW order to our HWC order")

    def op_identity(self):
        self.values[self.node.output[0]] = self.value(self.node.input[0])

    op_dropout = op_identity


def load_onnx(path, name: str | None = None) -> tuple[FloatModel, list[str]]:
    """A float .onnx file -> (FloatModel taking NHWC samples, notes for the user). The last
    conv or fc is named "head"."""
    model, notes, _ = read_onnx(path, name)
    return model, notes


def read_onnx(path, name: str | None = None) -> tuple[FloatModel, list[str], dict]:
    """load_onnx, and the file's quantization: {"act": {our tensor: (scale, zero point)},
    "weights": {our layer: weight scales}}, empty for a float model."""
    onnx, _ = _onnx()
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise MicrotrainError(f"{path}: cannot read ({err.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise MicrotrainError(f"{path}: {size} bytes, larger than a microcontroller model can be")
    try:
        model = onnx.load(str(path))
    except Exception as err:  # noqa: BLE001 - any decoding failure is a damaged file
        detail = " ".join(str(err).split())[:200]
        raise MicrotrainError(f"{path} is not an ONNX model: damaged or unreadable "
                              f"({type(err).__name__}: {detail})") from None
    if not model.graph.node:
        raise MicrotrainError(f"{path} is not an ONNX model: it has no graph nodes")
    importer = _Importer(path, model)
    float_model, notes = importer.run(name or path.stem)
    if not importer.act_quant:
        return float_model, notes, {}
    return float_model, notes, {"act": importer.act_quant, "weights": importer.weight_scales}

