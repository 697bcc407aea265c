# SPDX-License-Identifier: MIT
"""Pretrain the demo's small CNN on scikit-learn's digits, on the host, reproducibly.

The model learns digits 0-5 here (with a 10-class head); digits 6-9 are left for on-device
learning. Seeded: the same command writes the same weights. Writes the float model (.npz) and
the calibration data the quantizer reads (`microtrain import`), then quantizes the model.

    python examples/demo/pretrain.py -o build/demo
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from microtrain_tools.sim import float_model
from microtrain_tools.formats import model as mdl
from microtrain_tools.quantize.ptq import quantize, format_report
from microtrain_tools.formats.int8_graph import save_graph

SEED = 0
PRETRAIN_CLASSES = tuple(range(6))


def digits_split(seed=SEED):
    """Digits as (n, 8, 8, 1) float32 in [0, 1]; a fixed 70/30 split of each class."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[..., None]
    y = d.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    cut = int(0.7 * len(x))
    return (x[order[:cut]], y[order[:cut]]), (x[order[cut:]], y[order[cut:]])


def only(x, y, classes):
    keep = np.isin(y, classes)
    return x[keep], y[keep]


def build_model(seed=SEED) -> mdl.FloatModel:
    """conv-bn-relu, strided conv-bn-relu, an inverted residual block, pool, fc (10 classes)."""
    rng = np.random.default_rng(seed)

    def he(*shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    layers = [
        mdl.conv2d("conv1", "input", he(8, 3, 3, 1, fan_in=9), padding=1),
        mdl.batchnorm("bn1", "conv1", 8, act="relu6"),
        mdl.conv2d("conv2", "bn1", he(16, 3, 3, 8, fan_in=72), stride=2, padding=1),
        mdl.batchnorm("bn2", "conv2", 16, act="relu6"),
        mdl.conv2d("expand", "bn2", he(32, 1, 1, 16, fan_in=16)),
        mdl.batchnorm("bn3", "expand", 32, act="relu6"),
        mdl.conv2d("dw", "bn3", he(3, 3, 32, fan_in=9), padding=1, depthwise=True),
        mdl.batchnorm("bn4", "dw", 32, act="relu6"),
        mdl.conv2d("project", "bn4", he(16, 1, 1, 32, fan_in=32)),
        mdl.batchnorm("bn5", "project", 16),
        mdl.add("res", "bn5", "bn2"),
        mdl.avgpool("pool", "res"),
        mdl.fc("head", "pool", he(10, 16, fan_in=16)),
    ]
    return mdl.FloatModel((8, 8, 1), layers, name="digits_cnn")


def pretrain(epochs=15, seed=SEED, log=print):
    (xtr, ytr), (xte, yte) = digits_split(seed)
    xa, ya = only(xtr, ytr, PRETRAIN_CLASSES)
    model = build_model(seed)
    cfg = float_model.TrainConfig(epochs=epochs, batch=32, lr=3e-3, optimizer="adam", seed=seed)
    float_model.train(model, xa, ya, cfg, log=log)
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", default="build/demo", help="output folder")
    ap.add_argument("--epochs", type=int, default=15)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    model = pretrain(args.epochs)
    (xtr, ytr), (xte, yte) = digits_split()
    xo, yo = only(xte, yte, PRETRAIN_CLASSES)
    print(f"pretrained in {time.perf_counter() - t0:.1f} s; "
          f"float accuracy on held-out digits 0-5: {float_model.accuracy(model, xo, yo):.3f}")
    mdl.save_model(model, out / "digits_cnn.npz")
    # Calibration: a slice of the pretraining data; evaluation: the held-out test split.
    xc, _ = only(xtr, ytr, PRETRAIN_CLASSES)
    np.savez(out / "calib.npz", x=xc[:200])
    np.savez(out / "test.npz", x=xte, y=yte)
    np.savez(out / "train.npz", x=xtr, y=ytr)
    graph, report = quantize(model, xc[:200], eval_data=(xo, yo))
    save_graph(graph, out / "digits_cnn.mtg")
    print(format_report(report))
    print(f"wrote {out}/digits_cnn.npz, digits_cnn.mtg, calib.npz, train.npz, test.npz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
