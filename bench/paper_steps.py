# SPDX-License-Identifier: MIT
"""Learn and predict steps of the paper's three models (their sparse schemes) in the unix port
of MicroPython: each model is compiled, packed for the `unix` board and timed step by step by
bench/micropython/time_steps.py (time.ticks_us around model.learn / model.predict).

    .venv/bin/python bench/paper_steps.py [--steps 20]
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from microtrain_tools.bundle.boards import load_board
from microtrain_tools.compiler import compile_model
from microtrain_tools.device.micropython_runner import run_script
from microtrain_tools.bundle.pack import make_bundle, pack
from microtrain_tools.importers.paper_models import load_paper_model, paper_policy
from microtrain_tools.paths import ROOT

SCRIPT = ROOT / "bench" / "micropython" / "time_steps.py"
# (model, scheme): the schemes the paper's Table reports for each model.
PAPER_CASES = (("mcunet-5fps", "49kb"), ("mbv2-w0.35", "99kb"), ("proxyless-w0.3", "98kb"))


def sample(graph, seed=0) -> np.ndarray:
    """One int8 input sample of the graph's input shape."""
    size = int(np.prod(graph.input.shape))
    return np.random.default_rng(seed).integers(-128, 128, size).astype(np.int8)


def pack_case(model: str, scheme: str, out_dir: Path, board: str = "unix", log=None):
    """Compile (model, scheme) and pack it into out_dir as `model`; returns (graph, out_dir)."""
    graph = load_paper_model(model)
    compiled = compile_model(graph, paper_policy(model, scheme, graph), input_dtype="int8")
    pack(make_bundle(compiled, "model"), load_board(board), out_dir,
         log=log or (lambda *a: None))
    (out_dir / "x.bin").write_bytes(sample(graph).tobytes())
    return graph, out_dir


def time_packed(folder: Path, steps: int, timeout: float = 600.0) -> dict:
    """{"learn": [us, ...], "predict": [us, ...]} of `steps` steps each, alternating."""
    out = run_script(SCRIPT, path=[folder], cwd=folder, args=[str(steps)], heapsize="8M",
                     timeout=timeout).check().stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="microtrain-steps-") as tmp:
        for model, scheme in PAPER_CASES:
            folder = Path(tmp) / model
            folder.mkdir()
            pack_case(model, scheme, folder)
            times = time_packed(folder, opts.steps)
            print(f"{model:16s} {scheme}: learn min {min(times['learn']) / 1000:7.2f} ms, "
                  f"predict min {min(times['predict']) / 1000:7.2f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
