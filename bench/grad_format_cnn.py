# SPDX-License-Identifier: MIT
"""Gradient number format and update rounding on a small CNN, through the compiler's real learn
programs run by the host library (the device's bytes): the demo's digits CNN (conv, conv,
pointwise expand, depthwise, pointwise project, residual add, average pool, fc; pretrained on
digits 0-5) learns all ten digits, one sample per step, with the demo's sparse policy (biases of
the last 5 layers; weights of head, project and dw). For each setting: test accuracy after
2 epochs (mean and range over 3 sample orders), the learn arena and the total training memory
from the planner, and the host time per epoch.

    .venv/bin/python bench/grad_format_cnn.py
"""

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "demo"))

import pretrain  # noqa: E402
from microtrain_tools.compiler import compile_model
from microtrain_tools.compiler.memory import memory_plan
from microtrain_tools.policy.definition import Optimizer, make_policy
from microtrain_tools.quantize.ptq import quantize
from microtrain_tools.sim.simulate import HostModel

EPOCHS, SEEDS, LR = 2, (1, 2, 3), 0.03
SETTINGS = [("stochastic", True), ("master_fp32", True), ("truncate", True),
            ("stochastic", False)]


def main():
    model = pretrain.pretrain(log=None)
    (xtr, ytr), (xte, yte) = pretrain.digits_split()
    xc, _ = pretrain.only(xtr, ytr, pretrain.PRETRAIN_CLASSES)
    xo, yo = pretrain.only(xte, yte, pretrain.PRETRAIN_CLASSES)
    graph, _ = quantize(model, xc[:200], eval_data=(xo, yo))
    print(f"{len(xtr)} training samples x {EPOCHS} epochs, {len(xte)} test samples, lr {LR}, "
          f"orders {SEEDS}\n")
    print("| gradients | rounding | QAS | accuracy % (range) | learn arena | training memory "
          "| s / epoch |\n|---|---|---|---|---|---|---|")
    for fmt in ("f32", "q8"):
        for rounding, qas in SETTINGS:
            policy = make_policy(
                graph, bias_last_n=5,
                weights=[("head", 1.0, "first_k"), ("project", 1.0, "first_k"),
                         ("dw", 1.0, "first_k")],
                optimizer=Optimizer(lr=LR, momentum=0.0, rounding=rounding, qas=qas))
            compiled = compile_model(graph, policy, grad_format=fmt)
            plan = memory_plan(compiled)
            accs, seconds = [], 0.0
            for seed in SEEDS:
                host = HostModel(compiled)
                order = np.random.default_rng(seed)
                start = time.perf_counter()
                for _ in range(EPOCHS):
                    for i in order.permutation(len(ytr)):
                        host.learn(xtr[i], int(ytr[i]))
                seconds += time.perf_counter() - start
                accs.append(host.evaluate(xte, yte) * 100)
            a = np.array(accs)
            print(f"| {fmt} | {rounding} | {'yes' if qas else 'no'} | {a.mean():.1f} "
                  f"({a.min():.1f} .. {a.max():.1f}) | {plan.arena_learn:,} B | "
                  f"{plan.learn_total:,} B | {seconds / len(SEEDS) / EPOCHS:.2f} |")
    host = HostModel(compile_model(graph, None))
    print(f"\n(int8 before learning: {host.evaluate(xte, yte) * 100:.1f}%)")


if __name__ == "__main__":
    main()
