# SPDX-License-Identifier: MIT
"""Post-training quantization: FloatModel -> Int8Graph, and the float vs int8 report.

Steps: fold each batch norm into the conv/fc before it; run the float model on calibration data
and take each tensor's range (always including 0) for a per-tensor scale and zero point; quantize
weights per output channel, symmetric, to [-127, 127]; bias to int32 at s_x * w_scale[c];
requantization multipliers through quant.py (int8_graph's helpers). The int8 side of the report
runs through the kernels' numpy reference (int8_run), not through a second implementation here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..sim import float_model, int8_run
from ..errors import MicrotrainError
from ..formats.int8_graph import (
    Int8Graph,
    Int8Layer,
    Tensor,
    act_range,
    add_requant,
    conv_requant,
    ADD_LEFT_SHIFT,
)
from ..formats.model import INPUT, FloatModel
from ..formats.tflite_params import mean_multiplier

# ---- batch norm folding ----------------------------------------------------------------------


def fold_batchnorm(model: FloatModel) -> FloatModel:
    """A copy of the model with every batchnorm folded into the conv2d/fc that feeds it.

    y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta: the weights of output channel c
    scale by k[c] = gamma[c] / sqrt(var[c] + eps) and the bias becomes (b - mean) * k + beta.
    """
    m = model.copy()
    renamed = {}
    kept = []
    for ly in m.layers:
        ly.inputs = [renamed.get(name, name) for name in ly.inputs]
        if ly.op != "batchnorm":
            kept.append(ly)
            continue
        src = ly.inputs[0]
        prev = next((p for p in kept if p.name == src), None)
        if prev is None or prev.op not in ("conv2d", "fc"):
            raise MicrotrainError(
                f"batchnorm {ly.name!r} cannot be folded: its input {src!r} is not a conv2d/fc")
        if prev.act != "none":
            raise MicrotrainError(
                f"batchnorm {ly.name!r} cannot be folded: {src!r} has an activation before it")
        if len(m.consumers(src)) != 1:
            raise MicrotrainError(
                f"batchnorm {ly.name!r} cannot be folded: {src!r} has other consumers")
        p = ly.params
        k = p["gamma"].astype(np.float64) / np.sqrt(p["var"].astype(np.float64)
                                                   + ly.attrs["eps"])
        w = prev.params["weight"].astype(np.float64)
        # output channel: first axis (OHWI, fc), last axis (depthwise [kh][kw][c])
        w = w * k if prev.depthwise else w * k.reshape((-1,) + (1,) * (w.ndim - 1))
        prev.params["weight"] = w.astype(np.float32)
        prev.params["bias"] = ((prev.params["bias"] - p["mean"]) * k + p["beta"]).astype(
            np.float32)
        prev.attrs["act"] = ly.act
        renamed[ly.name] = src
    return FloatModel(m.input_shape, kept, m.name)


# ---- calibration -----------------------------------------------------------------------------


def tensor_ranges(model: FloatModel, calib, batch=128) -> dict[str, tuple[float, float]]:
    """min and max of every tensor over the calibration data."""
    lo, hi = {}, {}
    for i in range(0, len(calib), batch):
        _, tensors, _ = float_model.forward(model, calib[i:i + batch], keep=True)
        for name, t in tensors.items():
            lo[name] = min(lo.get(name, np.inf), float(t.min()))
            hi[name] = max(hi.get(name, -np.inf), float(t.max()))
    return {name: (lo[name], hi[name]) for name in lo}


def scale_zero_point(lo: float, hi: float) -> tuple[float, int]:
    """Asymmetric int8 quantization of [lo, hi] (widened to hold 0 exactly)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-8:
        hi = lo + 1e-8
    scale = (hi - lo) / 255.0
    zp = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return float(scale), zp


def quantize_weights(w, depthwise: bool, scale=None):
    """Symmetric per-output-channel int8 weights: (int8 weights, float32 scales). scale: given
    scales instead (one, or one per channel), as a quantized file has them."""
    w = np.asarray(w, dtype=np.float64)
    axes = tuple(range(w.ndim - 1)) if depthwise else tuple(range(1, w.ndim))
    amax = np.abs(w).max(axis=axes)
    if scale is None:
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    else:
        scale = np.broadcast_to(np.asarray(scale, np.float32).ravel(), amax.shape).copy()
    shape = (1,) * (w.ndim - 1) + (-1,) if depthwise else (-1,) + (1,) * (w.ndim - 1)
    q = np.clip(np.round(w / scale.astype(np.float64).reshape(shape)), -127, 127)
    return q.astype(np.int8), scale


def quantize_bias(b, s_x: float, w_scale) -> np.ndarray:
    q = np.round(np.asarray(b, np.float64) / (s_x * np.asarray(w_scale, np.float64)))
    return np.clip(q, -(2**31), 2**31 - 1).astype(np.int32)


# ---- the graph -------------------------------------------------------------------------------


def _weight_op(ly) -> str:
    if ly.op == "fc":
        return "fc"
    if ly.depthwise:
        return "dwconv2d"
    pointwise = (tuple(ly.attrs["kernel"]) == (1, 1) and tuple(ly.attrs["stride"]) == (1, 1)
                 and tuple(ly.attrs["padding"]) == (0, 0))
    return "pwconv2d" if pointwise else "conv2d"


def to_int8_graph(folded: FloatModel, ranges, weight_scales=None, pool_ranges=None) -> Int8Graph:
    """Build the int8 graph of a BN-folded model from calibrated tensor ranges. Of an already
    quantized model: weight_scales {layer: the file's weight scales}, pool_ranges {avgpool:
    the file's output range} (a pool with a scale of its own becomes a requantizing mean)."""
    pool_ranges = pool_ranges or {}
    tensors = {INPUT: Tensor(INPUT, folded.input_shape, *scale_zero_point(*ranges[INPUT]))}
    layers = []
    for ly in folded.layers:
        t_in = tensors[ly.inputs[0]]
        shape = folded.shapes[ly.name]
        if ly.op == "flatten" or (ly.op == "avgpool" and ly.name not in pool_ranges):
            # keep the input's quantization (TFLite's rule)
            t_out = Tensor(ly.name, shape, t_in.scale, t_in.zero_point)
        else:
            t_out = Tensor(ly.name, shape, *scale_zero_point(*{**ranges, **pool_ranges}[ly.name]))
        tensors[ly.name] = t_out
        lo, hi = act_range(ly.act, t_out.scale, t_out.zero_point)
        attrs = {"act": ly.act, "act_min": lo, "act_max": hi}
        arrays = {}
        op = ly.op
        if ly.op in ("conv2d", "fc"):
            op = _weight_op(ly)
            wq, w_scale = quantize_weights(ly.params["weight"], ly.depthwise,
                                           (weight_scales or {}).get(ly.name))
            try:
                mult, shift = conv_requant(t_in.scale, w_scale, t_out.scale)
            except ValueError as err:  # e.g. weights of 1e38: no int32 multiplier holds the ratio
                raise MicrotrainError(f"layer {ly.name!r}: weights too large to quantize "
                                      f"({err})") from None
            arrays = {"weight": wq, "bias": quantize_bias(ly.params["bias"], t_in.scale, w_scale),
                      "w_scale": w_scale, "multiplier": mult, "shift": shift}
            if ly.op == "conv2d":
                attrs.update(kernel=tuple(ly.attrs["kernel"]), stride=tuple(ly.attrs["stride"]),
                             padding=tuple(ly.attrs["padding"]))
        elif ly.op == "add":
            mult, shift = add_requant(t_in.scale, tensors[ly.inputs[1]].scale, t_out.scale)
            arrays = {"multiplier": mult, "shift": shift}
            attrs["left_shift"] = ADD_LEFT_SHIFT
        elif ly.op == "avgpool" and ly.name in pool_ranges:  # the file's own scale: a mean
            h, w, _ = folded.shapes[ly.inputs[0]] if ly.inputs[0] != INPUT else folded.input_shape
            mult, shift = mean_multiplier(t_in.scale, t_out.scale, h * w)
            arrays = {"multiplier": np.array([mult], np.int32),
                      "shift": np.array([shift], np.int32)}
        elif ly.op not in ("avgpool", "flatten"):
            raise MicrotrainError(f"layer {ly.name!r}: op {ly.op} cannot be quantized "
                                  "(fold batch norms first)")
        layers.append(Int8Layer(ly.name, op, list(ly.inputs), attrs, arrays))
    return Int8Graph(tensors, layers, folded.name, {"source": "quantize"})


# ---- the report ------------------------------------------------------------------------------


@dataclass
class QuantReport:
    n_eval: int
    float_accuracy: float
    int8_accuracy: float
    agreement: float  # fraction of samples where float and int8 pick the same class
    max_abs_logit_error: float  # over the eval set, in float units of the output
    n_calib: int

    def as_dict(self):
        return dict(self.__dict__)


def format_report(r: QuantReport | None) -> str:
    if r is None:
        return "no evaluation data: accuracy not measured"
    return (f"accuracy on {r.n_eval} samples: float {r.float_accuracy:.4f}, "
            f"int8 {r.int8_accuracy:.4f} (difference {r.int8_accuracy - r.float_accuracy:+.4f}); "
            f"float and int8 agree on {r.agreement:.4f}; max |logit error| "
            f"{r.max_abs_logit_error:.4g}; calibrated on {r.n_calib} samples")


def compare(model: FloatModel, graph: Int8Graph, x, y, n_calib=0) -> QuantReport:
    """Float model vs int8 graph (run through the kernels' reference) on labelled data."""
    f_logits = float_model.predict(model, x)
    q_logits = graph.output.dequantize(int8_run.predict(graph, graph.input.quantize(x)))
    q_logits = q_logits.reshape(len(x), -1)
    y = np.asarray(y)
    return QuantReport(
        n_eval=len(x),
        float_accuracy=float((f_logits.argmax(1) == y).mean()),
        int8_accuracy=float((q_logits.argmax(1) == y).mean()),
        agreement=float((f_logits.argmax(1) == q_logits.argmax(1)).mean()),
        max_abs_logit_error=float(np.abs(f_logits - q_logits).max()),
        n_calib=n_calib,
    )


def quantize(model: FloatModel, calib, eval_data=None, log=None):
    """FloatModel + calibration inputs -> (Int8Graph, QuantReport or None)."""
    calib = np.asarray(calib, dtype=np.float32)
    if calib.ndim == 3:
        calib = calib[..., None] if model.input_shape[-1] == 1 else calib[None]
    if len(calib) == 0:
        raise MicrotrainError("calibration data is empty")
    if not np.all(np.isfinite(calib)):
        raise MicrotrainError("calibration data has non-finite values (nan or inf)")
    if calib.shape[1:] != model.input_shape:
        raise MicrotrainError(f"calibration data has samples of shape {calib.shape[1:]}, "
                              f"the model takes {model.input_shape}")
    log = log or (lambda msg: None)
    folded = fold_batchnorm(model)
    n_bn = sum(ly.op == "batchnorm" for ly in model.layers)
    log(f"folded {n_bn} batch norms into the layers before them: {len(model.layers)} -> "
        f"{len(folded.layers)} layers" if n_bn else "no batch norms to fold")
    ranges = tensor_ranges(folded, calib)
    log(f"calibrated {len(ranges)} tensors on {len(calib)} samples")
    graph = to_int8_graph(folded, ranges)
    log(f"quantized {len(graph.weight_layers())} weight layers")
    report = None
    if eval_data is not None:
        x, y = eval_data
        log(f"evaluating float and int8 on {len(x)} samples")
        report = compare(model, graph, np.asarray(x, np.float32), y, n_calib=len(calib))
    return graph, report
