# SPDX-License-Identifier: MIT
"""The memory plan of a compiled model, split the way the paper counts it.

training memory = arena (activations, saved inputs, gradients, scratch: one block, planned)
                + trainable state (updated weights and biases, master copies, momentum, rng)
                + I/O buffers the device package keeps (logits, loss, label)
Frozen weights live in flash (a frozen module or ROMFS) and are reported apart, as is the
native module's code. The MicroPython interpreter itself is not counted.
"""

from dataclasses import dataclass

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


def _peak_kinds(ops, offsets) -> dict:
    """Bytes of each kind of tensor alive at the op where the arena is fullest. Tensors of an
    in-place op overlap; overlapping bytes are counted once."""
    lives = lifetimes(ops)
    best, best_kinds = -1, {}
    for i in range(len(ops)):
        alive = [t for t, (a, b) in lives.items() if a <= i <= b]
        total = union_bytes((offsets[t], offsets[t] + t.size) for t in alive)
        if total > best:
            kinds = {}
            for t in alive:
                kinds.setdefault(t.kind, []).append((offsets[t], offsets[t] + t.size))
            best, best_kinds = total, {k: union_bytes(v) for k, v in kinds.items()}
    return best_kinds


def memory_plan(compiled) -> MemoryPlan:
    from ..program import Region

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
