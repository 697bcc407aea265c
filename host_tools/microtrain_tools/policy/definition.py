# SPDX-License-Identifier: MIT
"""The sparse update policy: which parameters learn on the device, and how. See docs/policy.md.

A policy names layers of an Int8Graph (its weight layers: conv2d, dwconv2d, pwconv2d, fc) and
records both the rule a user wrote ("bias of the last N layers", "half the input channels, the
first ones") and what it resolves to on that graph (layer names, channel lists), so the compiler
reads only resolved lists and a reader sees where they came from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MicrotrainError, reading
from ..formats.known_keys import unknown_key
from ..formats.int8_graph import Int8Graph

MAGIC = "microtrain-policy"
VERSION = 1
CHANNEL_RULES = ("first_k", "largest_norm")
BIAS_RULES = ("last_n", "list")
ROUNDINGS = ("truncate", "stochastic", "master_fp32")
LOSSES = ("softmax_ce", "mse")


class PolicyError(MicrotrainError):
    """A policy field is wrong; `field` is its path in the JSON, e.g. "weights[2].fraction"."""

    def __init__(self, field_path: str, message: str):
        super().__init__(f"policy field {field_path!r}: {message}")
        self.field = field_path


@dataclass
class WeightUpdate:
    layer: str  # a weight layer of the graph
    fraction: float  # of its input channels (depthwise: its channels), in (0, 1]
    rule: str = "first_k"  # how the channels were chosen: CHANNEL_RULES
    channels: list[int] = field(default_factory=list)  # resolved, ascending


@dataclass
class Optimizer:
    lr: float = 0.01
    momentum: float = 0.0
    rounding: str = "truncate"  # of the int8 weights after a step: ROUNDINGS
    qas: bool = True  # Quantization-Aware Scaling of the gradients (the paper's eq. 3)


@dataclass
class Policy:
    bias_rule: str = "last_n"  # BIAS_RULES
    bias_n: int = 0  # for "last_n": the last n weight layers of the graph (the head included)
    bias_layers: list[str] = field(default_factory=list)  # resolved, in graph order
    weights: list[WeightUpdate] = field(default_factory=list)  # in graph order
    optimizer: Optimizer = field(default_factory=Optimizer)
    loss: str = "softmax_ce"
    graph_name: str = ""
    note: str = ""  # where it came from, e.g. "paper scheme mcunet-5fps 49kb"

    def updated_layers(self) -> list[str]:
        """Layers whose bias or weights change, in graph order (the bias list covers all)."""
        return list(self.bias_layers)

    def weight_update(self, layer: str) -> WeightUpdate | None:
        return next((w for w in self.weights if w.layer == layer), None)


# ---- resolving rules on a graph --------------------------------------------------------------


def channel_norms(layer) -> np.ndarray:
    """L2 norm of the weights of each input channel (depthwise: each channel)."""
    w = layer.weight.astype(np.float64) * 1.0
    if layer.op == "dwconv2d":
        w = w * layer.arrays["w_scale"]  # real units, so channels compare fairly
        return np.sqrt((w * w).sum(axis=(0, 1)))
    w = w * layer.arrays["w_scale"].reshape((-1,) + (1,) * (w.ndim - 1))
    return np.sqrt((w * w).reshape(-1, w.shape[-1]).sum(axis=0))


def n_channels(fraction: float, total: int) -> int:
    """How many channels a fraction selects: round to nearest, at least one."""
    return max(1, min(total, int(round(fraction * total))))


def select_channels(layer, fraction: float, rule: str) -> list[int]:
    total = layer.c_in
    k = n_channels(fraction, total)
    if rule == "first_k":
        return list(range(k))
    if rule == "largest_norm":
        order = np.argsort(-channel_norms(layer), kind="stable")
        return sorted(int(c) for c in order[:k])
    raise PolicyError("weights[].rule", f"must be one of {CHANNEL_RULES}, got {rule!r}")


def make_policy(graph: Int8Graph, bias_last_n=0, bias_layers=None, weights=(),
                optimizer: Optimizer | None = None, loss="softmax_ce", note="") -> Policy:
    """Build and resolve a policy. weights: (layer name or weight-layer index, fraction, rule).
    Every layer that updates weights also updates its bias."""
    wl = [ly.name for ly in graph.weight_layers()]
    updates = []
    for i, (ref, fraction, rule) in enumerate(weights):
        name = wl[ref] if isinstance(ref, int) else ref
        if name not in wl:
            raise PolicyError(f"weights[{i}].layer", f"{name!r} is not a weight layer")
        if fraction <= 0:
            continue  # a ratio of 0 updates no weights (the bias may still learn)
        ly = graph.layer(name)
        updates.append(WeightUpdate(name, float(fraction), rule,
                                    select_channels(ly, fraction, rule)))
    updates.sort(key=lambda u: wl.index(u.layer))
    if bias_layers is not None:
        rule, n, chosen = "list", 0, set(bias_layers)
    else:
        if not 0 <= bias_last_n <= len(wl):
            raise PolicyError("bias.n", f"must be in [0, {len(wl)}], got {bias_last_n}")
        rule, n, chosen = "last_n", int(bias_last_n), set(wl[len(wl) - bias_last_n:])
    chosen |= {u.layer for u in updates}
    policy = Policy(rule, n, [name for name in wl if name in chosen], updates,
                    optimizer or Optimizer(), loss, graph.name, note)
    validate(policy, graph)
    return policy


# ---- validation ------------------------------------------------------------------------------


def validate(policy: Policy, graph: Int8Graph | None = None) -> None:
    """Check field values, and with a graph, that every name and channel exists there and that
    the resolved lists follow from the rules. Errors name the field."""
    p = policy
    if p.bias_rule not in BIAS_RULES:
        raise PolicyError("bias.rule", f"must be one of {BIAS_RULES}, got {p.bias_rule!r}")
    if not isinstance(p.bias_n, int) or p.bias_n < 0:
        raise PolicyError("bias.n", f"must be a non-negative int, got {p.bias_n!r}")
    if len(set(p.bias_layers)) != len(p.bias_layers):
        raise PolicyError("bias.layers", "lists a layer twice")
    o = p.optimizer
    if not isinstance(o.lr, (int, float)) or not (o.lr > 0 and np.isfinite(o.lr)):
        raise PolicyError("optimizer.lr", f"must be a positive number, got {o.lr!r}")
    if not isinstance(o.momentum, (int, float)) or not 0 <= o.momentum < 1:
        raise PolicyError("optimizer.momentum", f"must be in [0, 1), got {o.momentum!r}")
    if o.rounding not in ROUNDINGS:
        raise PolicyError("optimizer.rounding", f"must be one of {ROUNDINGS}, got {o.rounding!r}")
    if not isinstance(o.qas, bool):
        raise PolicyError("optimizer.qas", f"must be true or false, got {o.qas!r}")
    if p.loss not in LOSSES:
        raise PolicyError("loss", f"must be one of {LOSSES}, got {p.loss!r}")
    seen = set()
    for i, w in enumerate(p.weights):
        where = f"weights[{i}]"
        if w.layer in seen:
            raise PolicyError(f"{where}.layer", f"{w.layer!r} is listed twice")
        seen.add(w.layer)
        if not isinstance(w.fraction, (int, float)) or not 0 < w.fraction <= 1:
            raise PolicyError(f"{where}.fraction", f"must be in (0, 1], got {w.fraction!r}")
        if w.rule not in CHANNEL_RULES:
            raise PolicyError(f"{where}.rule", f"must be one of {CHANNEL_RULES}, got {w.rule!r}")
        if not w.channels or any(not isinstance(c, int) for c in w.channels) \
                or w.channels != sorted(set(w.channels)):
            raise PolicyError(f"{where}.channels", "must be a non-empty ascending list of "
                              "distinct ints")
        if w.layer not in p.bias_layers:
            raise PolicyError("bias.layers", f"must include {w.layer!r}: a layer that updates "
                              "weights also updates its bias")
    if graph is not None:
        _validate_on_graph(p, graph)


def _validate_on_graph(p: Policy, graph: Int8Graph) -> None:
    wl = [ly.name for ly in graph.weight_layers()]
    prev = -1
    for i, w in enumerate(p.weights):
        where = f"weights[{i}]"
        if w.layer not in wl:
            raise PolicyError(f"{where}.layer", f"{w.layer!r} is not a weight layer of graph "
                              f"{graph.name!r}")
        if wl.index(w.layer) <= prev:
            raise PolicyError("weights", "must be in graph order")
        prev = wl.index(w.layer)
        ly = graph.layer(w.layer)
        if w.channels[-1] >= ly.c_in or w.channels[0] < 0:
            raise PolicyError(f"{where}.channels", f"has a channel outside [0, {ly.c_in}) of "
                              f"layer {w.layer!r}")
        if len(w.channels) != n_channels(w.fraction, ly.c_in):
            raise PolicyError(f"{where}.channels", f"has {len(w.channels)} channels; fraction "
                              f"{w.fraction} of {ly.c_in} is {n_channels(w.fraction, ly.c_in)}")
        if w.channels != select_channels(ly, w.fraction, w.rule):
            raise PolicyError(f"{where}.channels", f"are not the ones rule {w.rule!r} selects "
                              f"on layer {w.layer!r}")
    for j, name in enumerate(p.bias_layers):
        if name not in wl:
            raise PolicyError(f"bias.layers[{j}]", f"{name!r} is not a weight layer of graph "
                              f"{graph.name!r}")
    if p.bias_layers != [n for n in wl if n in p.bias_layers]:
        raise PolicyError("bias.layers", "must be in graph order")
    if p.bias_rule == "last_n":
        if p.bias_n > len(wl):
            raise PolicyError("bias.n", f"is {p.bias_n} but graph {graph.name!r} has only "
                              f"{len(wl)} weight layers")
        expected = set(wl[len(wl) - p.bias_n:]) | {w.layer for w in p.weights}
        if set(p.bias_layers) != expected:
            raise PolicyError("bias.layers", f"does not match rule last_n with n={p.bias_n} "
                              "(plus the weight-updated layers)")


# ---- file ------------------------------------------------------------------------------------


def to_json(p: Policy) -> dict:
    return {
        "magic": MAGIC, "version": VERSION, "graph": p.graph_name, "note": p.note,
        "bias": {"rule": p.bias_rule, "n": p.bias_n, "layers": p.bias_layers},
        "weights": [{"layer": w.layer, "fraction": w.fraction, "rule": w.rule,
                     "channels": w.channels} for w in p.weights],
        "optimizer": {"lr": p.optimizer.lr, "momentum": p.optimizer.momentum,
                      "rounding": p.optimizer.rounding, "qas": p.optimizer.qas},
        "loss": p.loss,
    }


def _get(doc, key, path, kind):
    if not isinstance(doc, dict) or key not in doc:
        raise PolicyError(path, "is missing")
    value = doc[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PolicyError(path, f"must be {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


# Every key a policy may hold, per object: any other is a typo that must not pass silently.
KEYS = {"": ("magic", "version", "graph", "note", "bias", "weights", "optimizer", "loss"),
        "bias": ("rule", "n", "layers"), "weights[]": ("layer", "fraction", "rule", "channels"),
        "optimizer": ("lr", "momentum", "rounding", "qas")}


def _known_keys(doc, kind: str, where: str) -> None:
    bad = unknown_key(doc, KEYS[kind]) if isinstance(doc, dict) else None
    if bad:
        raise PolicyError(where or "(top level)", bad)


def from_json(doc) -> Policy:
    if not isinstance(doc, dict) or doc.get("magic") != MAGIC:
        found = doc.get("magic") if isinstance(doc, dict) else None
        raise PolicyError("magic", f"is {found!r}, expected {MAGIC!r}: not a microtrain policy")
    if doc.get("version") != VERSION:
        raise PolicyError("version", f"{doc.get('version')!r} is not supported (this is "
                          f"{VERSION})")
    _known_keys(doc, "", "")
    bias = _get(doc, "bias", "bias", dict)
    _known_keys(bias, "bias", "bias")
    _known_keys(doc.get("optimizer"), "optimizer", "optimizer")
    weights = []
    for i, w in enumerate(_get(doc, "weights", "weights", list)):
        where = f"weights[{i}]"
        _known_keys(w, "weights[]", where)
        weights.append(WeightUpdate(
            _get(w, "layer", f"{where}.layer", str), _get(w, "fraction", f"{where}.fraction",
                                                          float),
            _get(w, "rule", f"{where}.rule", str), _get(w, "channels", f"{where}.channels",
                                                        list)))
    o = _get(doc, "optimizer", "optimizer", dict)
    opt = Optimizer(_get(o, "lr", "optimizer.lr", float),
                    _get(o, "momentum", "optimizer.momentum", float),
                    _get(o, "rounding", "optimizer.rounding", str),
                    _get(o, "qas", "optimizer.qas", bool) if "qas" in o else True)
    layers = _get(bias, "layers", "bias.layers", list)
    for j, name in enumerate(layers):
        if not isinstance(name, str):
            raise PolicyError(f"bias.layers[{j}]", f"must be a layer name, got {name!r}")
    n = _get(bias, "n", "bias.n", int) if "n" in bias else 0
    p = Policy(_get(bias, "rule", "bias.rule", str), n, layers,
               weights, opt, _get(doc, "loss", "loss", str), str(doc.get("graph", "")),
               str(doc.get("note", "")))
    validate(p)
    return p


def dumps(p: Policy) -> str:
    """Indented JSON with lists of names and channels kept on one line each."""
    text = json.dumps(to_json(p), indent=1)
    return re.sub(r"\[([^\[\]{}]*)\]", lambda m: json.dumps(json.loads(m.group(0))), text)


def save_policy(p: Policy, path) -> None:
    Path(path).write_text(dumps(p) + "\n")


def load_policy(path, graph: Int8Graph | None = None) -> Policy:
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise MicrotrainError(f"cannot read policy {path}: {err}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise MicrotrainError(f"{path} is not a policy: damaged JSON ({err})") from None
    with reading(path, "policy"):
        p = from_json(doc)
        if graph is not None:
            validate(p, graph)
    return p
