# SPDX-License-Identifier: MIT
"""`make bench`: throughput of the int8 kernels (forward and backward) on five layer types,

- in MACs per second on this host: the C host library, the same ops inside the unix port of
  MicroPython (`_microtrain.op`, timed with time.ticks_us), and numpy float32 doing the layer;
- in instructions per MAC on an emulated Cortex-M4 (qemu mps2-an386, -icount shift=0) in our
  bare-metal harness (bench/cortex_m/), beside CMSIS-NN's numbers measured the same way, and
  on Cortex-M3 and M0 (soft float).

Every op's output is also checked against the numpy reference, bit for bit, wherever it ran.
Writes bench/results/kernels.md, kernels.json and two plots, and runs bench/qas_digits.py (the
QAS accuracy measurement) into qas_digits.md, the paper models' training memory (memory.md)
with what a learn step costs on emulated Cortex-M4/M7 under that plan (stream_cost.md),
bench/step_profile.py (whole predict and learn steps op by op) into step_profile.md, and times
the paper's three models' learn and predict steps in the unix port beside PyTorch
(bench/host_vs_pytorch.py; PyTorch from the venv of `make torch-venv`, else only ours) into
host_vs_pytorch.md. docs/bench.md explains it all.

    .venv/bin/python bench/run_bench.py [--no-micropython] [--no-cortex-m] [--no-qas]
                                        [--no-memory] [--no-step-profile] [--no-steps]
"""

import os

# Our kernels run on one core: so does the numpy baseline (set before numpy loads its BLAS).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import cortex_m  # noqa: E402
import host_timing  # noqa: E402
import layers as L  # noqa: E402
import machine  # noqa: E402
import numpy_layers  # noqa: E402
import report  # noqa: E402
from microtrain_tools.sim import hostlib
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.paths import ROOT
from microtrain_tools.reference import REFERENCE_OPS

RESULTS = ROOT / "bench" / "results"
SWEEPS = 3  # host and numpy timings: best of 3 sweeps of 3 rounds (the unix port: the same)
# (core, flags, runs): Cortex-M4 at -O2 as CMSIS-NN was measured (run twice: the counts must
# repeat), at -Os as the natmod is built, unrolled to show what that buys; M3 and M0 at -O2.
CORTEX_M_RUNS = (("m4", "-O2", 2), ("m4", "-Os", 1), ("m4", "-O2 -funroll-loops", 1),
                 ("m3", "-O2", 1), ("m0", "-O2", 1))


def written(op: str, bufs) -> list[int]:
    info = hostlib.op_info(op)
    return [j for j in range(len(bufs)) if info.writes_buf(j)]


def reference_bytes(op, args, bufs) -> dict:
    ref = [b.copy() for b in bufs]
    REFERENCE_OPS[op](args, ref)
    return {j: ref[j].tobytes() for j in written(op, bufs)}


def measure_host(cases, rows, log):
    calls = []
    for (_, _, op, args, bufs), row in zip(cases, rows):
        call = host_timing.op_call(op, args, [b.copy() for b in bufs])
        call()
        row["host_equal"] = all(call.keep[j].tobytes() == v for j, v in row["ref"].items())
        calls.append(call)
    numpy_calls = []
    for layer in L.LAYERS:
        x, w, g = numpy_layers.tensors(layer, np.random.default_rng(1))
        fns = numpy_layers.numpy_passes(layer, x, w, g)
        numpy_calls += [(layer.name, p, fn) for p, fn in zip(numpy_layers.PASSES, fns)]
    # Sweeps over all cases, seconds apart: a burst of other work on the machine spoils one
    # sweep's rounds of a case, rarely all of them.
    numpy_s = {}
    for sweep in range(SWEEPS):
        log(f"  sweep {sweep + 1} of {SWEEPS}")
        for call, row in zip(calls, rows):
            seconds = host_timing.seconds_per_call(call)
            row["host_s"] = min(row.get("host_s", seconds), seconds)
        for name, pass_, fn in numpy_calls:
            seconds = host_timing.seconds_per_call(fn)
            numpy_s[name, pass_] = min(numpy_s.get((name, pass_), seconds), seconds)
    for row in rows:  # the q8 passes do the same float work as their f32 twins
        row["numpy_s"] = numpy_s[row["layer"], numpy_layers.SAME_WORK[row["pass"]]]
        log(f"  {row['layer']:18s} {row['pass']:10s} host {row['host_s'] * 1e6:9.1f} us, "
            f"numpy {row['numpy_s'] * 1e6:9.1f} us")


def measure_micropython(cases, rows, work_dir, log):
    from micropython_timing import build_x64_module, time_in_micropython

    log("  building the x64 native module (natmod flags)")
    module = build_x64_module()
    calls = [max(3, int(0.04 / row["host_s"])) for row in rows]
    timed = time_in_micropython(
        [(op, args, bufs, n) for (_, _, op, args, bufs), n in zip(cases, calls)], module,
        work_dir)
    for row, (seconds, after) in zip(rows, timed):
        row["upy_s"] = seconds
        row["upy_equal"] = all(after[j] == v for j, v in row["ref"].items())
        log(f"  upy   {row['layer']:18s} {row['pass']:8s} {seconds * 1e6:9.1f} us")


def measure_cortex_m(cases, rows, work_dir, log):
    """Instruction counts of every case for each (core, flags) of CORTEX_M_RUNS; row keys are
    the run labels ("m4-O2", ...). Returns label -> facts of the run."""
    harness_cases = [cortex_m.HarnessCase(op, args, bufs, tuple(written(op, bufs)))
                     for _, _, op, args, bufs in cases]
    facts = {}
    for core, opt, repeats in CORTEX_M_RUNS:
        label = f"{core}{opt}"
        log(f"  building the Cortex-{core.upper()} image at {opt}")
        elf = cortex_m.build_image(harness_cases, Path(work_dir) / core, core=core, opt=opt)
        runs = [cortex_m.run_image(elf, core=core, timeout=300) for _ in range(repeats)]
        counts = [[r.instructions for r in run.results] for run in runs]
        facts[label] = {"core": core, "opt": opt, "runs": len(runs),
                        "deterministic": all(c == counts[0] for c in counts),
                        "instructions_per_tick": runs[0].instructions_per_tick}
        for row, result in zip(rows, runs[0].results):
            if result.status != 0:
                raise MicrotrainError(f"{row['op']} on Cortex-{core.upper()} {opt}: "
                                      f"status {result.status}")
            row[label] = result.instructions
            row[f"{label}_equal"] = all(result.bufs.get(j) == v for j, v in row["ref"].items())
            log(f"  {label} {row['layer']:18s} {row['pass']:10s} "
                f"{result.instructions / row['macs']:7.2f} instructions/MAC")
    return facts


def run_qas_digits(out_dir: Path, log):
    """bench/qas_digits.py (another engineer's QAS measurement); its tables, saved as markdown."""
    log("  running bench/qas_digits.py")
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "qas_digits.py")],
                          capture_output=True, text=True, cwd=ROOT)
    text = proc.stdout if proc.returncode == 0 else f"failed:\n```\n{proc.stderr[-3000:]}\n```"
    (out_dir / "qas_digits.md").write_text(f"# QAS on digits (bench/qas_digits.py)\n\n{text}")


def run_memory(out_dir: Path, log, instructions: bool):
    """The paper's models: the memory table (examples/paper_models/memory_table.py) into
    memory.md and, with instructions, what a learn step costs on emulated Cortex-M4/M7 with
    and without the streamed prefix and clamp masks (bench/stream_cost.py) into
    stream_cost.md."""
    scripts = [("memory.md", "examples/paper_models/memory_table.py")]
    if instructions:
        scripts.append(("stream_cost.md", "bench/stream_cost.py"))
    for name, script in scripts:
        log(f"  running {script}")
        proc = subprocess.run([sys.executable, str(ROOT / script)], capture_output=True,
                              text=True, cwd=ROOT)
        text = proc.stdout if proc.returncode == 0 else \
            f"failed:\n```\n{proc.stderr[-3000:]}\n```"
        (out_dir / name).write_text(f"# {script}\n\n{text}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-micropython", action="store_true", help="skip the unix port")
    parser.add_argument("--no-cortex-m", action="store_true", help="skip qemu")
    parser.add_argument("--no-qas", action="store_true", help="skip bench/qas_digits.py")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the paper models' memory table and its instruction cost")
    parser.add_argument("--no-step-profile", action="store_true",
                        help="skip bench/step_profile.py (whole steps op by op)")
    parser.add_argument("--no-steps", action="store_true",
                        help="skip the paper models' steps beside PyTorch")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    opts = parser.parse_args(argv)
    start = time.time()

    def log(text):
        print(f"[{time.time() - start:6.1f} s] {text}", flush=True)

    opts.out.mkdir(parents=True, exist_ok=True)
    stamp = machine.stamp()
    log(f"{stamp['cpu']}, {stamp['cores']} cores, {stamp['date']}")
    cases = L.cases()
    rows = [{"layer": ly.name, "shape": ly.shape_text, "pass": p, "op": op, "macs": ly.macs,
             "ref": reference_bytes(op, args, bufs)} for ly, p, op, args, bufs in cases]
    cortex_m_facts = {}
    with tempfile.TemporaryDirectory(prefix="microtrain-bench-") as work_dir:
        log("host library and numpy")
        measure_host(cases, rows, log)
        if not opts.no_micropython:
            log("unix port")
            measure_micropython(cases, rows, work_dir, log)
        if not opts.no_cortex_m:
            log("Cortex-M in qemu")
            cortex_m_facts = measure_cortex_m(cases, rows, work_dir, log)
    for row in rows:
        del row["ref"]
    if not opts.no_qas:
        run_qas_digits(opts.out, log)
    if not opts.no_memory:
        run_memory(opts.out, log, instructions=not opts.no_cortex_m)
    if not opts.no_step_profile:
        import step_profile

        log("whole steps op by op (bench/step_profile.py)")
        targets = "host" if opts.no_cortex_m else ",".join(step_profile.DEFAULT_TARGETS)
        step_profile.main(["--targets", targets, "--out", str(opts.out)], log=log)
    if not opts.no_steps:
        log("the paper models' learn and predict steps: unix port beside PyTorch")
        import host_vs_pytorch

        host_vs_pytorch.write(host_vs_pytorch.run(5, 20, host_vs_pytorch.TORCH_PYTHON, log),
                              opts.out)

    data = {"machine": stamp, "cortex_m": cortex_m_facts, "rows": rows, "qas": not opts.no_qas}
    (opts.out / "kernels.json").write_text(json.dumps(data, indent=1) + "\n")
    (opts.out / "kernels.md").write_text(report.markdown(data))
    try:
        import plots
    except ImportError as err:
        log(f"no plots: {err} (matplotlib is pinned in requirements.txt: run `make venv`)")
    else:
        plots.write_plots(data, opts.out)
    log(f"wrote {opts.out.relative_to(ROOT) if opts.out.is_relative_to(ROOT) else opts.out}/")
    print(report.markdown(data))
    bad = [f"{r['layer']} {r['pass']} ({k})" for r in rows for k, v in r.items()
           if k.endswith("_equal") and not v]
    if bad:
        print("outputs that differ from the numpy reference: " + ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except MicrotrainError as err:
        # A missing tool names its package; --no-cortex-m / --no-micropython skip that part.
        sys.exit(f"run_bench: {err}")
