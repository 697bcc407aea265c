# SPDX-License-Identifier: MIT
"""The paper's int8 models (../shared/data/paper_models, see its PROVENANCE.md) as Int8Graphs,
and the paper's sparse update schemes as Policies.

The .pkl files are read in place with a restricted unpickler (a pickle can run code): only
numpy's array reconstruction, numpy.ndarray, numpy.dtype and codecs.encode may be named.
"""

from __future__ import annotations

import codecs
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

from ..errors import MicrotrainError, reading
from ..formats.int8_graph import (
    Int8Graph,
    Int8Layer,
    Tensor,
    act_range,
    add_requant,
    conv_requant,
    ADD_LEFT_SHIFT,
)
from ..formats.model import INPUT, conv_out_size
from ..paths import ROOT
from ..policy.definition import Optimizer, Policy, make_policy
from .new_head import head_layer

DATA_DIR = ROOT.parent / "shared" / "data" / "paper_models"
MODELS = ("mcunet-5fps", "mbv2-w0.35", "proxyless-w0.3")

# The schemes of PROVENANCE.md: (n_bias_update, body conv indices, ratios of input channels).
SCHEMES = {
    ("mcunet-5fps", "49kb"): (20, [23, 24, 27, 30, 33, 39], [0, 0.25, 0.5, 0.5, 0, 0]),
    ("mcunet-5fps", "99kb"): (22, [21, 24, 27, 30, 36, 39], [1, 1, 1, 1, 0.125, 0.25]),
    ("mbv2-w0.35", "99kb"): (25, [27, 30, 33, 36, 39, 42, 45, 48],
                             [1, 1, 1, 1, 1, 0.125, 0.5, 1]),
    ("proxyless-w0.3", "98kb"): (25, [36, 39, 42, 45, 48, 51, 54, 57],
                                 [1, 0.5, 1, 1, 0.25, 0.5, 1, 1]),
}


# ---- the restricted unpickler ----------------------------------------------------------------


# The paper's data.pkl files are 0.6-1.0 MB: anything far larger is refused before it is read
# (a zip bomb inflates a few kB into gigabytes), and so is an array shape asking for more.
MAX_PICKLE_BYTES = 64 << 20


def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy 1
        from numpy.core.multiarray import _reconstruct

    def bounded(cls, shape, dtype):
        count = 1
        for n in shape if isinstance(shape, tuple) else (shape,):
            count *= max(int(n), 0)
        if count > MAX_PICKLE_BYTES:
            raise pickle.UnpicklingError(f"refused an array of {count} elements")
        return _reconstruct(cls, shape, dtype)

    return bounded


# (module, name) -> the object; numpy 2 moved numpy.core to numpy._core, accept both spellings.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("_codecs", "encode"): lambda: codecs.encode,
    ("codecs", "encode"): lambda: codecs.encode,
}


class ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain data and numpy arrays; refuses every other global."""

    def find_class(self, module, name):
        maker = _ALLOWED.get((module, name))
        if maker is None:
            raise pickle.UnpicklingError(
                f"refused to load {module}.{name}: only numpy arrays and plain data are allowed")
        return maker()

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refused a persistent id: not a plain-data pickle")


def loads_restricted(data: bytes):
    try:
        return ArrayOnlyUnpickler(io.BytesIO(data)).load()
    except pickle.UnpicklingError as err:
        raise MicrotrainError(f"unsafe or damaged pickle: {err}") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as err:
        raise MicrotrainError(f"damaged pickle: {type(err).__name__}: {err}") from None


def load_pickle(path) -> dict:
    """The dict inside one of the paper's .pkl files (a zip holding */data.pkl)."""
    path = Path(path)
    with reading(path, "paper model (.pkl)"):
        return _load_pickle(path)


def _load_pickle(path: Path) -> dict:
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
            if len(names) != 1:
                raise MicrotrainError(f"{path}: expected one data.pkl in the archive, found "
                                      f"{names or 'none'}")
            size = z.getinfo(names[0]).file_size
            if size > MAX_PICKLE_BYTES:
                raise MicrotrainError(f"{path}: {names[0]} inflates to {size} bytes, larger than "
                                      f"the {MAX_PICKLE_BYTES} a paper model may be")
            with z.open(names[0]) as f:  # the size field may lie: never read past the bound
                data = f.read(MAX_PICKLE_BYTES + 1)
            if len(data) > MAX_PICKLE_BYTES:
                raise MicrotrainError(f"{path}: {names[0]} is larger than {MAX_PICKLE_BYTES} "
                                      "bytes")
    except FileNotFoundError:
        raise MicrotrainError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise MicrotrainError(f"{path} is not a paper model (damaged zip: {err})") from None
    obj = loads_restricted(data)
    if not isinstance(obj, dict) or not {"first_conv", "blocks", "classifier"} <= set(obj):
        raise MicrotrainError(f"{path}: not a paper model (no first_conv/blocks/classifier)")
    return obj


def model_path(name: str) -> Path:
    if name not in MODELS:
        raise MicrotrainError(f"unknown paper model {name!r}; known: {', '.join(MODELS)}")
    return DATA_DIR / f"{name}.pkl"


# ---- conversion ------------------------------------------------------------------------------


class _Builder:
    def __init__(self, name):
        self.name = name
        self.tensors: dict[str, Tensor] = {}
        self.layers: list[Int8Layer] = []

    def check_input(self, tensor: str, scale: float, zero: int, where: str):
        t = self.tensors[tensor]
        if not (np.isclose(t.scale, scale, rtol=1e-6) and t.zero_point == zero):
            raise MicrotrainError(f"{self.name} {where}: input quantization ({scale}, {zero}) "
                                  f"differs from its producer's ({t.scale}, {t.zero_point})")

    def conv(self, name: str, src: str, conv: dict) -> str:
        p = conv["params"]
        self.check_input(src, float(p["x_scale"]), int(p["x_zero"]), name)
        h, w, c = self.tensors[src].shape
        kh, kw = conv["kernel_size"]
        stride = int(conv["stride"])
        pad = (kh // 2, kw // 2)
        wt = np.asarray(p["weight"], dtype=np.int8)  # OIHW
        depthwise = bool(conv.get("depthwise")) or conv["groups"] != 1
        if depthwise:
            if conv["groups"] != c or wt.shape != (c, 1, kh, kw):
                raise MicrotrainError(f"{self.name} {name}: depthwise weight {wt.shape} does "
                                      f"not fit {c} channels")
            weight, op, co = np.ascontiguousarray(wt[:, 0].transpose(1, 2, 0)), "dwconv2d", c
        else:
            if wt.shape[1] != c:
                raise MicrotrainError(f"{self.name} {name}: weight {wt.shape} does not fit "
                                      f"{c} input channels")
            weight, co = np.ascontiguousarray(wt.transpose(0, 2, 3, 1)), wt.shape[0]
            op = "pwconv2d" if (kh, kw, stride) == (1, 1, 1) else "conv2d"
        oh, ow = conv_out_size(h, kh, stride, pad[0]), conv_out_size(w, kw, stride, pad[1])
        if "out_shape" in conv and conv["out_shape"] != oh:
            raise MicrotrainError(f"{self.name} {name}: output size {oh} differs from the "
                                  f"file's {conv['out_shape']}")
        y_scale, y_zero = float(p["y_scale"]), int(p["y_zero"])
        self.tensors[name] = Tensor(name, (oh, ow, co), y_scale, y_zero)
        # No activation op in these files: an output range starting at 0 is ReLU6 by saturation.
        act = "relu6" if y_zero == -128 else "none"
        lo, hi = act_range(act, y_scale, y_zero)
        w_scale = np.asarray(p["w_scales"], dtype=np.float32).reshape(-1)
        mult, shift = conv_requant(float(p["x_scale"]), w_scale, y_scale)
        attrs = {"act": act, "act_min": lo, "act_max": hi, "kernel": (kh, kw),
                 "stride": (stride, stride), "padding": (0, 0) if op == "pwconv2d" else pad}
        arrays = {"weight": weight, "bias": np.asarray(p["bias"], np.int32).reshape(-1),
                  "w_scale": w_scale, "multiplier": mult, "shift": shift}
        self.layers.append(Int8Layer(name, op, [src], attrs, arrays))
        return name

    def add(self, name: str, a: str, b: str, res: dict) -> str:
        p = res["params"]
        self.check_input(b, float(p["x_scale"]), int(p["x_zero"]), name)
        t_a, t_b = self.tensors[a], self.tensors[b]
        y_scale, y_zero = float(p["y_scale"]), int(p["y_zero"])
        self.tensors[name] = Tensor(name, t_a.shape, y_scale, y_zero)
        mult, shift = add_requant(t_a.scale, t_b.scale, y_scale)
        attrs = {"act": "none", "act_min": -128, "act_max": 127, "left_shift": ADD_LEFT_SHIFT}
        self.layers.append(Int8Layer(name, "add", [a, b], attrs,
                                     {"multiplier": mult, "shift": shift}))
        return name

    def passthrough(self, name: str, op: str, src: str, shape) -> str:
        t = self.tensors[src]
        self.tensors[name] = Tensor(name, shape, t.scale, t.zero_point)
        attrs = {"act": "none", "act_min": -128, "act_max": 127}
        self.layers.append(Int8Layer(name, op, [src], attrs, {}))
        return name


def convert(raw: dict, name: str = "paper_model", classes: int = 10, seed: int = 0) -> Int8Graph:
    """The paper's model dict -> Int8Graph, its 1000-class classifier replaced by a new fc head
    with `classes` outputs. Body layers are named conv0.. in the paper's conv order."""
    b = _Builder(name)
    first = raw["first_conv"]
    fp = first["params"]
    size = int(first["in_shape"])
    b.tensors[INPUT] = Tensor(INPUT, (size, size, int(first["in_channel"])),
                              float(fp["x_scale"]), int(fp["x_zero"]))
    convs = iter(f"conv{i}" for i in range(10_000))
    x = b.conv(next(convs), INPUT, first)
    n_add = 0
    for i, block in enumerate(raw["blocks"]):
        if block.get("se") is not None:
            raise MicrotrainError(f"{name} block {i}: squeeze-excitation is not supported")
        block_in = x
        for key in ("pointwise1", "depthwise", "pointwise2"):
            if block.get(key) is not None:
                x = b.conv(next(convs), x, block[key])
        if block.get("residual") is not None:
            x = b.add(f"add{n_add}", x, block_in, block["residual"])
            n_add += 1
    if raw.get("feature_mix") is not None:
        x = b.conv(next(convs), x, raw["feature_mix"])
    h, w, c = b.tensors[x].shape
    x = b.passthrough("pool", "avgpool", x, (1, 1, c))
    cls = raw["classifier"]["params"]
    b.check_input(x, float(cls["x_scale"]), int(cls["x_zero"]), "classifier")
    out, head = head_layer(b.tensors[x], classes, seed)
    b.tensors[out.name] = out
    b.layers.append(head)
    meta = {"source": f"paper model {name}", "head": {"classes": classes, "seed": seed,
                                                      "replaces": "1000-class classifier"}}
    return Int8Graph(b.tensors, b.layers, name, meta)


def load_paper_model(name: str, classes: int = 10, seed: int = 0, path=None) -> Int8Graph:
    """One of MODELS, read in place from ../shared/data/paper_models (or `path`)."""
    path = Path(path) if path else model_path(name)
    with reading(path, "paper model (.pkl)"):
        return convert(load_pickle(path), name, classes, seed)


def body_layers(graph: Int8Graph):
    """The paper's body convs: every weight layer except the head."""
    return [ly for ly in graph.weight_layers() if ly.name != "head"]


def body_stats(graph: Int8Graph) -> dict:
    body = body_layers(graph)
    return {
        "convs": len(body),
        "adds": sum(ly.op == "add" for ly in graph.layers),
        "weights": sum(int(ly.weight.size) for ly in body),
        "macs": sum(graph.macs(ly) for ly in body),
    }


# ---- the paper's schemes as policies ---------------------------------------------------------


def paper_policy(model_name: str, scheme_name: str, graph: Int8Graph | None = None,
                 rule: str = "first_k", optimizer: Optimizer | None = None) -> Policy:
    """A scheme of PROVENANCE.md as a Policy on the converted model. The paper counts
    n_bias_update over body convs and always updates the classifier, so bias.n = n + 1 here
    (the head is the last weight layer) and the head updates all its weights. rule: "first_k"
    (the paper's engine) or "largest_norm" (its simulator)."""
    key = (model_name, scheme_name)
    if key not in SCHEMES:
        known = ", ".join(f"{m}/{s}" for m, s in SCHEMES)
        raise MicrotrainError(f"unknown paper scheme {model_name}/{scheme_name}; known: {known}")
    n_bias, idx, ratios = SCHEMES[key]
    graph = graph or load_paper_model(model_name)
    body = body_layers(graph)
    weights = [(body[i].name, r, rule) for i, r in zip(idx, ratios)]
    weights.append(("head", 1.0, rule))
    return make_policy(graph, bias_last_n=n_bias + 1, weights=weights, optimizer=optimizer,
                       note=f"paper scheme {model_name} {scheme_name} ({rule})")
