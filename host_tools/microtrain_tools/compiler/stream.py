# SPDX-License-Identifier: MIT
"""Streamed forward of the frozen prefix: the first layers computed band by band.

The layers below every layer the backward touches keep no activation for the backward, so their
forward may run in any order that gives the same bytes. A streamed segment (layers[:split])
runs in bands of `band` rows of its last layer's output, full width. Each tensor inside the
segment lives in a line buffer holding only the rows some consumer still needs: rows a layer's
window shares with the next band (the halo) are kept, not recomputed (0 recomputed MACs), and
shifted to the buffer's front before the layer writes its next rows. The segment's output is a
whole tensor, written band by band; the int8 input is read where the caller has it (a float
input is quantized band by band into a line buffer).

Every band op is an ordinary op of the table on a range of rows, checked by the executor as any
op: conv-shaped ops with the band's input rows, top padding and output rows (the kernels'
padded taps read the zero point; a band's bottom padding is the tensor's own), the add and the
input quantizer on rows, and the line-buffer shift as mt_chansel_s8_fwd with every channel
(a forward byte copy: inplace.shift_safe). Nothing new is computed on the device: each output
byte is the kernel's arithmetic on the same window, so a streamed program equals the
unstreamed one byte for byte (tests/test_stream.py, tests/test_programs_per_arch.py).
"""

from dataclasses import dataclass, field, replace

from ..errors import MicrotrainError
from ..formats.model import INPUT
from ..formats.program import BufRef, OpCall, Region
from . import forward
from .backward import EMPTY
from .inplace import shift_safe
from .layout import ArenaTensor, ArenaView, Emitter, lifetimes

STREAMABLE = ("conv2d", "pwconv2d", "dwconv2d", "add")
BANDS = (1, 2, 4, 8, 16)  # band heights the compiler tries, in output rows of the segment
ALIGN = 4


@dataclass(frozen=True)
class Tiling:
    """Stream layers[:split] in bands of `band` output rows of layers[split - 1]."""

    split: int
    band: int


@dataclass
class TilingReport:
    """What a tiling costs, for `microtrain mem` and the README."""

    tiling: Tiling
    segment_end: str  # name of the last streamed layer
    n_sweeps: int  # passes over the layers, each making up to `band` rows of each
    line_buffers: dict  # tensor name -> bytes of its line buffer
    output_bytes: int  # the segment's output, a whole tensor
    extra_ops: int = 0  # ops the bands add over one op per layer (per program run)
    shifted_bytes: int = 0  # bytes the line-buffer shifts copy per run
    recomputed_macs: int = 0  # always 0: the halo is kept, not recomputed

    @property
    def working_set(self) -> int:
        return sum(self.line_buffers.values()) + self.output_bytes


def _aligned(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


def input_rows(graph, ly, a, b):
    """Rows of ly's input(s) that output rows [a, b) read (clipped to the input)."""
    if ly.op == "add":
        return a, b
    in_h = graph.tensors[ly.inputs[0]].shape[0]
    k = forward.filter_dims(ly)[1]
    s, p = ly.attrs["stride"][0], ly.attrs["padding"][0]
    return max(0, a * s - p), min(in_h, (b - 1) * s - p + k)


def cut_ok(graph, split) -> bool:
    """Can layers[:split] be one segment: all streamable, and only the last one's output (not
    the input, no other tensor of the segment) read after it."""
    if split < 1 or split > len(graph.layers):
        return False
    if any(ly.op not in STREAMABLE for ly in graph.layers[:split]):
        return False
    return single_exit(graph, split)


def single_exit(graph, split) -> bool:
    """Is the output of layers[split - 1] the only tensor of layers[:split] (or the input)
    that a layer after them reads?"""
    inside = {INPUT} | {ly.name for ly in graph.layers[:split]}
    last = graph.layers[split - 1].name
    return all(src == last or src not in inside
               for ly in graph.layers[split:] for src in ly.inputs)


@dataclass
class _Buffer:
    """A tensor of the segment as a line buffer: rows base .. hi held from byte 0."""

    name: str
    row_bytes: int
    rows: int  # capacity in rows
    tensor: object = None
    base: int = 0
    hi: int = 0
    whole: bool = False  # the segment's output: every row at its own place


@dataclass(frozen=True)
class _Event:
    """Produce rows lo..hi of `name`; rows below need_lo are read by no consumer any more."""

    name: str
    lo: int
    hi: int
    need_lo: int


# A schedule depends only on the segment's geometry (the key below), and choosing a tiling (and
# a policy search, candidate after candidate) builds the same segments again and again.
_SCHEDULES = {}
_SCHEDULES_KEPT = 256
_FOOTPRINTS = {}  # the same key -> Segment._footprint()
_PLACEHOLDER = OpCall("(segment footprint)", [], [])  # an op that touches nothing


def _geometry(graph, layers, tiling, quantized_input) -> tuple:
    def rows(ly):
        if ly.op == "add":
            return None
        return (forward.filter_dims(ly)[1], ly.attrs["stride"][0], ly.attrs["padding"][0])

    return (tiling, quantized_input, tuple(graph.tensors[INPUT].shape), tuple(
        (ly.name, ly.op, tuple(ly.inputs), tuple(graph.tensors[ly.name].shape), rows(ly))
        for ly in layers))


class Segment:
    def __init__(self, graph, tiling: Tiling, quantized_input: bool):
        if not cut_ok(graph, tiling.split):
            raise MicrotrainError(f"layers before index {tiling.split} cannot be streamed")
        if tiling.band < 1:
            raise MicrotrainError(f"band of {tiling.band} rows")
        self.g = graph
        self.tiling = tiling
        self.layers = graph.layers[: tiling.split]
        self.last = self.layers[-1].name
        self.quantized_input = quantized_input
        self.order = ([INPUT] if quantized_input else []) + [ly.name for ly in self.layers]
        self.consumers = {}  # tensor -> layers of the segment reading it
        for ly in self.layers:
            for src in ly.inputs:
                self.consumers.setdefault(src, []).append(ly)
        key = _geometry(graph, self.layers, tiling, quantized_input)
        if key not in _SCHEDULES:
            if len(_SCHEDULES) >= _SCHEDULES_KEPT:
                del _SCHEDULES[next(iter(_SCHEDULES))]  # the oldest
            events, sweeps = self._schedule()
            _SCHEDULES[key] = (tuple(events), sweeps, self._capacities(events))
        self.events, self.n_sweeps, self._caps = _SCHEDULES[key]

    def height(self, name) -> int:
        return self.g.tensors[name].shape[0]

    def row_bytes(self, name) -> int:
        h, w, c = self.g.tensors[name].shape
        return w * c

    def _in_buffer(self, src) -> bool:
        """Is src a tensor of the segment (not the int8 input read from the caller's x)?"""
        return src != INPUT or self.quantized_input

    def _need_lo(self, name, done) -> int:
        """The lowest row of `name` a consumer still reads, given the rows each has made."""
        lo = self.height(name)
        for c in self.consumers.get(name, []):
            if done[c.name] < self.height(c.name):
                lo = min(lo, input_rows(self.g, c, done[c.name], done[c.name] + 1)[0])
        return lo

    def _ready(self, name, done) -> int:
        """How many rows of `name` its inputs allow."""
        if name == INPUT:
            return self.height(INPUT)
        ly = self.g.layer(name)
        rows = done[name]
        while rows < self.height(name):
            hi = input_rows(self.g, ly, rows, rows + 1)[1]
            if any(self._in_buffer(s) and done[s] < hi for s in ly.inputs):
                break
            rows += 1
        return rows

    def _schedule(self):
        """A push pipeline: sweep the layers in order, each making up to `band` more rows of
        its output from the rows its inputs have; a consumer reads at least as many input
        rows per sweep as its producer makes, so every line buffer stays a few rows tall."""
        done = {n: 0 for n in self.order}
        events, sweeps = [], 0
        while done[self.last] < self.height(self.last):
            sweeps += 1
            progress = False
            for n in self.order:
                hi = min(self._ready(n, done), done[n] + self.tiling.band)
                if hi > done[n]:
                    events.append(_Event(n, done[n], hi, min(self._need_lo(n, done), done[n])))
                    done[n] = hi
                    progress = True
            if not progress:
                raise MicrotrainError(f"streamed segment {self.last}: no layer can advance")
        return events, sweeps

    def capacities(self) -> dict:
        """Rows each line buffer must hold (the segment's output: all of it)."""
        return dict(self._caps)

    def _capacities(self, events) -> dict:
        caps = {n: 0 for n in self.order}
        for ev in events:
            caps[ev.name] = max(caps[ev.name], ev.hi - ev.need_lo)
        caps[self.last] = self.height(self.last)
        return caps

    def report(self) -> TilingReport:
        caps = self.capacities()
        lines = {n: _aligned(caps[n] * self.row_bytes(n)) for n in self.order if n != self.last}
        h, w, c = self.g.tensors[self.last].shape
        return TilingReport(self.tiling, self.last, self.n_sweeps, lines, _aligned(h * w * c))

    # ---- emission --------------------------------------------------------------------------
    def tensors(self, activation) -> dict:
        """Name -> the arena tensor holding it: a line buffer, or `activation(name)` for the
        segment's output (a whole tensor)."""
        caps = self.capacities()
        return {n: activation(n) if n == self.last else ArenaTensor(
            f"line_{n}", caps[n] * self.row_bytes(n), "line buffer") for n in self.order}

    def emit(self, e: Emitter, x_ref, activation, layer_refs) -> TilingReport:
        """Emit the bands; `activation(name)` gives the arena tensor of the segment's output,
        layer_refs[name] a layer's weight buffers. Returns the report with the op and shift
        counts of this emission."""
        return self._emit(e, x_ref, self.tensors(activation), layer_refs)

    def _emit(self, e: Emitter, x_ref, tensors, layer_refs) -> TilingReport:
        self.layer_refs = layer_refs
        rep = self.report()
        caps = self.capacities()
        bufs = {n: _Buffer(n, self.row_bytes(n), caps[n], t, whole=n == self.last)
                for n, t in tensors.items()}
        start = len(e.ops)
        for ev in self.events:
            b = bufs[ev.name]
            if not b.whole and ev.hi > b.base + b.rows:
                rep.shifted_bytes += self._shift(e, b, ev.need_lo)
            self._produce(e, ev.name, b, ev.hi, bufs, x_ref)
        rep.extra_ops = len(e.ops) - start - len(self.order)
        return rep

    def emit_footprint(self, e: Emitter, x_ref, activation, layer_refs) -> TilingReport:
        """As many ops as emit() gives, touching the same arena tensors first and last at the
        same places, and nothing else: the arena planner sees the same lifetimes, so a compile
        that only sizes its arena (compiler/auto.py makes ~30 per policy) gets the bytes emit()
        would give without building the band ops again. The footprint comes from one real
        emission, kept per segment geometry. Its ops are placeholders, never run or resolved."""
        key = _geometry(self.g, self.layers, self.tiling, self.quantized_input)
        if key not in _FOOTPRINTS:
            if len(_FOOTPRINTS) >= _SCHEDULES_KEPT:
                del _FOOTPRINTS[next(iter(_FOOTPRINTS))]  # the oldest
            _FOOTPRINTS[key] = self._footprint(x_ref, layer_refs)
        n_ops, touches, rep = _FOOTPRINTS[key]
        tensors = self.tensors(activation)
        start = len(e.ops)
        e.ops.extend([_PLACEHOLDER] * n_ops)
        for at, names in touches:
            e.ops[start + at] = OpCall(_PLACEHOLDER.name, [], [tensors[n] for n in names])
        return replace(rep, line_buffers=dict(rep.line_buffers))

    def _footprint(self, x_ref, layer_refs) -> tuple:
        """(the op count of emit(), ((op index, names of the tensors first or last touched
        there), ...), its report), from one real emission into a scratch program."""
        tensors = self.tensors(lambda n: ArenaTensor(n, self.row_bytes(n) * self.height(n),
                                                     "activation"))
        scratch = Emitter()
        rep = self._emit(scratch, x_ref, tensors, layer_refs)
        name_of = {t: n for n, t in tensors.items()}
        touches = {}
        for t, (first, last) in lifetimes(scratch.ops).items():
            for at in sorted({first, last}):
                touches.setdefault(at, []).append(name_of[t])
        return len(scratch.ops), tuple(sorted((at, tuple(names))
                                              for at, names in touches.items())), rep

    def _view(self, b: _Buffer, lo, hi):
        if b.whole:
            return ArenaView(b.tensor, lo * b.row_bytes, (hi - lo) * b.row_bytes)
        if lo < b.base or hi > b.base + b.rows:
            raise MicrotrainError(f"streamed segment: rows {lo}..{hi} of {b.name} are not in "
                                  f"its line buffer ({b.base}..{b.base + b.rows})")
        return ArenaView(b.tensor, (lo - b.base) * b.row_bytes, (hi - lo) * b.row_bytes)

    def _shift(self, e, b: _Buffer, lo) -> int:
        """Drop rows below `lo`: move the rows still held to the buffer's front."""
        lo = min(lo, b.hi)
        if lo <= b.base:
            return 0
        keep = b.hi - lo
        if keep > 0:
            src = (lo - b.base) * b.row_bytes
            if not shift_safe(src, 0):
                raise MicrotrainError("line buffer shift would overwrite rows before it reads")
            h, w, c = self.g.tensors[b.name].shape
            e.emit("mt_chansel_s8_fwd", [1, keep, w, c, c],
                   [ArenaView(b.tensor, src, keep * b.row_bytes), EMPTY,
                    ArenaView(b.tensor, 0, keep * b.row_bytes)],
                   f"{b.name}: keep rows {lo}..{b.hi} (the next band's halo)")
        b.base = lo
        return max(keep, 0) * b.row_bytes

    def _source(self, name, lo, hi, bufs, x_ref):
        if name == INPUT and not self.quantized_input:
            rb = self.row_bytes(INPUT)
            return BufRef(x_ref.region, x_ref.offset + lo * rb, (hi - lo) * rb)
        return self._view(bufs[name], lo, hi)

    def _produce(self, e, name, b: _Buffer, hi, bufs, x_ref):
        lo = b.hi
        if hi - b.base > b.rows:
            raise MicrotrainError(f"streamed segment: {name} overflows its line buffer")
        y = self._view(b, lo, hi)
        rows = hi - lo
        tmp = Emitter()
        if name == INPUT:  # float input: quantize the band's rows from the caller's x
            t = self.g.input
            rb = 4 * self.row_bytes(INPUT)
            x = BufRef(x_ref.region, x_ref.offset + lo * rb, rows * rb)
            forward.emit_quantize_input(tmp, t, x, y)
            op = tmp.ops[0]
            op.args[3] = rows  # dims n, h, w, c at args[2:6]
            op.comment = f"input rows {lo}..{hi}: float -> int8"
        else:
            ly = self.g.layer(name)
            in_lo, in_hi = input_rows(self.g, ly, lo, hi)
            xs = [self._source(src, in_lo, in_hi, bufs, x_ref) for src in ly.inputs]
            forward.FORWARD[ly.op](tmp, self.g, ly, self.layer_refs[ly.name], xs, y)
            op = tmp.ops[0]
            if ly.op == "add":
                op.args[12] = rows  # dims n, h, w, c at args[11:15]
            else:  # conv params, input dims, filter dims, output dims
                s, p = ly.attrs["stride"][0], ly.attrs["padding"][0]
                op.args[2] = in_lo - (lo * s - p)  # the band's top padding
                op.args[9] = in_hi - in_lo
                op.args[17] = rows
            op.comment = f"{name}: {ly.op} rows {lo}..{hi}"
        e.ops.append(op)
        b.hi = hi
