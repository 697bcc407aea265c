# SPDX-License-Identifier: MIT
"""Human activity recognition from a wrist accelerometer, adapted on the device.

A 1-D CNN is pretrained on the host on three exercises (other, jumping jack, squat) from some
of the recordings; the board then meets a new exercise (lunge) and new recordings, and learns
them with `model.learn` in the unix port of MicroPython. Data: the real recordings in
../shared/data/har_exercises, read in place (the path is an argument; nothing is copied).

    .venv/bin/python examples/har/har_example.py ../shared/data/har_exercises
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import har_data  # noqa: E402
from microtrain_tools.sim import float_model
from microtrain_tools.formats import model as mdl
from microtrain_tools.compiler import compile_model
from microtrain_tools.compiler.memory import format_plans, memory_plan
from microtrain_tools.policy.definition import Optimizer, make_policy
from microtrain_tools.quantize.ptq import format_report, quantize
from microtrain_tools.sim.simulate import HostModel
from microtrain_tools.device.unix_session import learn_on_unix_port

SEED = 0
PRETRAIN_CLASSES = ("other", "jumpingjack", "squat")


def build_model(seed=SEED) -> mdl.FloatModel:
    """conv1d k5 s2 (16) - conv1d k5 s2 (32) - conv1d k3 (32) - pool - fc (4 classes)."""
    rng = np.random.default_rng(seed)

    def he(*shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    layers = [
        mdl.conv1d("c1", "input", he(16, 5, 3, fan_in=15), stride=2, padding=2),
        mdl.batchnorm("bn1", "c1", 16, act="relu6"),
        mdl.conv1d("c2", "bn1", he(32, 5, 16, fan_in=80), stride=2, padding=2),
        mdl.batchnorm("bn2", "c2", 32, act="relu6"),
        mdl.conv1d("c3", "bn2", he(32, 3, 32, fan_in=96), padding=1),
        mdl.batchnorm("bn3", "c3", 32, act="relu6"),
        mdl.avgpool("pool", "bn3"),
        mdl.fc("head", "pool", he(len(har_data.CLASSES), 32, fan_in=32)),
    ]
    return mdl.FloatModel((1, har_data.WINDOW, 3), layers, name="har_cnn")


def split_recordings(recordings, seed=SEED):
    """Half of each class's recordings for pretraining/adaptation, half held out for testing."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in har_data.CLASSES:
        recs = [r for r in recordings if r[1] == label]
        order = rng.permutation(len(recs))
        cut = len(recs) // 2
        train += [recs[i] for i in order[:cut]]
        test += [recs[i] for i in order[cut:]]
    return train, test


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", help="folder of the HAR recordings (../shared/data/har_exercises)")
    ap.add_argument("-o", "--out", default="build/har", help="work folder")
    ap.add_argument("--epochs", type=int, default=3, help="on-device epochs")
    ap.add_argument("--curve", help="learning curve CSV, its plot beside it as .png "
                    "[OUT/curve.csv]")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recordings = har_data.load_recordings(args.data)
    print(f"read {len(recordings)} recordings; {len(caught)} warnings (truncated or skipped "
          f"files, see PROVENANCE.md there)")
    train_recs, test_recs = split_recordings(recordings)
    x_pre, y_pre = har_data.dataset(train_recs, PRETRAIN_CLASSES)
    x_dev, y_dev = har_data.dataset(train_recs)  # what the device sees: all four classes
    # Windows come grouped by recording; a stream of one exercise at a time would make the
    # model forget the others, so the device gets them in a (seeded) shuffled order.
    order = np.random.default_rng(SEED).permutation(len(x_dev))
    x_dev, y_dev = x_dev[order], y_dev[order]
    x_test, y_test = har_data.dataset(test_recs)
    print(f"pretrain on {PRETRAIN_CLASSES}: {len(x_pre)} windows; device learns from "
          f"{len(x_dev)} windows of all four; test on {len(x_test)} windows of other recordings")

    model = build_model()
    cfg = float_model.TrainConfig(epochs=20, batch=32, lr=3e-3, optimizer="adam", seed=SEED)
    say = lambda msg: print("  " + msg, flush=True)  # noqa: E731
    print("pretraining on the host (float)")
    float_model.train(model, x_pre, y_pre, cfg, log=say)
    keep = np.isin(y_test, [har_data.CLASSES.index(c) for c in PRETRAIN_CLASSES])
    print("quantizing to int8")
    graph, report = quantize(model, x_pre[:256], eval_data=(x_test[keep], y_test[keep]),
                             log=say)
    print(format_report(report))

    policy = make_policy(graph, bias_last_n=4,
                         weights=[("head", 1.0, "first_k"), ("c3", 1.0, "first_k"),
                                  ("c2", 1.0, "first_k")],
                         optimizer=Optimizer(lr=0.01, rounding="stochastic"))
    compiled = compile_model(graph, policy)
    plan = memory_plan(compiled)
    print(format_plans({"har policy": plan}))
    print(f"packing for the unix port; learning {len(x_dev)} windows x {args.epochs} epochs "
          "in micropython", flush=True)
    r = learn_on_unix_port(compiled, "har", (x_dev, y_dev), (x_test, y_test), args.epochs,
                           Path(args.out) / "dist", log=say)
    curve_csv, curve_png = r.curve.write(args.curve or Path(args.out) / "curve.csv",
                                         title="HAR: a new exercise, learned in micropython")
    print(f"device: learning curve in {curve_csv} and {curve_png}")
    print(f"device: accuracy on all four exercises before {r.accuracy_before:.4f}, after "
          f"{args.epochs} epochs {r.accuracy_after:.4f}")
    print(f"device: {r.us_per_step / 1000:.3f} ms per learn step; training memory "
          f"{r.arena + r.params_bytes + r.io:,} bytes (plan: {plan.learn_total:,})")
    host = HostModel(compiled)
    for _ in range(args.epochs):
        for xi, yi in zip(x_dev, y_dev):
            host.learn(xi, int(yi))
    same = host.params.tobytes().hex() == r.params_hex
    print(f"host simulation {'equals' if same else 'DIFFERS FROM'} the device, byte for byte")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
