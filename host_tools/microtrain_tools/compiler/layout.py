# SPDX-License-Identifier: MIT
"""Where the compiler puts bytes: blobs (frozen weights, trainable params) and arena tensors.

Ops are emitted with symbolic buffers (an ArenaTensor or a BufRef into a blob or an I/O region);
once the whole program is known, each arena tensor's life is the span of ops that touch it, the
planner places them, and the symbolic buffers become fixed (region, offset, length) references.
"""

from dataclasses import dataclass

import numpy as np

from .planner import ALIGN, Tensor, allow_overlap, plan
from ..formats.program import BufRef, OpCall, Region


class Blob:
    """A region built by appending arrays (each word aligned): the weights or the params."""

    def __init__(self, region: Region):
        self.region = region
        self.data = bytearray()
        self.entries = {}  # name -> BufRef

    def add(self, name: str, array: np.ndarray) -> BufRef:
        if name in self.entries:
            raise ValueError(f"blob entry {name!r} added twice")
        self.data += bytes(-len(self.data) % ALIGN)
        raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        ref = BufRef(self.region, len(self.data), len(raw))
        self.data += raw
        self.entries[name] = ref
        return ref

    def __len__(self):
        return len(self.data)


@dataclass(eq=False)
class ArenaTensor:
    name: str
    size: int
    kind: str  # "activation", "saved", "gradient", "scratch": for the memory report


@dataclass(eq=False)
class ArenaView:
    """Bytes start .. start + size of an arena tensor: a band of rows in a streamed segment's
    line buffer (compiler/stream.py). Lives and is placed with its tensor."""

    tensor: ArenaTensor
    start: int
    size: int

    def __post_init__(self):
        if self.start < 0 or self.size < 0 or self.start + self.size > self.tensor.size:
            raise ValueError(f"view {self.start}+{self.size} outside {self.tensor.name} "
                             f"({self.tensor.size} bytes)")


def arena_tensor(buf):
    """The arena tensor a symbolic buffer is (or is a view of), else None."""
    if isinstance(buf, ArenaView):
        return buf.tensor
    return buf if isinstance(buf, ArenaTensor) else None


class Emitter:
    """Collects the ops of one program over symbolic buffers."""

    def __init__(self):
        self.ops = []  # (OpCall with symbolic bufs)
        self.stages = []  # (label, index of the stage's first op): for the memory report
        self.layer_at = {}  # layer name -> index of its first forward op

    def stage(self, label):
        self.stages.append((label, len(self.ops)))

    def emit(self, name, args, bufs, comment=""):
        self.ops.append(OpCall(name, [int(a) for a in args], list(bufs), comment))


def lifetimes(ops) -> dict:
    """ArenaTensor -> (index of the first op that touches it, index of the last)."""
    lives = {}
    for i, op in enumerate(ops):
        for buf in op.bufs:
            t = arena_tensor(buf)
            if t is not None:
                first, _ = lives.get(t, (i, i))
                lives[t] = (first, i)
    return lives


def _allow_in_place(ops, lives, planned) -> None:
    """Let a conv's output overlap its input where the input dies there and that is safe."""
    from .inplace import CONV_OPS, safe_deltas

    for i, op in enumerate(ops):
        if op.name not in CONV_OPS:
            continue
        x, y = op.bufs[2], op.bufs[5]
        if not (isinstance(x, ArenaTensor) and isinstance(y, ArenaTensor)):
            continue
        if lives[x][1] != i or lives[y][0] != i:
            continue  # the input is read later (a residual, a saved activation): keep it
        for delta in safe_deltas(op.name, tuple(op.args)):
            allow_overlap(planned[x], planned[y], delta)


def place(programs, pinned=(), sizes_out=None, in_place=True, tries=0) -> tuple[int, dict]:
    """Plan the arena tensors of several programs that share one arena (run one at a time).

    programs: lists of OpCalls with symbolic buffers. Each program's tensors live within that
    program; the arena is the largest of the plans. Returns (arena size, tensor -> offset).
    Tensors in `pinned` live for every op of every program (e.g. a buffer kept between calls).
    tries: more placement orders to look through (planner.plan).
    """
    arena_size, offsets = 0, {}
    for ops in programs:
        lives = lifetimes(ops)
        for t in pinned:
            lives[t] = (0, max(len(ops) - 1, 0))
        tensors = [Tensor(t.name, t.size, a, b) for t, (a, b) in lives.items()]
        if in_place:
            _allow_in_place(ops, lives, dict(zip(lives, tensors)))
        size = plan(tensors, tries)
        for t, placed in zip(lives, tensors):
            if t in offsets and offsets[t] != placed.offset:
                raise ValueError(f"tensor {t.name} placed differently in two programs")
            offsets[t] = placed.offset
        arena_size = max(arena_size, size)
        if sizes_out is not None:
            sizes_out.append(size)
    return arena_size, offsets


@dataclass
class Sized:
    """What compile_model(..., sizing=True) gives: the arena and op count of a compile, for
    choosing between plans (compiler/auto.py), without the programs."""

    arena_size: int
    n_ops: int  # predict + learn
    tiling: object  # the stream.Tiling compiled with, or None
    plan: object  # the TrainPlan compiled with, or None


def resolve(ops, offsets) -> list:
    """Replace arena tensors by fixed references."""
    out = []
    for op in ops:
        bufs = [
            BufRef(Region.ARENA, offsets[b], b.size) if isinstance(b, ArenaTensor)
            else BufRef(Region.ARENA, offsets[b.tensor] + b.start, b.size)
            if isinstance(b, ArenaView) else b
            for b in op.bufs
        ]
        out.append(OpCall(op.name, op.args, bufs, op.comment))
    return out
