# SPDX-License-Identifier: MIT
"""The measurements behind each board file's `opt` (-Os "size" or -O2 "speed"): per arch, the
module's code in RAM at both levels (natmod_build, pack.native_code_size: text + rodata + bss,
which MicroPython's loader copies into the heap), and per model the instructions of a predict
and a learn step at both levels on the emulated core (unicorn; tests/program_models.py's
models), or on the host the ns of a learn step (x64 module-flags library, best of 5).

The rule the board files apply: -O2 where its extra code is at most 5% of the board's RAM.

    .venv/bin/python bench/opt_choice.py [--models digits,har] [--arches armv6m,...]
"""

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # program_models: the models, made one way

from microtrain_tools.errors import MicrotrainError
from microtrain_tools.mpy.natmod_build import build_module
from microtrain_tools.bundle.pack import native_code_size
from microtrain_tools.emulator.step_profile import profile_model
from program_models import model_case  # noqa: E402

ARCHES = ("armv6m", "armv7m", "armv7emsp", "armv7emdp", "rv32imc", "xtensa", "x64")
EMULATED = ("armv6m", "armv7m", "armv7emsp", "armv7emdp", "rv32imc")
OPTS = ("size", "speed")


def code_sizes(arches, work: Path) -> dict:
    sizes = {}
    for arch in arches:
        for opt in OPTS:
            try:
                out = work / f"{arch}-{opt}" / "_microtrain.mpy"
                build_module(arch, out, log=lambda *a, **k: None, opt=opt)
                sizes[arch, opt] = native_code_size(out)
            except MicrotrainError as err:  # a compiler not installed: say so, go on
                sizes[arch, opt] = str(err).splitlines()[0]
    return sizes


def step_costs(models, arches, work: Path) -> dict:
    costs = {}
    for name in models:
        case = model_case(name, 1)
        compiled = case.compile(True)
        for arch in arches:
            if arch not in EMULATED and arch != "x64":
                continue
            for opt in OPTS:
                d = work / f"{name}-{arch}-{opt}"
                d.mkdir()
                prof = profile_model(compiled, case.xs[0], case.ys[0], arch, d, opt)
                costs[name, arch, opt] = (prof.total("predict"), prof.total("learn"), prof.unit)
                print(f"  {name} {arch} {opt}: predict {costs[name, arch, opt][0]:,.0f} learn "
                      f"{costs[name, arch, opt][1]:,.0f} {prof.unit}", flush=True)
    return costs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="digits,har")
    ap.add_argument("--arches", default=",".join(ARCHES))
    args = ap.parse_args(argv)
    arches = args.arches.split(",")
    with tempfile.TemporaryDirectory(prefix="microtrain-opt-choice-") as tmp:
        sizes = code_sizes(arches, Path(tmp))
        costs = step_costs(args.models.split(","), arches, Path(tmp))
    print("\n| arch | code -Os (B) | code -O2 (B) | -O2 extra |")
    print("|---|---:|---:|---:|")
    for arch in arches:
        s, f = sizes[arch, "size"], sizes[arch, "speed"]
        extra = f"{f - s:+,}" if isinstance(s, int) and isinstance(f, int) else "-"
        print(f"| {arch} | {s if isinstance(s, str) else f'{s:,}'} | "
              f"{f if isinstance(f, str) else f'{f:,}'} | {extra} |")
    print("\n| model | arch | learn -Os | learn -O2 | -O2 / -Os |")
    print("|---|---|---:|---:|---:|")
    for (name, arch, opt), (_, learn, unit) in costs.items():
        if opt == "size":
            fast = costs[name, arch, "speed"][1]
            print(f"| {name} | {arch} | {learn:,.0f} | {fast:,.0f} {unit} | {fast / learn:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
