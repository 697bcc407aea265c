# SPDX-License-Identifier: MIT
"""Instructions a learn step (and a predict) of the paper's models costs on emulated Cortex-M4
and M7 (unicorn, the module's -Os build of the executor, tests/program_emulator.py) with the
memory plan of issue 10 (a streamed frozen prefix, clamps from bit masks, saved inputs
recomputed where that saves memory) against the plan without them, and the memory each saves. Every run is also checked against the host library,
byte for byte.

    .venv/bin/python bench/stream_cost.py [--cores armv7emsp,armv7emdp] [--out file.md]
"""

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from microtrain_tools.compiler import TrainPlan, compile_model
from microtrain_tools.importers.paper_models import DATA_DIR, load_paper_model, paper_policy
from microtrain_tools.sim.simulate import HostModel
from program_emulator import EmulatedModel, build_program_image  # noqa: E402

MODELS = (("mcunet-5fps", "49kb"), ("mcunet-5fps", "99kb"), ("mbv2-w0.35", "99kb"),
          ("proxyless-w0.3", "98kb"))
CORE_NAMES = {"armv7emsp": "Cortex-M4", "armv7emdp": "Cortex-M7"}


def variants(graph, plan):
    """(label, compiled): before issue 10 (whole tensors, clamps from int8 outputs, partly
    learned weights copied whole), masks only, masks and streaming, and the default (those and
    split pointwise layers)."""
    copies = copy.copy(plan)
    copies.split_pointwise = False
    outputs = copy.copy(copies)
    outputs.clamp_masks = False
    return (("whole tensors, clamps from int8 outputs, weight copies",
             compile_model(graph, outputs, input_dtype="int8", tiling=None)),
            ("clamps from bit masks",
             compile_model(graph, copies, input_dtype="int8", tiling=None)),
            ("masks, streamed prefix, recomputes where they save memory",
             compile_model(graph, copies, input_dtype="int8")),
            ("the default: those and split pointwise layers (no weight copy)",
             compile_model(graph, plan, input_dtype="int8")))


def count(image, arch, compiled, x, y):
    host, board = HostModel(compiled), EmulatedModel(arch, image, compiled)
    board.count = True
    host.predict(x)
    board.predict(x)
    same = board.out == host.out.tobytes()
    host.learn(x, y)
    board.learn(x, y)
    same = same and board.out == host.out.tobytes() and board.params == host.params.tobytes()
    if not same:
        raise SystemExit(f"{arch}: the emulated run differs from the host's")
    return board.instructions["predict"], board.instructions["learn"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", default="armv7emsp,armv7emdp")
    ap.add_argument("--out", type=Path, help="also write the table here (markdown)")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="stream-cost-"))
    cores = args.cores.split(",")
    images = {arch: build_program_image(arch, work) for arch in cores}
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, 128 * 128 * 3).astype(np.int8)
    lines = ["| model | scheme | plan | arena B | program ops (predict + learn) | "
             + " | ".join(f"{CORE_NAMES.get(c, c)} learn step | {CORE_NAMES.get(c, c)} predict"
                          for c in cores) + " |",
             "|---|---|---|---|---|" + "---|---|" * len(cores)]
    for model, scheme in MODELS:
        graph = load_paper_model(model, path=DATA_DIR / f"{model}.pkl")
        plan = TrainPlan.from_policy(paper_policy(model, scheme, graph))
        base = {}
        for label, compiled in variants(graph, plan):
            t = time.perf_counter()
            cells = []
            for arch in cores:
                predict, learn = count(images[arch], arch, compiled, x, 3)
                base.setdefault(arch, (predict, learn))
                b_pred, b_learn = base[arch]
                cells.append(f"{learn:,} ({100 * (learn / b_learn - 1):+.1f}%)")
                cells.append(f"{predict:,} ({100 * (predict / b_pred - 1):+.1f}%)")
            n_ops = len(compiled.predict) + len(compiled.learn)
            lines.append(f"| {model} | {scheme} | {label} | {compiled.arena_size:,} | {n_ops} | "
                         + " | ".join(cells) + " |")
            print(lines[-1], f"({time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
