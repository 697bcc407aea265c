# SPDX-License-Identifier: MIT
"""Which prefix to stream, in bands of how many rows: chosen from the memory plan.

A segment may end at any layer below the lowest updated one (its activations are never read by
the backward) where only the last layer's output is read after it (stream.cut_ok). Each split
is compiled with bands of one row (the smallest line buffers), then with the tallest band
whose working set fits in that arena (fewer ops for the same memory); the smallest arena wins
(fewer ops on a tie), or no tiling if none is smaller than the untiled plan's.
"""

from ..errors import MicrotrainError
from .stream import BANDS, Segment, Tiling, cut_ok

def max_split(graph, plan) -> int:
    """Layers below the lowest updated one may be streamed (all of them with no plan)."""
    if plan is None:
        return len(graph.layers)
    names = [ly.name for ly in graph.layers]
    return min(names.index(n) for n in plan.updated_layers() if n in names)


def splits(graph, plan) -> list:
    return [i for i in range(1, max_split(graph, plan) + 1) if cut_ok(graph, i)]


def choose_tiling(graph, plan, input_dtype, grad_format, in_place):
    """The layout.Sized (arena bytes, op count, tiling) of the tiling that gives the smallest
    arena (tiling None if none helps), from sizing compiles. plan: a TrainPlan or None."""
    from . import compile_model

    def sized(tiling):
        return compile_model(graph, plan, input_dtype, grad_format, in_place, tiling=tiling,
                             sizing=True)

    best = sized(None)
    quantized = input_dtype == "float32"
    for split in splits(graph, plan):
        # Band 1: the smallest working set. While the segment runs nothing else is alive, and
        # what follows it does not depend on the band: a taller band (fewer ops) costs no
        # memory as long as its working set stays within that arena.
        first = sized(Tiling(split, 1))
        h_out = graph.tensors[graph.layers[split - 1].name].shape[0]
        taller = [b for b in BANDS[1:] if b <= h_out and Segment(
            graph, Tiling(split, b), quantized).report().working_set <= first.arena_size]
        candidate = first
        if taller:
            tall = sized(Tiling(split, taller[-1]))
            if tall.arena_size <= first.arena_size:
                candidate = tall
        if _better(candidate, best):
            best = candidate
    return best


def _better(a, b) -> bool:
    """Smaller arena; on a tie, fewer ops."""
    return (a.arena_size, a.n_ops) < (b.arena_size, b.n_ops)


def check_tiling(graph, plan, tiling) -> None:
    """A forced tiling must stream only layers the backward never reads."""
    if tiling.split > max_split(graph, plan) or not cut_ok(graph, tiling.split):
        raise MicrotrainError(
            f"cannot stream layers[:{tiling.split}]: the segment must end below the lowest "
            f"updated layer (index {max_split(graph, plan)}) where only its last layer's "
            f"output is read after it")
