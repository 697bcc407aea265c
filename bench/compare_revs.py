# SPDX-License-Identifier: MIT
"""Cortex-M instructions per MAC of the benchmarked ops at several git revisions of natmod/:
a regression check for kernel changes (the counts are deterministic, so any difference is the
code's). Prints a markdown table, one column per revision; `worktree` is the working tree.

    .venv/bin/python bench/compare_revs.py HEAD~5 HEAD worktree [--core m0] [--opt -Os]
        [--passes fwd,grad_in]
"""

import argparse
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

import cortex_m
import layers as L
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.paths import NATMOD_DIR, ROOT


def natmod_at(rev: str, into: Path) -> Path:
    """natmod/ of git revision `rev` unpacked under `into` (the working tree's for "worktree")."""
    if rev == "worktree":
        return NATMOD_DIR
    proc = subprocess.run(["git", "archive", rev, "natmod"], cwd=ROOT, capture_output=True)
    if proc.returncode != 0:
        raise MicrotrainError(f"git archive {rev}: {proc.stderr.decode().strip()}")
    with tarfile.open(fileobj=BytesIO(proc.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "natmod"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revs", nargs="+", help="git revisions, or worktree")
    parser.add_argument("--opt", default="-O2", help="optimisation flags (default -O2)")
    parser.add_argument("--core", default="m4", choices=sorted(cortex_m.CORES),
                        help="Cortex-M core (default m4)")
    parser.add_argument("--passes", default=",".join(L.PASSES),
                        help=f"comma-separated, of {','.join(L.PASSES)}")
    opts = parser.parse_args(argv)
    passes = tuple(opts.passes.split(","))
    unknown = set(passes) - set(L.PASSES)
    if unknown:
        parser.error(f"unknown passes {sorted(unknown)}; known: {', '.join(L.PASSES)}")
    cases = L.cases(L.LAYERS, passes)
    columns = []
    with tempfile.TemporaryDirectory(prefix="microtrain-revs-") as tmp:
        for i, rev in enumerate(opts.revs):
            work = Path(tmp) / str(i)
            harness = [cortex_m.HarnessCase(op, a, b) for _, _, op, a, b in cases]
            elf = cortex_m.build_image(harness, work, core=opts.core, opt=opts.opt,
                                       natmod_dir=natmod_at(rev, work))
            run = cortex_m.run_image(elf, core=opts.core, timeout=300)
            columns.append([None if r.status else r.instructions / ly.macs
                            for (ly, *_), r in zip(cases, run.results)])
    print(f"Cortex-{opts.core.upper()} instructions per MAC, `{opts.opt}`\n")
    print("| layer | pass | " + " | ".join(f"`{r}`" for r in opts.revs) + " |")
    print("|---|---|" + "---:|" * len(opts.revs))
    for row, (layer, pass_, *_) in enumerate(cases):
        cells = ["-" if c[row] is None else f"{c[row]:.2f}" for c in columns]
        print(f"| {layer.name} | {pass_} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
