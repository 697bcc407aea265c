# SPDX-License-Identifier: MIT
"""QAS, update rounding and gradient number format, measured by fine-tuning an int8 MLP on
scikit-learn's digits in the real int8 graph (C kernels through the host library).
See microtrain_tools.policy.qas_experiment for the task. Prints markdown tables (docs/numerics.md
quotes them).

    .venv/bin/python bench/qas_digits.py [--seeds 3]
"""

import argparse
import time

import numpy as np

from microtrain_tools.policy import qas_experiment as Q
from microtrain_tools.reference.qas_update import Rounding

EPOCHS, BATCH = 8, 8


def row(name, accs):
    a = np.array(accs) * 100
    return f"| {name} | {a.mean():.1f} | {a.min():.1f} .. {a.max():.1f} |"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    opts = parser.parse_args()
    start = time.time()
    data = Q.load_data()
    p = Q.pretrain(data)
    seeds = range(1, opts.seeds + 1)
    print(f"pretrained float: source {Q.float_accuracy(p, data.x_pre, data.y_pre):.3f}, "
          f"target {Q.float_accuracy(p, data.x_test, data.y_test):.3f}; "
          f"{len(data.y_ft)} fine-tune samples, {len(data.y_test)} test samples, "
          f"{EPOCHS} epochs, batch {BATCH}, seeds {list(seeds)} (sample order)\n")
    for lr, momentum in ((0.1, 0.0), (0.03, 0.0), (0.01, 0.9)):
        print(f"### lr {lr}, momentum {momentum}: target-domain test accuracy (%)\n")
        print("| run | mean | range |\n|---|---|---|")
        print(row("fp32 fine-tune (float SGD)",
                  [Q.fine_tune_float(p, data, lr, EPOCHS, BATCH, s, momentum) for s in seeds]))
        for qas in (True, False):
            for r in Rounding:
                cfg = Q.UpdateConfig(lr=lr, momentum=momentum, qas=qas, rounding=r)
                runs = [Q.fine_tune_int8(p, data, cfg, EPOCHS, BATCH, s) for s in seeds]
                name = f"int8 {'QAS' if qas else 'no QAS'}, {r.name.lower()} (q8)"
                print(row(name, [x["after"] for x in runs]))
        print(f"\n(int8 before fine-tuning: {runs[0]['before'] * 100:.1f})\n")
    print("### gradient number format (QAS, master copy)\n")
    print("| gradient tensors | lr 0.1 mean | lr 0.03 mean |\n|---|---|---|")
    formats = (("float32 (f32 ops, grad_w buffer)", "f32", None),
               ("int16 per-tensor scale (simulated on f32)", "f32", 16),
               ("int8 per-tensor scale (q8 ops, fused update)", "q8", None))
    for label, fmt, bits in formats:
        means = []
        for lr in (0.1, 0.03):
            cfg = Q.UpdateConfig(lr=lr, rounding=Rounding.MASTER, grad_format=fmt,
                                 grad_bits=bits)
            accs = [Q.fine_tune_int8(p, data, cfg, EPOCHS, BATCH, s)["after"] for s in seeds]
            means.append(f"{np.mean(accs) * 100:.1f}")
        print(f"| {label} | {' | '.join(means)} |")
    print("\n### logits layer (no activation): mask at int8 saturation or pass straight through"
          "\n\n| lr, momentum | mask | straight-through |\n|---|---|---|")
    for lr, momentum in ((0.1, 0.0), (0.03, 0.0), (0.01, 0.9)):
        means = []
        for mask in (True, False):
            cfg = Q.UpdateConfig(lr=lr, momentum=momentum, mask_saturation=mask)
            accs = [Q.fine_tune_int8(p, data, cfg, EPOCHS, BATCH, s)["after"] for s in seeds]
            means.append(f"{np.mean(accs) * 100:.1f}")
        print(f"| {lr}, {momentum} | {' | '.join(means)} |")
    print(f"\n({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
