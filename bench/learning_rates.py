# SPDX-License-Identifier: MIT
"""Which learning rate works: held-out accuracy after on-device style learning (the real int8
graph, C kernels through the host library, bit-equal to the device) at several rates, on the
examples' tasks. Prints a markdown table (docs/policy.md quotes it).

    .venv/bin/python bench/learning_rates.py [--har ../shared/data/har_exercises]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "demo"))
sys.path.insert(0, str(ROOT / "examples" / "har"))

from microtrain_tools.sim import float_model
from microtrain_tools.formats import model as mdl
from microtrain_tools.compiler import compile_model
from microtrain_tools.policy.definition import Optimizer, make_policy
from microtrain_tools.quantize.ptq import quantize
from microtrain_tools.sim.simulate import HostModel

RATES = (0.003, 0.01, 0.02, 0.05, 0.1)
EPOCHS = 3


def learn(graph, weights, bias_last_n, lr, train, test, epochs=EPOCHS):
    """Held-out accuracy after `epochs` passes of one-sample steps at rate lr."""
    policy = make_policy(graph, bias_last_n=bias_last_n,
                         weights=[(name, 1.0, "first_k") for name in weights],
                         optimizer=Optimizer(lr=lr, rounding="stochastic"))
    model = HostModel(compile_model(graph, policy))
    for _ in range(epochs):
        for xi, yi in zip(*train):
            model.learn(xi, int(yi))
    return model.evaluate(*test)


def frozen(graph, test):
    policy = make_policy(graph, bias_last_n=1, weights=[("head", 1.0, "first_k")])
    return HostModel(compile_model(graph, policy)).evaluate(*test)


def digits_task(size):
    """The demo's CNN pretrained on digits 0-5 at size x size (8: the demo's; 16: upscaled
    2x, like a user's 16x16 digits CNN); learns all ten."""
    import pretrain

    (xtr, ytr), (xte, yte) = pretrain.digits_split()
    if size != 8:
        k = size // 8
        xtr, xte = (np.repeat(np.repeat(a, k, axis=1), k, axis=2) for a in (xtr, xte))
    base = pretrain.build_model()
    model = mdl.FloatModel((size, size, 1), base.layers, name=f"digits{size}")
    xa, ya = pretrain.only(xtr, ytr, pretrain.PRETRAIN_CLASSES)
    float_model.train(model, xa, ya, float_model.TrainConfig(epochs=15, batch=32, lr=3e-3,
                                                              optimizer="adam", seed=0))
    graph, _ = quantize(model, xa[:200])
    return graph, (xtr, ytr), (xte, yte)


def har_task(folder):
    import har_data
    import har_example as H

    recordings = har_data.load_recordings(folder)
    train_recs, test_recs = H.split_recordings(recordings)
    x_pre, y_pre = har_data.dataset(train_recs, H.PRETRAIN_CLASSES)
    x_dev, y_dev = har_data.dataset(train_recs)
    order = np.random.default_rng(H.SEED).permutation(len(x_dev))
    model = H.build_model()
    float_model.train(model, x_pre, y_pre, float_model.TrainConfig(epochs=20, batch=32,
                                                                   lr=3e-3, optimizer="adam",
                                                                   seed=H.SEED))
    graph, _ = quantize(model, x_pre[:256])
    return graph, (x_dev[order], y_dev[order]), har_data.dataset(test_recs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--har", help="folder of the HAR recordings (skipped if not given)")
    ap.add_argument("--no-16", action="store_true", help="skip the 16x16 digits CNN")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = []
    tasks = [("digits 8x8", lambda: digits_task(8),
              [("demo policy", ["head", "project", "dw"], 5), ("last layer only", ["head"], 1)])]
    if not args.no_16:
        tasks.append(("digits 16x16", lambda: digits_task(16),
                      [("last layer only", ["head"], 1)]))
    if args.har:
        tasks.append(("HAR", lambda: har_task(args.har),
                      [("example policy", ["head", "c3", "c2"], 4),
                       ("last layer only", ["head"], 1)]))
    for task, make, policies in tasks:
        print(f"{task}: pretraining ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        graph, train, test = make()
        before = frozen(graph, test)
        for label, weights, bias_n in policies:
            accs = []
            for lr in RATES:
                accs.append(learn(graph, weights, bias_n, lr, train, test))
                print(f"  {label} lr {lr}: {accs[-1]:.3f}", file=sys.stderr)
            rows.append((task, label, before, accs))
    print(f"Held-out accuracy after {EPOCHS} epochs of one-sample learn steps (stochastic "
          f"rounding, no momentum); 'not learning' is the frozen model.\n")
    print("| task | update | not learning | " + " | ".join(f"lr {r}" for r in RATES) + " |")
    print("|---|---|---|" + "---|" * len(RATES))
    for task, label, before, accs in rows:
        best = max(accs)
        cells = [f"**{a:.3f}**" if a == best else f"{a:.3f}" for a in accs]
        print(f"| {task} | {label} | {before:.3f} | " + " | ".join(cells) + " |")
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
