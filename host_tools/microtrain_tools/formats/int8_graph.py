# SPDX-License-Identifier: MIT
"""The int8 graph: what the quantizer and the importers make, and what the compiler reads.

A graph is a list of layers in execution order over named tensors. The model input is the
tensor "input"; every layer makes one tensor named after the layer. Every tensor is int8 with
one scale and zero point (real = scale * (q - zero_point)); shapes are per sample (h, w, c),
NHWC, the batch is not part of the graph.

Layer ops and their arrays (layouts of natmod/kernels/mt_types.h):

    conv2d    weight int8 (c_out, kh, kw, c_in)  OHWI
    dwconv2d  weight int8 (kh, kw, c)            depthwise, channel multiplier 1
    pwconv2d  weight int8 (c_out, 1, 1, c_in)    a conv2d with a 1x1 kernel, stride 1, no padding
    fc        weight int8 (c_out, c_in)          input (1, 1, c_in)
      all four: bias int32 (c_out,) at scale s_x * w_scale[c]; w_scale float32 (c_out,)
      (symmetric, per output channel); multiplier, shift int32 (c_out,) with
      s_x * w_scale[c] / s_y ~= multiplier * 2^(shift - 31) (quant.quantize_multipliers)
      attrs: kernel, stride, padding (top, left), act, act_min, act_max
    add       y = a + b, TFLite's int8 add: attrs left_shift (20); arrays multiplier, shift int32
              (3,): [input a, input b, output]; attrs act, act_min, act_max
    avgpool   global average pool (h, w, c) -> (1, 1, c), TFLite's AVERAGE_POOL_2D: the sum of
              the int8 values / (h*w), rounded half away from zero; output keeps the input's
              scale and zero point; no arrays
    flatten   (h, w, c) -> (1, 1, h*w*c), same scale and zero point: a no-op on NHWC memory

"act" ("none", "relu", "relu6") is the float activation the clamp [act_min, act_max] stands for,
in output int8 units. File: an .npz with the arrays under "<layer>/<array>" and a JSON "graph"
entry (magic, version, tensors, layers); see save_graph / load_graph.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ..errors import MicrotrainError, reading
from . import tflite_params
from .model import INPUT, conv_axis_ok, read_graph_json, read_npz

MAGIC = "microtrain-int8-graph"
VERSION = 1

WEIGHT_OPS = ("conv2d", "dwconv2d", "pwconv2d", "fc")
OPS = WEIGHT_OPS + ("add", "avgpool", "flatten")
ACTS = ("none", "relu", "relu6")
ADD_LEFT_SHIFT = tflite_params.LEFT_SHIFT

# op -> array name -> dtype
ARRAYS = {
    **{op: {"weight": np.int8, "bias": np.int32, "w_scale": np.float32,
            "multiplier": np.int32, "shift": np.int32} for op in WEIGHT_OPS},
    "add": {"multiplier": np.int32, "shift": np.int32},
    "avgpool": {},
    "flatten": {},
}
# A requantizing global mean (TFLite's MEAN into another scale) is an avgpool with these.
MEAN_ARRAYS = {"multiplier": np.int32, "shift": np.int32}


def is_mean(ly) -> bool:
    """An avgpool that changes the quantization (TFLite's MEAN): it carries its multiplier."""
    return ly.op == "avgpool" and "multiplier" in ly.arrays


@dataclass
class Tensor:
    name: str
    shape: tuple[int, int, int]  # (h, w, c), per sample
    scale: float
    zero_point: int

    def quantize(self, x) -> np.ndarray:
        """Round half away from zero (std::round, as TFLite's QUANTIZE), add the zero point,
        saturate."""
        v = np.asarray(x, dtype=np.float64) / self.scale
        q = np.sign(v) * np.floor(np.abs(v) + 0.5) + self.zero_point
        return np.clip(q, -128, 127).astype(np.int8)

    def dequantize(self, q) -> np.ndarray:
        return ((np.asarray(q, dtype=np.float32) - self.zero_point) * self.scale).astype(
            np.float32)


@dataclass
class Int8Layer:
    name: str  # also the name of its output tensor
    op: str
    inputs: list[str]
    attrs: dict = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.name

    @property
    def has_weights(self) -> bool:
        return self.op in WEIGHT_OPS

    @property
    def weight(self) -> np.ndarray:
        return self.arrays["weight"]

    @property
    def c_out(self) -> int:
        return len(self.arrays["bias"])

    @property
    def c_in(self) -> int:
        w = self.arrays["weight"]
        return w.shape[-1]


@dataclass
class Int8Graph:
    tensors: dict[str, Tensor]
    layers: list[Int8Layer]
    name: str = "model"
    meta: dict = field(default_factory=dict)  # free-form provenance (source file, head, ...)

    def __post_init__(self):
        validate(self)

    @property
    def input(self) -> Tensor:
        return self.tensors[INPUT]

    @property
    def output(self) -> Tensor:
        return self.tensors[self.layers[-1].name]

    def layer(self, name: str) -> Int8Layer:
        for ly in self.layers:
            if ly.name == name:
                return ly
        raise MicrotrainError(f"graph has no layer named {name!r}")

    def index(self, name: str) -> int:
        return [ly.name for ly in self.layers].index(self.layer(name).name)

    def consumers(self, tensor: str) -> list[Int8Layer]:
        return [ly for ly in self.layers if tensor in ly.inputs]

    def weight_layers(self) -> list[Int8Layer]:
        """Layers with weights (conv2d/dwconv2d/pwconv2d/fc), in execution order: the indices
        a policy uses."""
        return [ly for ly in self.layers if ly.has_weights]

    def macs(self, layer: Int8Layer) -> int:
        """Multiply-accumulates of one layer for one sample."""
        if not layer.has_weights:
            return 0
        h, w, _ = self.tensors[layer.name].shape
        return h * w * int(np.prod(layer.weight.shape))

    def summary(self) -> str:
        lines = [f"{self.name}: input {self.input.shape}, {len(self.layers)} layers"]
        for ly in self.layers:
            t = self.tensors[ly.name]
            extra = ""
            if ly.has_weights:
                extra = f" weight {tuple(ly.weight.shape)} act {ly.attrs['act']}"
            lines.append(f"  {ly.name:24s} {ly.op:9s} <- {','.join(ly.inputs):30s} "
                         f"{str(t.shape):16s} s={t.scale:.5g} zp={t.zero_point}{extra}")
        return "\n".join(lines)


# ---- quantization parameters, written once ---------------------------------------------------


def act_range(act: str, scale: float, zero_point: int) -> tuple[int, int]:
    """The clamp in int8 output units that a fused activation becomes (TFLite's rule)."""
    if act not in ACTS:
        raise MicrotrainError(f"unknown activation {act!r}; known: {ACTS}")
    return tflite_params.activation_range(act, scale, zero_point)


def conv_requant(s_x: float, w_scale, s_y: float):
    """Per-channel multiplier and shift for s_x * w_scale[c] / s_y (scales as float32)."""
    return tflite_params.conv_multipliers(s_x, w_scale, s_y)


def add_requant(s_a: float, s_b: float, s_y: float):
    """TFLite's int8 add: inputs scaled to 2*max(s_a, s_b) after a left shift of 20; returns
    int32 multipliers and shifts [input a, input b, output]."""
    p = tflite_params.add_params(s_a, 0, s_b, 0, s_y, 0)
    return (np.array([p.input1_multiplier, p.input2_multiplier, p.output_multiplier], np.int32),
            np.array([p.input1_shift, p.input2_shift, p.output_shift], np.int32))


# ---- checks ----------------------------------------------------------------------------------


def _expect(cond, msg):
    if not cond:
        raise MicrotrainError(msg)


def validate(graph: Int8Graph) -> None:
    """Check that every layer's inputs, shapes and arrays agree; errors name the layer."""
    _expect(INPUT in graph.tensors, "graph has no 'input' tensor")
    _expect(graph.layers, "graph has no layers")
    known = {INPUT}
    for name, t in graph.tensors.items():
        _expect(t.name == name, f"tensor {name!r} is stored under another name {t.name!r}")
        _expect(len(t.shape) == 3 and min(t.shape) >= 1, f"tensor {name!r}: bad shape {t.shape}")
        _expect(np.isfinite(t.scale) and t.scale > 0,
                f"tensor {name!r}: scale must be positive, got {t.scale}")
        _expect(-128 <= t.zero_point <= 127,
                f"tensor {name!r}: zero point {t.zero_point} is outside int8")
    for ly in graph.layers:
        where = f"layer {ly.name!r}"
        _expect(ly.op in OPS, f"{where}: unknown op {ly.op!r}; known: {OPS}")
        _expect(ly.name not in known, f"{where}: duplicate tensor name")
        _expect(ly.name in graph.tensors, f"{where}: its output tensor is not described")
        _expect(len(ly.inputs) == (2 if ly.op == "add" else 1),
                f"{where}: wrong number of inputs {ly.inputs}")
        for name in ly.inputs:
            _expect(name in known, f"{where}: input {name!r} is not made before it")
        for key, dtype in (MEAN_ARRAYS if is_mean(ly) else ARRAYS[ly.op]).items():
            _expect(key in ly.arrays, f"{where}: missing array {key!r}")
            arr = ly.arrays[key]
            _expect(isinstance(arr, np.ndarray) and arr.dtype == dtype,
                    f"{where}: array {key!r} must be {np.dtype(dtype).name}")
        known.add(ly.name)
        try:
            _check_shapes(graph, ly, where)
        except (KeyError, TypeError, ValueError) as err:
            raise MicrotrainError(f"{where}: missing or malformed attribute ({err})") from None


def _check_shapes(graph, ly, where):
    h, w, c = graph.tensors[ly.inputs[0]].shape
    oh, ow, oc = graph.tensors[ly.name].shape
    a = ly.arrays
    if ly.has_weights:
        for key in ("bias", "w_scale", "multiplier", "shift"):
            _expect(a[key].shape == (oc,), f"{where}: {key} must have shape ({oc},)")
        lo, hi = ly.attrs.get("act_min"), ly.attrs.get("act_max")
        _expect(ly.attrs.get("act") in ACTS, f"{where}: act must be one of {ACTS}")
        _expect(isinstance(lo, int) and isinstance(hi, int) and -128 <= lo <= hi <= 127,
                f"{where}: act_min/act_max must be ints in [-128, 127]")
        _expect(np.all(a["w_scale"] > 0), f"{where}: w_scale must be positive")
    if ly.op == "fc":
        _expect((h, w) == (1, 1) and (oh, ow) == (1, 1), f"{where}: fc needs (1, 1, c) tensors")
        _expect(a["weight"].shape == (oc, c), f"{where}: weight must be ({oc}, {c})")
    elif ly.op in ("conv2d", "dwconv2d", "pwconv2d"):
        kh, kw = ly.attrs["kernel"]
        sh, sw = ly.attrs["stride"]
        ph, pw = ly.attrs["padding"]
        # The kernels' rule (mt_conv_axis_check): top/left padding given, the bottom/right
        # padding whatever the output size needs, as TFLite's uneven SAME padding.
        _expect(conv_axis_ok(h, kh, sh, ph, oh) and conv_axis_ok(w, kw, sw, pw, ow),
                f"{where}: output {oh}x{ow} does not follow from input {h}x{w}")
        if ly.op == "dwconv2d":
            _expect(oc == c and a["weight"].shape == (kh, kw, c),
                    f"{where}: depthwise weight must be ({kh}, {kw}, {c})")
        else:
            _expect(a["weight"].shape == (oc, kh, kw, c),
                    f"{where}: weight must be ({oc}, {kh}, {kw}, {c})")
        if ly.op == "pwconv2d":
            _expect((kh, kw, sh, sw, ph, pw) == (1, 1, 1, 1, 0, 0),
                    f"{where}: pwconv2d needs a 1x1 kernel, stride 1, no padding")
    elif ly.op == "add":
        _expect(graph.tensors[ly.inputs[1]].shape == (h, w, c) == (oh, ow, oc),
                f"{where}: add needs equal shapes")
        _expect(a["multiplier"].shape == (3,) and a["shift"].shape == (3,),
                f"{where}: add needs 3 multipliers and 3 shifts")
    elif ly.op == "avgpool":
        _expect((oh, ow, oc) == (1, 1, c), f"{where}: avgpool output must be (1, 1, {c})")
        if is_mean(ly):
            _expect(a["multiplier"].shape == (1,) and a["shift"].shape == (1,),
                    f"{where}: a requantizing mean needs one multiplier and one shift")
    elif ly.op == "flatten":
        _expect((oh, ow, oc) == (1, 1, h * w * c), f"{where}: flatten output must be "
                f"(1, 1, {h * w * c})")
    if ly.op in ("avgpool", "flatten") and not is_mean(ly):
        t_in, t_out = graph.tensors[ly.inputs[0]], graph.tensors[ly.name]
        _expect((t_in.scale, t_in.zero_point) == (t_out.scale, t_out.zero_point),
                f"{where}: {ly.op} keeps the scale and zero point of its input")


# ---- file ------------------------------------------------------------------------------------


def _jsonable(v):
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def save_graph(graph: Int8Graph, path) -> None:
    arrays = {}
    for ly in graph.layers:
        for key, arr in ly.arrays.items():
            arrays[f"{ly.name}/{key}"] = arr
    doc = {
        "magic": MAGIC, "version": VERSION, "name": graph.name, "meta": graph.meta,
        "tensors": [{"name": t.name, "shape": list(t.shape), "scale": float(t.scale),
                     "zero_point": int(t.zero_point)} for t in graph.tensors.values()],
        "layers": [{"name": ly.name, "op": ly.op, "inputs": ly.inputs,
                    "attrs": {k: _jsonable(v) for k, v in ly.attrs.items()},
                    "arrays": sorted(ly.arrays)} for ly in graph.layers],
    }
    arrays["graph"] = np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _attrs_from_json(attrs: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in attrs.items()}


def load_graph(path) -> Int8Graph:
    with reading(path, "microtrain int8 graph (.mtg)"):
        return _load_graph(path)


def _load_graph(path) -> Int8Graph:
    what = "microtrain int8 graph"
    arrays = read_npz(path, what)
    doc = read_graph_json(arrays, path, MAGIC, VERSION, what)
    try:
        tensors = {t["name"]: Tensor(t["name"], tuple(t["shape"]), float(t["scale"]),
                                     int(t["zero_point"])) for t in doc["tensors"]}
        layers = []
        for entry in doc["layers"]:
            got = {}
            for key in entry["arrays"]:
                full = f"{entry['name']}/{key}"
                if full not in arrays:
                    raise MicrotrainError(f"{path}: array {full!r} is missing")
                got[key] = arrays[full]
            layers.append(Int8Layer(entry["name"], entry["op"], list(entry["inputs"]),
                                    _attrs_from_json(entry["attrs"]), got))
        return Int8Graph(tensors, layers, doc.get("name", "model"), doc.get("meta", {}))
    except (KeyError, TypeError, ValueError) as err:
        raise MicrotrainError(f"{path}: the graph misses or damages a field ({err})") from None
