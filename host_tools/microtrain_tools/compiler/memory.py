# SPDX-License-Identifier: MIT
"""The memory plan of a compiled model, split the way the paper counts it.

training memory = arena (activations, saved inputs, gradients, scratch: one block, planned)
                + trainable state (updated weights and biases, master copies, momentum, rng)
                + I/O buffers the device package keeps (logits, loss, label)
Frozen weights live in flash (a frozen module or ROMFS) and are reported apart, as is the
native module's code. The MicroPython interpreter itself is not counted.
"""

from dataclasses import dataclass, field

from .layout import lifetimes

STATE_KINDS = (
    ("updated weights (int8)", "/weight"),
    ("updated biases (int32)", "/bias"),
    ("master copies (float32)", "_master"),
    ("momentum (float32)", "_momentum"),
    ("rounding rng state", "_rng"),
)


@dataclass
class MemoryPlan:
    arena_predict: int
    arena_learn: int
    peak_kinds: dict  # at the learn program's peak: kind -> bytes alive
    state: dict  # STATE_KINDS label -> bytes
    io: int
    flash_weights: int
    stages: list = field(default_factory=list)  # StagePeak of each stage of each program
    tiling: object = None  # stream.TilingReport, or None when nothing is streamed

    @property
    def state_total(self) -> int:
        return sum(self.state.values())

    @property
    def learn_total(self) -> int:
        return max(self.arena_learn, self.arena_predict) + self.state_total + self.io

    @property
    def predict_total(self) -> int:
        return self.arena_predict + self.state_total + self.io


def union_bytes(intervals) -> int:
    total, reach = 0, None
    for a, b in sorted(intervals):
        if reach is None or a > reach:
            total += b - a
            reach = b
        elif b > reach:
            total += b - reach
            reach = b
    return total


def alive_per_op(ops, offsets) -> list:
    """Per op: (arena bytes alive, overlaps of in-place ops counted once; the tensors)."""
    lives = lifetimes(ops)
    out = []
    for i in range(len(ops)):
        alive = [t for t, (a, b) in lives.items() if a <= i <= b]
        out.append((union_bytes((offsets[t], offsets[t] + t.size) for t in alive), alive))
    return out


@dataclass
class StagePeak:
    """The fullest op of one stage of a program and what is alive there."""

    program: str  # "predict" or "learn"
    stage: str  # "streamed segment", "forward", "loss and backward"
    peak: int  # arena bytes alive (overlaps of in-place ops counted once)
    op: int  # index of that op in its program
    comment: str
    alive: list  # (tensor name, kind, bytes), largest first


def stage_peaks(compiled) -> list:
    out = []
    for which, ops, stages in zip(("predict", "learn"), compiled.symbolic, compiled.stages):
        per_op = alive_per_op(ops, compiled.tensors)
        bounds = [start for _, start in stages[1:]] + [len(ops)]
        for (label, start), end in zip(stages, bounds):
            if start == end:
                continue
            i = max(range(start, end), key=lambda j: per_op[j][0])
            total, alive = per_op[i]
            listed = sorted(((t.name, t.kind, t.size) for t in alive), key=lambda r: -r[2])
            out.append(StagePeak(which, label, total, i, ops[i].comment, listed))
    return out


def _peak_kinds(ops, offsets) -> dict:
    """Bytes of each kind of tensor alive at the op where the arena is fullest. Tensors of an
    in-place op overlap; overlapping bytes are counted once."""
    per_op = alive_per_op(ops, offsets)
    if not per_op:
        return {}
    _, alive = max(per_op, key=lambda r: r[0])  # the first op of the highest peak
    kinds = {}
    for t in alive:
        kinds.setdefault(t.kind, []).append((offsets[t], offsets[t] + t.size))
    return {k: union_bytes(v) for k, v in kinds.items()}


def memory_plan(compiled) -> MemoryPlan:
    from ..formats.program import Region

    state = {label: 0 for label, _ in STATE_KINDS}
    for (region, name), ref in compiled.blob_entries.items():
        if region != Region.PARAMS:
            continue
        for label, suffix in STATE_KINDS:
            if name.endswith(suffix):
                state[label] += ref.length
                break
    arenas = compiled.program_arenas + [0, 0]
    io = 4 * (compiled.n_outputs + 1) + 4 * (1 if compiled.loss != "mse" else compiled.n_outputs)
    learn_ops = compiled.symbolic[1] if len(compiled.symbolic) > 1 else []
    return MemoryPlan(
        arena_predict=arenas[0],
        arena_learn=arenas[1],
        peak_kinds=_peak_kinds(learn_ops, compiled.tensors),
        state=state,
        io=io,
        flash_weights=len(compiled.weights),
        stages=stage_peaks(compiled),
        tiling=compiled.tiling,
    )


def format_plans(columns: dict) -> str:
    """A side-by-side table of MemoryPlans: {column title: plan}."""
    titles = list(columns)
    rows = [("arena, predict", lambda p: p.arena_predict),
            ("arena, learn", lambda p: p.arena_learn)]
    kinds = sorted({k for p in columns.values() for k in p.peak_kinds})
    rows += [(f"  at peak: {k}", lambda p, k=k: p.peak_kinds.get(k, 0)) for k in kinds]
    rows += [(label, lambda p, label=label: p.state[label]) for label, _ in STATE_KINDS]
    rows += [("I/O buffers", lambda p: p.io),
             ("TOTAL training memory (RAM)", lambda p: p.learn_total),
             ("frozen weights (flash)", lambda p: p.flash_weights)]
    width = max(len(r[0]) for r in rows) + 2
    colw = max(12, *(len(t) + 2 for t in titles))
    out = ["bytes".ljust(width) + "".join(t.rjust(colw) for t in titles)]
    for label, get in rows:
        out.append(label.ljust(width) + "".join(f"{get(p):,}".rjust(colw)
                                                for p in columns.values()))
    return "\n".join(out)


def format_stages(plan: MemoryPlan, shown: int = 6) -> str:
    """Each stage's peak and the largest tensors alive there."""
    out = []
    for st in plan.stages:
        out.append(f"{st.program:7s} {st.stage:18s} peak {st.peak:>9,} B at op {st.op} "
                   f"({st.comment})")
        for name, kind, size in st.alive[:shown]:
            out.append(f"          {size:>9,}  {name} ({kind})")
        if len(st.alive) > shown:
            rest = sum(size for _, _, size in st.alive[shown:])
            out.append(f"          {rest:>9,}  {len(st.alive) - shown} more")
    return "\n".join(out)


def format_tiling(report, untiled_arena=None) -> str:
    if report is None:
        return "tiling: none (no streamed prefix makes the arena smaller)"
    t = report.tiling
    lines = [f"tiling: layers up to {report.segment_end} (the first {t.split}) streamed, "
             f"{t.band} row(s) of each layer's output per op, {report.n_sweeps} sweeps",
             f"  line buffers {sum(report.line_buffers.values()):,} B + segment output "
             f"{report.output_bytes:,} B; {report.extra_ops} more ops per run, "
             f"{report.shifted_bytes:,} B shifted per run, {report.recomputed_macs} MACs "
             f"recomputed (halos are kept, not recomputed)"]
    if untiled_arena is not None:
        lines.append(f"  arena without tiling: {untiled_arena:,} B")
    return "\n".join(lines)


def format_recomputes(recomputed) -> str:
    if not recomputed:
        return "recompute: none (every saved input is kept from the forward)"
    lines = ["recompute (saved inputs rebuilt before their update instead of kept):"]
    for r in recomputed:
        lines.append(f"  {r.layer}'s input: {', '.join(r.layers)} again from "
                     f"{', '.join(r.sources)}, {r.macs:,} MACs")
    return "\n".join(lines)
