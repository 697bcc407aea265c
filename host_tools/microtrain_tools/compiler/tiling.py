# SPDX-License-Identifier: MIT
"""Which prefix to stream, in bands of how many rows: chosen from the memory plan.

A segment may end at any layer below the lowest updated one (its activations are never read by
the backward) where only the last layer's output is read after it (stream.cut_ok). For each
such split and band height the arena is estimated as the larger of the segment's working set
(its line buffers and its output) and the peak of the untiled plan from the split's first op
on (what is alive after the segment does not change); the few best are compiled and the
smallest arena kept (fewer band ops on a tie), or no tiling if none is smaller.
"""

from ..errors import MicrotrainError
from .memory import alive_per_op
from .stream import BANDS, Segment, Tiling, cut_ok

TRIED = 3  # estimated-best tilings compiled for their real arena


def max_split(graph, plan) -> int:
    """Layers below the lowest updated one may be streamed (all of them with no plan)."""
    if plan is None:
        return len(graph.layers)
    names = [ly.name for ly in graph.layers]
    return min(names.index(n) for n in plan.updated_layers() if n in names)


def splits(graph, plan) -> list:
    return [i for i in range(1, max_split(graph, plan) + 1) if cut_ok(graph, i)]


def _rest_peaks(untiled) -> dict:
    """split -> the untiled plan's peak over the ops of layers[split:] and the backward."""
    peaks = {}
    names = [ly.name for ly in untiled.graph.layers]
    for ops, layer_at in zip(untiled.symbolic, untiled.layer_at):
        alive = [total for total, _ in alive_per_op(ops, untiled.tensors)]
        suffix = [0] * (len(alive) + 1)
        for i in range(len(alive) - 1, -1, -1):
            suffix[i] = max(alive[i], suffix[i + 1])
        for split in range(1, len(names) + 1):
            start = layer_at[names[split]] if split < len(names) else len(ops)
            peaks[split] = max(peaks.get(split, 0), suffix[start])
    return peaks


def choose_tiling(graph, plan, input_dtype, grad_format, in_place):
    """compile_model with the tiling that gives the smallest arena (None if none helps)."""
    from . import TrainPlan, compile_model

    if plan is not None and not isinstance(plan, TrainPlan):
        plan = TrainPlan.from_policy(plan, grad_format)
    untiled = compile_model(graph, plan, input_dtype, grad_format, in_place, tiling=None)
    candidates = splits(graph, plan)
    if not candidates:
        return untiled
    rest = _rest_peaks(untiled)
    quantized = input_dtype == "float32"
    estimates = []
    for split in candidates:
        h_out = graph.tensors[graph.layers[split - 1].name].shape[0]
        for band in BANDS:
            if band > h_out:
                break
            seg = Segment(graph, Tiling(split, band), quantized)
            ops = len(seg.events)
            estimates.append((max(seg.report().working_set, rest[split]), ops, split, band))
    best = untiled
    for est, _, split, band in sorted(estimates)[:TRIED]:
        if est >= best.arena_size:
            break
        compiled = compile_model(graph, plan, input_dtype, grad_format, in_place,
                                 tiling=Tiling(split, band))
        if compiled.arena_size < best.arena_size:
            best = compiled
    return best


def check_tiling(graph, plan, tiling) -> None:
    """A forced tiling must stream only layers the backward never reads."""
    if tiling.split > max_split(graph, plan) or not cut_ok(graph, tiling.split):
        raise MicrotrainError(
            f"cannot stream layers[:{tiling.split}]: the segment must end below the lowest "
            f"updated layer (index {max_split(graph, plan)}) where only its last layer's "
            f"output is read after it")
