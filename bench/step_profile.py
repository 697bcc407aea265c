# SPDX-License-Identifier: MIT
"""`make bench`, whole steps: the predict and learn programs of the digits demo, the HAR example
and mcunet-5fps "49kb" (tests/program_models.py: the per-arch program tests' models) run op by
op (microtrain_tools/emulator/step_profile.py) on emulated cores (unicorn, the module's own flags: executed
instructions) and on this host (the x64 module-flags library, the unix port's code: ns).

Writes bench/results/step_profile.md (the step totals, the goals of issue 11, each model's
costliest ops and the costs by kind of op) and step_profile.json.

    .venv/bin/python bench/step_profile.py [--models digits,har,mcunet] [--targets m4,m7,m0,host]
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # program_models: the models, made one way

import machine  # noqa: E402
from microtrain_tools.paths import ROOT
from microtrain_tools.emulator.step_profile import TARGETS, format_profile, profile_model
from program_models import MODELS, model_case  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_TARGETS = ("m7", "m4", "m3", "m0", "host")
# (target, opt) runs beyond the default -Os: the M7 at -O2, as boards/stm32f746.toml builds it.
EXTRA_RUNS = (("m7", "speed"),)
# Issue 11's goals, instructions per step on the Cortex-M7 (mcunet-5fps "49kb").
GOALS = {("mcunet", "learn"): 94e6, ("mcunet", "predict"): 60e6}
M0_OVER_M_GOAL = 1.5  # an armv6m learn step within 1.5x armv7m's (the M3's; the M4's beside)
TOP = 12
# Runs left out: the M3 on mcunet would add about 7 minutes; the M0 goal is read against the
# M3 on digits and HAR, and mcunet's M0 step stands beside its M4 one.
SKIP = {("mcunet", "m3")}


def run(models, targets, log) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="microtrain-step-profile-") as tmp:
        for name in models:
            case = model_case(name, 1)
            compiled = case.compile(True)
            runs = [(t, "size") for t in targets if (name, t) not in SKIP]
            runs += [r for r in EXTRA_RUNS if r[0] in targets]
            for i, (target, opt) in enumerate(runs):
                work = Path(tmp) / f"{name}-{i}"
                work.mkdir()
                t = time.perf_counter()
                prof = profile_model(compiled, case.xs[0], case.ys[0], target, work, opt)
                log(f"  {name} {target} {opt}: predict {prof.total('predict'):,.0f}, learn "
                    f"{prof.total('learn'):,.0f} {prof.unit} ({time.perf_counter() - t:.0f} s)")
                rows.append({"model": name, "target": target, "arch": TARGETS[target],
                             "opt": opt, "profile": prof})
    return rows


def _fmt(row, which) -> str:
    v = row["profile"].total(which)
    return f"{v / 1e6:.2f} M" if row["profile"].unit == "instructions" else f"{v / 1e6:.2f} ms"


def summary(rows) -> list[str]:
    out = ["| model | core | opt | predict | learn | goal |", "|---|---|---|---:|---:|---|"]
    by = {(r["model"], r["target"], r["opt"]): r for r in rows}
    for r in rows:
        goal = []
        if r["target"] == "m7":  # stm32f746's board file builds at -O2 (speed)
            for which in ("predict", "learn"):
                g = GOALS.get((r["model"], which))
                if g:
                    v = r["profile"].total(which)
                    goal.append(f"{which} <= {g / 1e6:.0f} M: "
                                + ("met" if v <= g else f"**{v / g:.2f}x over**"))
        for core in ("m3", "m4"):
            other = by.get((r["model"], core, "size"))
            if r["target"] == "m0" and other:
                ratio = r["profile"].total("learn") / other["profile"].total("learn")
                goal.append(f"learn {ratio:.2f}x the {core.upper()}'s"
                            + (f" (goal <= {M0_OVER_M_GOAL}x: "
                               f"{'met' if ratio <= M0_OVER_M_GOAL else '**not met**'})"
                               if core == "m3" else ""))
        core = f"{r['target']} ({r['arch']})"
        unit = "" if r["profile"].unit == "instructions" else " (ns)"
        out.append(f"| {r['model']} | {core}{unit} | {r['opt']} | {_fmt(r, 'predict')} | "
                   f"{_fmt(r, 'learn')} | {'; '.join(goal) or '-'} |")
    return out


def markdown(rows, stamp) -> str:
    lines = ["# Whole-step profile (`make bench`, bench/step_profile.py)", "",
             f"Measured {stamp['date']} on {stamp['cpu']} ({stamp['cores']} cores); "
             f"{stamp['arm_gcc']}; source {stamp['commit']}. Emulated cores: unicorn, "
             "bare-metal executor + op table built with the module's flags (size: -Os, "
             "speed: -O2), executed instructions (M: millions). Host: the x64 module-flags "
             "library, each op alone as a one-op program, best of 5 steps (ms). One sample "
             "per model; mcunet's input is a seeded random int8 image.", "",
             "## Steps", "", *summary(rows), ""]
    for r in rows:
        prof = r["profile"]
        lines += [f"## {r['model']} on {r['target']} ({r['arch']}, {r['opt']})", ""]
        for which in ("predict", "learn"):
            lines += [format_profile(prof, which, top=TOP), ""]
    return "\n".join(lines)


def to_json(rows, stamp) -> dict:
    return {"machine": stamp, "runs": [
        {"model": r["model"], "target": r["target"], "arch": r["arch"], "opt": r["opt"],
         "unit": r["profile"].unit,
         **{which: {"total": r["profile"].total(which),
                    "ops": [vars(o) for o in r["profile"].ops[which]]}
            for which in r["profile"].ops}} for r in rows]}


def main(argv=None, log=print):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--targets", default=",".join(DEFAULT_TARGETS))
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    stamp = machine.stamp()
    rows = run(args.models.split(","), args.targets.split(","), log)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "step_profile.md").write_text(markdown(rows, stamp))
    (args.out / "step_profile.json").write_text(json.dumps(to_json(rows, stamp), indent=1) + "\n")
    log("\n".join(summary(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
