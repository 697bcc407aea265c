# SPDX-License-Identifier: MIT
"""The float model description: a list of layers with float32 weights, and its file.

A model is a directed graph written as a list: each layer reads one or more tensors by name
(the model input is called "input", every other tensor is named after the layer that makes it)
and makes one tensor. Shapes are per sample, NHWC without the batch: (h, w, c). A conv1d is a
conv2d with h = 1.

Weights use the layouts of natmod/kernels/mt_types.h, the same as the int8 graph:

    conv2d     weight (c_out, kh, kw, c_in)    OHWI
    dwconv     weight (kh, kw, c)              groups == c_in == c_out, channel multiplier 1
    fc         weight (c_out, c_in)
    batchnorm  gamma, beta, mean, var (c,)     folded into the conv/fc before it by the quantizer

The file is one .npz (no pickle): the arrays under "<layer>/<param>" and an entry "graph"
holding UTF-8 JSON bytes with a magic string, a version, the input shape and the layers.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MicrotrainError, reading
from .known_keys import unknown_key

MAGIC = "microtrain-float-model"
VERSION = 1
INPUT = "input"

ACTS = ("none", "relu", "relu6")
# op -> the parameters it must have
PARAMS = {
    "conv2d": ("weight", "bias"),
    "fc": ("weight", "bias"),
    "batchnorm": ("gamma", "beta", "mean", "var"),
    "add": (),
    "avgpool": (),
    "flatten": (),
}
N_INPUTS = {"add": 2}
# The attributes each op reads; any other key is a typo to report, not to ignore.
ATTRS = {"conv2d": ("kernel", "stride", "padding", "groups", "act"), "fc": ("act",),
         "batchnorm": ("act", "eps"), "add": ("act",), "avgpool": ("act",), "flatten": ("act",)}
LAYER_FIELDS = ("name", "op", "inputs", "attrs", "params")


@dataclass
class Layer:
    """One layer. attrs by op:

    conv2d:    kernel (kh, kw), stride (sh, sw), padding (top, left), groups (1 or c), act
    fc:        act
    batchnorm: eps, act (the activation after the BN, moved onto the conv when folded)
    add:       act
    avgpool:   global average over h and w: (h, w, c) -> (1, 1, c)
    flatten:   (h, w, c) -> (1, 1, h*w*c), a reshape in NHWC order
    """

    name: str
    op: str
    inputs: list[str]
    attrs: dict = field(default_factory=dict)
    params: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def act(self) -> str:
        return self.attrs.get("act", "none")

    @property
    def depthwise(self) -> bool:
        return self.op == "conv2d" and self.attrs.get("groups", 1) != 1


@dataclass
class FloatModel:
    input_shape: tuple[int, int, int]
    layers: list[Layer]
    name: str = "model"

    def __post_init__(self):
        self.input_shape = tuple(int(v) for v in self.input_shape)
        self.shapes = infer_shapes(self)

    @property
    def output(self) -> str:
        return self.layers[-1].name

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return self.shapes[self.output]

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise MicrotrainError(f"model has no layer named {name!r}")

    def consumers(self, tensor: str) -> list[Layer]:
        return [layer for layer in self.layers if tensor in layer.inputs]

    def copy(self) -> FloatModel:
        layers = [
            Layer(ly.name, ly.op, list(ly.inputs), dict(ly.attrs),
                  {k: v.copy() for k, v in ly.params.items()})
            for ly in self.layers
        ]
        return FloatModel(self.input_shape, layers, self.name)


def conv_out_size(size: int, k: int, stride: int, pad: int) -> int:
    """Output length of a conv: top/left padding `pad`, bottom/right padding at most `pad`."""
    return (size + 2 * pad - k) // stride + 1


def conv_axis_ok(size_in: int, k: int, stride: int, pad: int, size_out: int) -> bool:
    """The rule of mt_conv_axis_check: the output size follows from input, filter, stride, pad."""
    if min(size_in, k, stride, size_out) < 1 or not 0 <= pad < k:
        return False
    slack = size_in + pad - ((size_out - 1) * stride + k)
    return -(k - 1) <= slack <= stride - 1


def _pair(value, what: str, layer: str) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    try:
        a, b = value
        return (int(a), int(b))
    except (TypeError, ValueError):
        raise MicrotrainError(f"layer {layer!r}: {what} must be an int or a pair, got {value!r}")


def _check_shape(arr, shape, layer, param):
    if tuple(arr.shape) != tuple(shape):
        raise MicrotrainError(
            f"layer {layer!r}: {param} has shape {tuple(arr.shape)}, expected {tuple(shape)}"
        )


def infer_shapes(model: FloatModel) -> dict[str, tuple[int, int, int]]:
    """Check the graph and every parameter; return tensor name -> (h, w, c)."""
    if len(model.input_shape) != 3 or min(model.input_shape) < 1:
        raise MicrotrainError(f"input_shape must be (h, w, c) >= 1, got {model.input_shape}")
    if not model.layers:
        raise MicrotrainError("model has no layers")
    shapes = {INPUT: model.input_shape}
    for ly in model.layers:
        where = f"layer {ly.name!r}"
        if ly.op not in PARAMS:
            raise MicrotrainError(f"{where}: unknown op {ly.op!r}; known: {sorted(PARAMS)}")
        if ly.name in shapes:
            raise MicrotrainError(f"{where}: duplicate tensor name")
        bad = unknown_key(ly.attrs, ATTRS[ly.op])
        if bad:
            raise MicrotrainError(f"{where}: attrs of op {ly.op}: {bad}")
        if ly.act not in ACTS:
            raise MicrotrainError(f"{where}: act must be one of {ACTS}, got {ly.act!r}")
        if len(ly.inputs) != N_INPUTS.get(ly.op, 1):
            raise MicrotrainError(
                f"{where}: op {ly.op} takes {N_INPUTS.get(ly.op, 1)} inputs, got {ly.inputs}"
            )
        for name in ly.inputs:
            if name not in shapes:
                raise MicrotrainError(f"{where}: input {name!r} is not defined before it")
        for p in PARAMS[ly.op]:
            if p not in ly.params:
                raise MicrotrainError(f"{where}: missing parameter {p!r}")
            ly.params[p] = np.asarray(ly.params[p], dtype=np.float32)
            if not np.all(np.isfinite(ly.params[p])):
                raise MicrotrainError(f"{where}: parameter {p!r} has non-finite values")
        h, w, c = shapes[ly.inputs[0]]
        if ly.op == "conv2d":
            kh, kw = ly.attrs["kernel"] = _pair(ly.attrs.get("kernel"), "kernel", ly.name)
            sh, sw = ly.attrs["stride"] = _pair(ly.attrs.get("stride", 1), "stride", ly.name)
            ph, pw = ly.attrs["padding"] = _pair(ly.attrs.get("padding", 0), "padding", ly.name)
            groups = ly.attrs.setdefault("groups", 1)
            if groups not in (1, c):
                raise MicrotrainError(f"{where}: groups must be 1 or c_in={c}, got {groups}")
            if min(kh, kw, sh, sw) < 1 or min(ph, pw) < 0 or ph >= kh or pw >= kw:
                raise MicrotrainError(f"{where}: bad kernel/stride/padding")
            oh, ow = conv_out_size(h, kh, sh, ph), conv_out_size(w, kw, sw, pw)
            if oh < 1 or ow < 1:
                raise MicrotrainError(f"{where}: input {h}x{w} is smaller than the kernel")
            if ly.depthwise:
                co = c
                _check_shape(ly.params["weight"], (kh, kw, c), ly.name, "weight")
            else:
                co = ly.params["weight"].shape[0]
                _check_shape(ly.params["weight"], (co, kh, kw, c), ly.name, "weight")
            _check_shape(ly.params["bias"], (co,), ly.name, "bias")
            shapes[ly.name] = (oh, ow, co)
        elif ly.op == "fc":
            if (h, w) != (1, 1):
                raise MicrotrainError(f"{where}: fc needs a (1, 1, c) input; add a flatten")
            co = ly.params["weight"].shape[0]
            _check_shape(ly.params["weight"], (co, c), ly.name, "weight")
            _check_shape(ly.params["bias"], (co,), ly.name, "bias")
            shapes[ly.name] = (1, 1, co)
        elif ly.op == "batchnorm":
            for p in PARAMS["batchnorm"]:
                _check_shape(ly.params[p], (c,), ly.name, p)
            if np.any(ly.params["var"] < 0):
                raise MicrotrainError(f"{where}: var has negative values")
            ly.attrs.setdefault("eps", 1e-5)
            shapes[ly.name] = (h, w, c)
        elif ly.op == "add":
            other = shapes[ly.inputs[1]]
            if other != (h, w, c):
                raise MicrotrainError(f"{where}: input shapes differ: {(h, w, c)} vs {other}")
            shapes[ly.name] = (h, w, c)
        elif ly.op == "avgpool":
            shapes[ly.name] = (1, 1, c)
        elif ly.op == "flatten":
            shapes[ly.name] = (1, 1, h * w * c)
    return shapes


# ---- builders: the short way to write a model in Python --------------------------------------


def conv2d(name, inputs, weight, bias=None, stride=1, padding=0, act="none", depthwise=False):
    weight = np.asarray(weight, dtype=np.float32)
    kh, kw = weight.shape[:2] if depthwise else weight.shape[1:3]
    co = weight.shape[2] if depthwise else weight.shape[0]
    bias = np.zeros(co, np.float32) if bias is None else bias
    attrs = {"kernel": (kh, kw), "stride": stride, "padding": padding, "act": act,
             "groups": co if depthwise else 1}
    return Layer(name, "conv2d", _list(inputs), attrs, {"weight": weight, "bias": bias})


def conv1d(name, inputs, weight, bias=None, stride=1, padding=0, act="none"):
    """weight (c_out, k, c_in): a conv2d over (1, w, c) with kernel (1, k)."""
    weight = np.asarray(weight, dtype=np.float32)[:, None]
    return conv2d(name, inputs, weight, bias, (1, stride), (0, padding), act)


def fc(name, inputs, weight, bias=None, act="none"):
    weight = np.asarray(weight, dtype=np.float32)
    bias = np.zeros(weight.shape[0], np.float32) if bias is None else bias
    return Layer(name, "fc", _list(inputs), {"act": act}, {"weight": weight, "bias": bias})


def batchnorm(name, inputs, channels, act="none", eps=1e-5):
    params = {"gamma": np.ones(channels), "beta": np.zeros(channels),
              "mean": np.zeros(channels), "var": np.ones(channels)}
    return Layer(name, "batchnorm", _list(inputs), {"act": act, "eps": eps}, params)


def add(name, a, b, act="none"):
    return Layer(name, "add", [a, b], {"act": act})


def avgpool(name, inputs):
    return Layer(name, "avgpool", _list(inputs))


def flatten(name, inputs):
    return Layer(name, "flatten", _list(inputs))


def _list(inputs):
    return [inputs] if isinstance(inputs, str) else list(inputs)


# ---- file ------------------------------------------------------------------------------------


def _jsonable(value):
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def save_model(model: FloatModel, path) -> None:
    """Write the model as one .npz: arrays plus a JSON "graph" entry."""
    arrays = {}
    layers = []
    for ly in model.layers:
        for p, arr in ly.params.items():
            arrays[f"{ly.name}/{p}"] = np.asarray(arr, dtype=np.float32)
        layers.append({
            "name": ly.name, "op": ly.op, "inputs": ly.inputs,
            "attrs": {k: _jsonable(v) for k, v in ly.attrs.items()},
            "params": sorted(ly.params),
        })
    graph = {"magic": MAGIC, "version": VERSION, "name": model.name,
             "input_shape": list(model.input_shape), "layers": layers}
    arrays["graph"] = np.frombuffer(json.dumps(graph).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def read_npz(path, what: str) -> dict[str, np.ndarray]:
    """All arrays of an .npz (no pickle), with errors that say the file is not one."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise MicrotrainError(f"cannot read {what} {path}: {err.strerror}") from None
    with reading(path, what):
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}


def read_graph_json(arrays: dict, path, magic: str, version: int, what: str) -> dict:
    if "graph" not in arrays:
        raise MicrotrainError(f"{path} is not a {what}: it has no 'graph' entry")
    try:
        graph = json.loads(arrays["graph"].astype(np.uint8).tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as err:
        raise MicrotrainError(f"{path}: the 'graph' entry is damaged ({err})") from None
    if not isinstance(graph, dict) or graph.get("magic") != magic:
        found = graph.get("magic") if isinstance(graph, dict) else None
        raise MicrotrainError(f"{path} is not a {what}: magic is {found!r}, expected {magic!r}")
    if graph.get("version") != version:
        raise MicrotrainError(
            f"{path}: {what} version {graph.get('version')!r} is not supported (this is {version})"
        )
    return graph


def load_model(path) -> FloatModel:
    with reading(path, "microtrain float model"):
        return _load_model(path)


def _load_model(path) -> FloatModel:
    arrays = read_npz(path, "microtrain float model")
    graph = read_graph_json(arrays, path, MAGIC, VERSION, "microtrain float model")
    try:
        layers = []
        for i, entry in enumerate(graph["layers"]):
            bad = unknown_key(entry, LAYER_FIELDS)
            if bad:
                raise MicrotrainError(f"{path}: layer {i}: {bad}")
            params = {}
            for p in entry["params"]:
                key = f"{entry['name']}/{p}"
                if key not in arrays:
                    raise MicrotrainError(f"{path}: array {key!r} is missing")
                params[p] = arrays[key]
            layers.append(Layer(entry["name"], entry["op"], list(entry["inputs"]),
                                dict(entry["attrs"]), params))
        return FloatModel(tuple(graph["input_shape"]), layers, graph.get("name", "model"))
    except (KeyError, TypeError) as err:
        raise MicrotrainError(f"{path}: the graph misses a field ({err})") from None
