# SPDX-License-Identifier: MIT
"""Wall time of `microtrain policy --budget ...` on mcunet-5fps at the default settings (300
steps per fine-tune, --lr auto, --top 3, every bias depth, 4 weight layers), as a user runs it:
the graph imported from ../shared/data/paper_models, `--data` an .npz of N float images
128x128x3 with labels 0..9 (seeded noise: the time does not depend on what is learned, only on
how many samples are held out and predicted).

    .venv/bin/python bench/policy_time.py [--budget 160KB] [--samples 100]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from microtrain_tools.importers.paper_models import model_path

MICROTRAIN = Path(sys.prefix) / "bin" / "microtrain"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", default="160KB")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[],
                        help="more `microtrain policy` options")
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="microtrain-policy-") as tmp:
        tmp = Path(tmp)
        subprocess.run([str(MICROTRAIN), "import", str(model_path("mcunet-5fps")), "-o",
                        str(tmp / "mcunet.mtg")], check=True, capture_output=True)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((opts.samples, 128, 128, 3)).astype(np.float32)
        y = rng.integers(0, 10, opts.samples)
        np.savez(tmp / "d.npz", x=x, y=y)
        cmd = [str(MICROTRAIN), "policy", "--graph", str(tmp / "mcunet.mtg"), "--data",
               str(tmp / "d.npz"), "--budget", opts.budget, "-o", str(tmp / "p.json"),
               *opts.extra]
        print("$ " + " ".join(cmd), flush=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(cmd, text=True)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(f"microtrain policy on mcunet-5fps, budget {opts.budget}, {opts.samples} samples: "
          f"{seconds:.1f} s wall, {cpu:.1f} s CPU (exit status {proc.returncode}; load "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())})")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
