# SPDX-License-Identifier: MIT
"""A fresh classifier for an imported int8 graph: `microtrain import ... --new-head N`.

An imported model classifies its publisher's classes; to learn the user's own, its last fc is
replaced by an N-class fc reading the same features. The new head starts as a fine-tune head
usually does: seeded small normal weights (std 1/sqrt(c_in), so logits start near zero and every
class gets a gradient), zero bias, and an output quantized for logits in [-8, 8] (wide enough
for confident logits, fine enough that a step of the loss still shows).
"""

from __future__ import annotations

import copy

import numpy as np

from ..errors import MicrotrainError
from ..formats.int8_graph import Int8Graph, Int8Layer, Tensor, conv_requant
from ..quantize.ptq import quantize_weights

LOGIT_RANGE = 8.0
MAX_CLASSES = 4096


def head_arrays(c_in: int, classes: int, seed: int = 0, logit_range: float = LOGIT_RANGE):
    """(int8 weight (classes, c_in), per-channel w_scale, output scale, output zero point)."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((classes, c_in)) / np.sqrt(c_in)
    wq, w_scale = quantize_weights(w, depthwise=False)
    return wq, w_scale, 2 * logit_range / 255.0, 0


def head_layer(src: Tensor, classes: int, seed: int = 0, name: str = "head"):
    """(output Tensor, fc Int8Layer) of a fresh head reading the (1, 1, c) tensor src."""
    wq, w_scale, y_scale, y_zero = head_arrays(src.shape[2], classes, seed)
    out = Tensor(name, (1, 1, classes), y_scale, y_zero)
    mult, shift = conv_requant(src.scale, w_scale, y_scale)
    layer = Int8Layer(name, "fc", [src.name], {"act": "none", "act_min": -128, "act_max": 127},
                      {"weight": wq, "bias": np.zeros(classes, np.int32), "w_scale": w_scale,
                       "multiplier": mult, "shift": shift})
    return out, layer


def replace_head(graph: Int8Graph, classes: int, seed: int = 0) -> Int8Graph:
    """A copy of graph whose last layer, an fc, is a fresh `classes`-way head named "head"."""
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)):
        raise MicrotrainError(f"new head: classes must be an integer, got {classes!r}")
    if not 2 <= classes <= MAX_CLASSES:
        raise MicrotrainError(f"new head: {classes} classes; a classifier needs 2 to "
                              f"{MAX_CLASSES}")
    last = graph.layers[-1]
    if last.op != "fc":
        raise MicrotrainError(
            f"new head: {graph.name}'s last layer {last.name!r} is a {last.op}, not a fully "
            "connected classifier; only a model ending in an fc (after its pooling / flatten) "
            "can take a new head")
    src = graph.tensors[last.inputs[0]]
    old_classes = last.c_out
    out, layer = head_layer(src, int(classes), seed)
    tensors = {k: t for k, t in graph.tensors.items() if k != last.name}
    tensors[out.name] = out
    meta = {k: v for k, v in graph.meta.items() if k != "logits_tensor"}  # no longer the file's
    meta["head"] = {"classes": int(classes), "seed": seed,
                    "replaces": f"{old_classes}-class {last.name!r} of the imported model"}
    body = copy.deepcopy(graph.layers[:-1])  # the caller's graph stays as it was
    return Int8Graph(tensors, [*body, layer], graph.name, meta)
