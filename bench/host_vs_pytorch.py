# SPDX-License-Identifier: MIT
"""Our unix-port learn and predict steps beside PyTorch's, side by side in one run: the paper's
three models with their sparse update schemes (paper_models.SCHEMES), ours in MicroPython's unix
port (the packed model, bench/micropython/time_steps.py), PyTorch 2.13 float32 on one thread
(bench/torch_steps.py, in the venv of `make torch-venv`). Rounds alternate the two, model by
model, and each cell is the minimum over every step of every round: the run least disturbed by
the other work on a shared machine.

    .venv/bin/python bench/host_vs_pytorch.py [--rounds 5] [--steps 20] [--torch PYTHON]

Writes bench/results/host_vs_pytorch.{md,json,png}. Without the PyTorch venv the PyTorch
columns say so and ours are still measured.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import machine
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.paths import ROOT
from paper_steps import PAPER_CASES, pack_case, time_packed

RESULTS = ROOT / "bench" / "results"
TORCH_PYTHON = ROOT / ".venv-torch" / "bin" / "python"
TORCH_SCRIPT = ROOT / "bench" / "torch_steps.py"
WEIGHT_OPS = ("conv2d", "dwconv2d", "pwconv2d", "fc")


def graph_spec(graph, policy) -> dict:
    """What torch_steps.py builds its float model from: layers, shapes, the sparse scheme."""
    layers = []
    for ly in graph.layers:
        row = {"name": ly.name, "op": ly.op, "inputs": list(ly.inputs),
               "act": ly.attrs.get("act", "none")}
        if ly.op in WEIGHT_OPS:
            row.update(c_in=int(ly.c_in), c_out=int(ly.c_out))
            if ly.op != "fc":
                row.update(kernel=list(ly.attrs["kernel"]), stride=list(ly.attrs["stride"]),
                           padding=list(ly.attrs["padding"]))
        layers.append(row)
    return {"layers": layers, "input_shape": list(graph.input.shape),
            "classes": int(graph.output.shape[-1]), "bias_layers": list(policy.bias_layers),
            "weights": [{"layer": w.layer, "k": len(w.channels)} for w in policy.weights]}


def time_torch(python: Path, spec_path: Path, steps: int) -> dict:
    proc = subprocess.run([str(python), str(TORCH_SCRIPT), str(spec_path), str(steps)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise MicrotrainError(f"bench/torch_steps.py failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cpu_simd() -> str:
    flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("flags")), "")
    return "avx2" if " avx2" in flags else "sse4.1" if " sse4_1" in flags else "portable C"


def markdown(data) -> str:
    m = data["machine"]
    lines = [
        "# Learn and predict steps: the unix port beside PyTorch",
        "",
        f"{m['date']}, {m['cpu']} ({m['cores']} cores, load {m['load']} at the start), "
        f"commit {m['commit']}. Ours: MicroPython unix port, `_microtrain.mpy` for x64 at the "
        f"`unix` board's settings, kernels on the {data['simd']} path (cpuid). "
        f"PyTorch: {data.get('torch_version') or 'not measured'}, float32, 1 thread. "
        f"Minimum over {data['rounds']} interleaved rounds of {data['steps']} steps "
        f"(`bench/host_vs_pytorch.py`). Batch 1, the paper's sparse schemes.",
        "",
        "| model | scheme | learn ours (ms) | learn PyTorch (ms) | ratio | "
        "predict ours (ms) | predict PyTorch (ms) | ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in data["rows"]:
        def cell(key):
            return f"{r[key]:.2f}" if r.get(key) is not None else "-"

        def ratio(a, b):
            return f"{r[a] / r[b]:.2f}x" if r.get(a) and r.get(b) else "-"

        lines.append(f"| {r['model']} | {r['scheme']} | {cell('learn_ms')} | "
                     f"{cell('torch_learn_ms')} | {ratio('learn_ms', 'torch_learn_ms')} | "
                     f"{cell('predict_ms')} | {cell('torch_predict_ms')} | "
                     f"{ratio('predict_ms', 'torch_predict_ms')} |")
    if not data.get("torch_version"):
        lines += ["", f"PyTorch not measured: {data.get('torch_missing')}"]
    return "\n".join(lines) + "\n"


def plot(data, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = data["rows"]
    labels = [f"{r['model']}\n{r['scheme']}" for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, what in zip(axes, ("learn", "predict")):
        x = np.arange(len(rows))
        ours = [r[f"{what}_ms"] for r in rows]
        theirs = [r.get(f"torch_{what}_ms") or 0 for r in rows]
        ax.bar(x - 0.2, ours, 0.4, label="microtrain, unix port (int8)")
        ax.bar(x + 0.2, theirs, 0.4, label="PyTorch 2.13 (float32, 1 thread)")
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_ylabel("ms per step (min)")
        ax.set_title(f"{what} step")
        ax.set_ylim(0, 1.3 * max(ours + theirs))  # room for the legend above the bars
        ax.legend(fontsize=8, loc="upper left")
    m = data["machine"]
    fig.suptitle(f"{m['cpu']}, {m['date']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(rounds: int, steps: int, torch_python: Path, log=print) -> dict:
    from microtrain_tools.importers.paper_models import load_paper_model, paper_policy

    data = {"machine": machine.stamp(), "rounds": rounds, "steps": steps, "simd": cpu_simd(),
            "rows": []}
    have_torch = torch_python.exists()
    if not have_torch:
        data["torch_missing"] = f"{torch_python} not found (run `make torch-venv`)"
        log(f"  no PyTorch: {data['torch_missing']}")
    with tempfile.TemporaryDirectory(prefix="microtrain-vs-torch-") as tmp:
        cases = []
        for model, scheme in PAPER_CASES:
            folder = Path(tmp) / model
            folder.mkdir()
            graph, _ = pack_case(model, scheme, folder)
            spec = folder / "spec.json"
            spec.write_text(json.dumps(graph_spec(graph, paper_policy(model, scheme, graph))))
            row = {"model": model, "scheme": scheme}
            data["rows"].append(row)
            cases.append((folder, spec, row))
        for i in range(rounds):
            for folder, spec, row in cases:
                ours = time_packed(folder, steps)
                for key in ("learn", "predict"):
                    row[f"{key}_ms"] = min(row.get(f"{key}_ms", 1e9), min(ours[key]) / 1e3)
                if have_torch:
                    theirs = time_torch(torch_python, spec, steps)
                    data["torch_version"] = theirs["torch"]
                    for key in ("learn", "predict"):
                        row[f"torch_{key}_ms"] = min(row.get(f"torch_{key}_ms", 1e9),
                                                     min(theirs[key]) / 1e3)
                log(f"  round {i + 1}: {row['model']:15s} learn {row['learn_ms']:6.2f} ms "
                    f"(PyTorch {row.get('torch_learn_ms', 0):6.2f}), predict "
                    f"{row['predict_ms']:6.2f} ms (PyTorch {row.get('torch_predict_ms', 0):6.2f})")
    return data


def write(data, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "host_vs_pytorch.json").write_text(json.dumps(data, indent=1) + "\n")
    (out / "host_vs_pytorch.md").write_text(markdown(data))
    plot(data, out / "host_vs_pytorch.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--torch", type=Path, default=TORCH_PYTHON, help="PyTorch's python")
    parser.add_argument("--out", type=Path, default=RESULTS)
    opts = parser.parse_args(argv)
    start = time.time()
    data = run(opts.rounds, opts.steps, opts.torch,
               log=lambda t: print(f"[{time.time() - start:6.1f} s] {t}", flush=True))
    write(data, opts.out)
    print(markdown(data))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except MicrotrainError as err:
        sys.exit(f"host_vs_pytorch: {err}")
