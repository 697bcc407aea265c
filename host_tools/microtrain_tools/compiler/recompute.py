# SPDX-License-Identifier: MIT
"""Save or recompute: the whole input a weight update reads, kept from the forward or rebuilt.

A layer that updates all its input channels reads its whole input activation in the backward;
keeping it from the forward holds it through every update above. It can instead be recomputed
right before the update from a tensor the backward keeps anyway (the saved input of a lower
update), through the few frozen-so-far layers between: in the backward those layers are below
the one being updated, so their weights and biases are still the forward's and the recomputed
bytes are the forward's. The compiler tries each such input and keeps a recompute only where the
compiled arena gets smaller (the recomputed layers' MACs are the price, reported).
"""

from dataclasses import dataclass, replace

from ..errors import MicrotrainError
from ..formats.model import INPUT
from . import forward

MAX_LAYERS = 6  # a recompute longer than this costs more MACs than it is likely to save


@dataclass(frozen=True)
class Recompute:
    layer: str  # the weight layer whose input is rebuilt before its update
    layers: tuple  # the layers run again, in graph order
    sources: tuple  # tensors they read that the backward keeps anyway
    macs: int


def whole_input_layers(graph, plan) -> list:
    """Weight layers that update every input channel (their whole input is saved)."""
    out = []
    for name, channels in plan.weight_channels.items():
        ly = graph.layer(name)
        if ly.op != "fc" and len(channels) == graph.tensors[ly.inputs[0]].shape[-1]:
            out.append(name)
    return out


def layer_macs(graph, ly) -> int:
    if ly.op not in ("conv2d", "pwconv2d", "dwconv2d"):
        return 0
    h, w, c_out = graph.tensors[ly.name].shape
    f = forward.filter_dims(ly)
    return h * w * c_out * f[1] * f[2] * (1 if ly.op == "dwconv2d" else f[3])


def plan_recompute(graph, plan, name) -> Recompute | None:
    """How to rebuild layer `name`'s input from inputs of lower whole-input updates that are
    kept (not themselves recomputed), or None."""
    index = {ly.name: i for i, ly in enumerate(graph.layers)}
    kept = {graph.layer(n).inputs[0] for n in whole_input_layers(graph, plan)
            if n not in plan.recompute and index[n] < index[name]}
    compact = {n for n, ch in plan.weight_channels.items()
               if len(ch) < graph.tensors[graph.layer(n).inputs[0]].shape[-1]}
    need, layers, sources = [graph.layer(name).inputs[0]], {}, set()
    while need:
        t = need.pop()
        if t in kept:
            sources.add(t)
            continue
        if t == INPUT or t in layers:
            if t == INPUT:
                return None
            continue
        ly = graph.layer(t)
        if ly.op not in forward.FORWARD or ly.name in compact or len(layers) >= MAX_LAYERS:
            return None
        layers[t] = ly
        need.extend(ly.inputs)
    order = tuple(ly.name for ly in graph.layers if ly.name in layers)
    return Recompute(name, order, tuple(sorted(sources)),
                     sum(layer_macs(graph, layers[n]) for n in order))


def choose_recompute(graph, plan, compile_fn, best):
    """Greedily add recomputes (largest saved input first) while the arena shrinks: (plan,
    compiled)."""
    names = sorted(whole_input_layers(graph, plan),
                   key=lambda n: -_size(graph, graph.layer(n).inputs[0]))
    for name in names:
        trial = replace(plan, recompute=plan.recompute | {name})
        try:
            check_recompute(graph, trial)  # this one, and those that read its input still can
        except MicrotrainError:
            continue
        compiled = compile_fn(trial)
        if compiled.arena_size < best.arena_size:
            plan, best = trial, compiled
    return plan, best


def _size(graph, tensor) -> int:
    h, w, c = graph.tensors[tensor].shape
    return h * w * c


def check_recompute(graph, plan) -> list:
    """The Recompute of each layer the plan names; an error for one that cannot be."""
    out = []
    for name in sorted(plan.recompute):
        if name not in whole_input_layers(graph, plan):
            raise MicrotrainError(f"recompute {name!r}: not a layer updating its whole input")
        r = plan_recompute(graph, plan, name)
        if r is None:
            raise MicrotrainError(f"recompute {name!r}: its input cannot be rebuilt from "
                                  f"tensors the backward keeps within {MAX_LAYERS} layers")
        out.append(r)
    return out
