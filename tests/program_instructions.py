# SPDX-License-Identifier: MIT
"""Instructions per predict and per learn step of the models in tests/program_models.py on each
emulated core, and the first op whose output differs from the host's where a step does.

Counting hooks every executed block, several times slower than the tests, so it is a script run
by hand, not a test:

    .venv/bin/python tests/program_instructions.py [--no-in-place] [models...]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from microtrain_tools.sim import hostlib
from microtrain_tools.formats.program import encode_program
from microtrain_tools.sim.simulate import HostModel, op_names
from program_emulator import CORES, EmulatedModel, build_program_image  # noqa: E402
from program_models import MODELS, model_case  # noqa: E402


def first_differing_op(arch, image, compiled, x, which="predict"):
    """Bisect the program's prefixes for the first op whose written buffers differ from the
    host's (run from the same starting regions). None when the whole program agrees."""
    ops = getattr(compiled, which)
    names = op_names()

    def agrees(k):
        prefix = ops[:k]
        host, board = HostModel(compiled), EmulatedModel(arch, image, compiled)
        program = encode_program(prefix, names)
        host.predict_program = board.programs["predict"] = program
        host.predict(x)
        board.predict(x)
        last = prefix[-1]
        info = hostlib.op_info(last.name)
        for j, ref in enumerate(last.bufs):
            if not info.writes_buf(j):
                continue
            region = {0: (host.arena, board.arena_at), 2: (host.params, board.params_at),
                      5: (host.out.view(np.uint8), board.out_at)}.get(int(ref.region))
            if region is None:
                continue
            want = region[0][ref.offset: ref.offset + ref.length].tobytes()
            if board.core.read(region[1] + ref.offset, ref.length) != want:
                return False
        return True

    if which != "predict":
        raise ValueError("only predict programs are bisected")
    lo, hi = 0, len(ops)  # ops[:lo] agree; ops[:hi] may not
    if agrees(hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if agrees(mid):
            lo = mid
        else:
            hi = mid
    return hi - 1, ops[hi - 1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=list(MODELS))
    ap.add_argument("--no-in-place", action="store_true")
    ap.add_argument("--cores", default=",".join(CORES))
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="program-instructions-"))
    images = {arch: build_program_image(arch, work) for arch in args.cores.split(",")}
    print(f"{'model':8s} {'core':10s} {'predict':>12s} {'learn':>13s}  agrees  seconds")
    for name in args.models:
        case = model_case(name, 2)
        compiled = case.compile(not args.no_in_place)
        for arch, image in images.items():
            t = time.perf_counter()
            host, board = HostModel(compiled), EmulatedModel(arch, image, compiled)
            board.count = True
            host.predict(case.xs[0])
            board.predict(case.xs[0])
            same = board.out == host.out.tobytes()
            host.learn(case.xs[1], case.ys[1])
            board.learn(case.xs[1], case.ys[1])
            same = same and board.out == host.out.tobytes() and \
                board.params == host.params.tobytes()
            n = board.instructions
            print(f"{name:8s} {arch:10s} {n['predict']:12,d} {n['learn']:13,d}  "
                  f"{'yes' if same else 'NO':6s} {time.perf_counter() - t:7.1f}", flush=True)
            if not same:
                found = first_differing_op(arch, image, compiled, case.xs[0])
                if found:
                    i, op = found
                    print(f"    predict: first differing op {i}: {op.name} ({op.comment}) "
                          f"args {op.args[8:20]} bufs {op.bufs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
