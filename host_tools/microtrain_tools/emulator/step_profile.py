# SPDX-License-Identifier: MIT
"""Where a step's time goes: the predict and learn programs of a compiled model run op by op,

- on an emulated core (unicorn, microtrain_tools/emulator): executed instructions of each op,
  the module's code built with its own flags for the arch (-Os, or -O2 with opt="speed");
- on this host: nanoseconds of each op in the x64 module-flags library (the unix port's code),
  each op run as a one-op program, the best of `repeats` steps, the call's own cost removed.

    prof = profile_model(compiled, x, y, target="armv7emsp", work_dir=tmp)
    print(format_profile(prof))

`microtrain profile` and `make bench` (bench/step_profile.py) print these tables.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from ..mpy.arches import DEFAULT_OPT
from ..errors import MicrotrainError
from ..formats.program import encode_program

# Conv-like ops: (input dims, filter dims, output dims) start at these args; fc has 4 act args
# before them, conv ops 8 (stride, padding, zero points and clamp).
_CONV_FAMILIES = ("conv2d", "pwconv2d", "dwconv2d")
TARGETS = {"m0": "armv6m", "m3": "armv7m", "m4": "armv7emsp", "m7": "armv7emdp",
           "rv32": "rv32imc", "host": "x64"}


@dataclass
class OpCost:
    index: int  # position in the program
    name: str  # op-table name
    comment: str  # what the compiler emitted it for (layer: what)
    shape: str
    macs: int  # multiply-accumulates (0: not a MAC op)
    cost: float  # instructions (an emulated core) or nanoseconds (the host)


@dataclass
class StepProfile:
    target: str  # arch name ("armv7emsp", "x64")
    opt: str
    unit: str  # "instructions" or "ns"
    ops: dict = field(default_factory=dict)  # "predict"/"learn" -> [OpCost]
    overhead: dict = field(default_factory=dict)  # program -> cost outside the ops (checks)

    def total(self, which: str) -> float:
        return sum(o.cost for o in self.ops[which]) + self.overhead.get(which, 0)


def _dims(args, at) -> list:
    return [int(a) for a in args[at: at + 4]]


def op_work(name: str, args) -> tuple[str, int]:
    """(shape text, MACs) of one op of a program, from its args (natmod/ops/*: the layouts)."""
    parts = name.split("_")  # mt_<family>_<s8|q8>_<pass...>
    family = parts[1] if len(parts) > 2 else ""
    update = name.endswith("_update")
    if family in _CONV_FAMILIES and len(args) >= 20:
        x, w, y = _dims(args, 8), _dims(args, 12), _dims(args, 16)
        k = x[3] if update else w[3]  # an update's input dims hold its channel count
        macs = y[0] * y[1] * y[2] * w[0] * w[1] * w[2] * k
        shape = (f"{x[1]}x{x[2]}x{x[3]} -> {y[1]}x{y[2]}x{y[3]}, k{w[1]}x{w[2]} "
                 f"s{int(args[0])}")
        return shape, macs
    if family == "fc" and len(args) >= 16:
        x, w, y = _dims(args, 4), _dims(args, 8), _dims(args, 12)
        k = x[3] if update else w[3]
        return f"{w[3]} -> {w[0]}", x[0] * w[0] * w[1] * w[2] * k
    return "", 0


def _costs(compiled, which: str, values) -> list:
    ops = getattr(compiled, which)
    if len(values) != len(ops):
        raise MicrotrainError(f"{which}: {len(values)} op costs for {len(ops)} ops")
    return [OpCost(i, op.name, op.comment, *op_work(op.name, op.args), float(v))
            for i, (op, v) in enumerate(zip(ops, values))]


def _target(compiled, x, y):
    x = np.asarray(x)
    if compiled.loss == "softmax_ce":
        return np.array([int(y)], np.int32)
    return np.ascontiguousarray(y, dtype=np.float32)


def profile_emulated(compiled, x, y, arch: str, work_dir, opt: str = DEFAULT_OPT) -> StepProfile:
    from .programs import EmulatedModel, build_program_image

    image = build_program_image(arch, work_dir, opt)
    board = EmulatedModel(arch, image, compiled)
    board.profile = True
    prof = StepProfile(arch, opt, "instructions")
    board.predict(x)
    segments = {"predict": board.op_instructions["predict"]}
    if compiled.learn:
        board.learn(x, y)
        segments["learn"] = board.op_instructions["learn"]
    for which, seg in segments.items():
        # segment 0: the check walk and the first decode; then one segment per op
        prof.overhead[which] = seg[0]
        prof.ops[which] = _costs(compiled, which, seg[1:])
    return prof


def profile_host(compiled, x, y, work_dir, opt: str = DEFAULT_OPT, repeats: int = 5):
    """Nanoseconds per op of the x64 module-flags library: each op alone as a one-op program
    (the regions carry the step's state from op to op), the best of `repeats` steps, less the
    cost of running an empty program through ctypes."""
    from .programs import NativeModel, build_program_image
    from ..sim.simulate import op_names

    lib_path = build_program_image("x64", work_dir, opt)
    board = NativeModel(lib_path, compiled)
    names = op_names()
    x_bytes = np.ascontiguousarray(x, dtype=board.x_dtype).ravel().tobytes()
    target = _target(compiled, x, y).tobytes()
    empty = encode_program([], names)

    def timed(program) -> int:
        board.programs["one"] = program
        t = time.perf_counter_ns()
        status, _ = board.run("one", x_bytes, target)
        ns = time.perf_counter_ns() - t
        if status != 0:
            raise MicrotrainError(f"one-op program failed with status {status}")
        return ns

    prof = StepProfile("x64", opt, "ns")
    programs = {"predict": compiled.predict}
    if compiled.learn:
        programs["learn"] = compiled.learn
    one_op = {which: [encode_program([op], names) for op in ops]
              for which, ops in programs.items()}
    best, call_ns = {}, None
    for _ in range(repeats):
        for which in programs:
            times = [timed(program) for program in one_op[which]]
            best[which] = times if which not in best else list(map(min, best[which], times))
            # The call's own cost, sampled between the steps so that a burst of other work
            # cannot inflate all of its samples; its least is taken off every op.
            empty_ns = min(timed(empty) for _ in range(10))
            call_ns = empty_ns if call_ns is None else min(call_ns, empty_ns)
    for which in programs:
        prof.ops[which] = _costs(compiled, which, [max(t - call_ns, 0) for t in best[which]])
        prof.overhead[which] = 0
    return prof


def profile_model(compiled, x, y, target: str, work_dir, opt: str = DEFAULT_OPT,
                  repeats: int = 5) -> StepProfile:
    """target: an arch name or a TARGETS key ("m4", "host")."""
    arch = TARGETS.get(target, target)
    if arch == "x64":
        return profile_host(compiled, x, y, work_dir, opt, repeats)
    if arch not in TARGETS.values():
        raise MicrotrainError(f"unknown profile target {target!r}; known: "
                              f"{', '.join(TARGETS)}")
    return profile_emulated(compiled, x, y, arch, work_dir, opt)


def kind(op: OpCost) -> str:
    """The op's kind for the summary: its name less mt_ and the layer's kernel shape."""
    k = op.shape.split(", ")[1] if ", " in op.shape else ""
    return f"{op.name[3:]} {k}".strip()


def format_profile(prof: StepProfile, which: str, top: int | None = None) -> str:
    """A markdown table: every op in program order (or the `top` costliest), then by kind."""
    ops = prof.ops[which]
    total = prof.total(which)
    unit = "instr." if prof.unit == "instructions" else "ns"
    head = (f"{which} on {prof.target} ({prof.opt}): {total:,.0f} {prof.unit} per step, "
            f"{sum(o.macs for o in ops if o.name.endswith('_fwd')):,} forward MACs")
    rows = sorted(ops, key=lambda o: -o.cost)[:top] if top else ops
    lines = [head, "", f"| # | op | layer | shape | MACs | {unit} | {unit}/MAC | share |",
             "|---:|---|---|---|---:|---:|---:|---:|"]
    for o in rows:
        layer = o.comment.split(":")[0]
        per = f"{o.cost / o.macs:.2f}" if o.macs else "-"
        lines.append(f"| {o.index} | {o.name[3:]} | {layer} | {o.shape} | {o.macs:,} | "
                     f"{o.cost:,.0f} | {per} | {100 * o.cost / total:.1f}% |")
    if prof.overhead.get(which):
        lines.append(f"| - | program check | | | | {prof.overhead[which]:,.0f} | - | "
                     f"{100 * prof.overhead[which] / total:.1f}% |")
    lines += ["", f"| kind | ops | MACs | {unit} | {unit}/MAC | share |",
              "|---|---:|---:|---:|---:|---:|"]
    kinds = {}
    for o in ops:
        n, macs, cost = kinds.get(kind(o), (0, 0, 0.0))
        kinds[kind(o)] = (n + 1, macs + o.macs, cost + o.cost)
    for k, (n, macs, cost) in sorted(kinds.items(), key=lambda kv: -kv[1][2]):
        per = f"{cost / macs:.2f}" if macs else "-"
        lines.append(f"| {k} | {n} | {macs:,} | {cost:,.0f} | {per} | "
                     f"{100 * cost / total:.1f}% |")
    return "\n".join(lines)


def sample_input(compiled, seed: int = 0):
    """A random input and target of the model's shapes (the costs barely depend on values)."""
    rng = np.random.default_rng(seed)
    shape = compiled.graph.input.shape
    if compiled.input_dtype == "int8":
        x = rng.integers(-128, 128, shape).astype(np.int8)
    else:
        t = compiled.graph.input
        lo, hi = t.scale * (-128 - t.zero_point), t.scale * (127 - t.zero_point)
        x = rng.uniform(lo, hi, shape).astype(np.float32)
    y = 0 if compiled.loss == "softmax_ce" else np.zeros(compiled.n_outputs, np.float32)
    return x, y
