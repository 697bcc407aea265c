# SPDX-License-Identifier: MIT
"""Small int8 graphs for end-to-end tests: every op kind, random weights, quantized for real."""

import numpy as np

from microtrain_tools.formats import model as mdl
from microtrain_tools.quantize.ptq import quantize


def small_float_model(seed=0, n_classes=5) -> mdl.FloatModel:
    """conv 3x3 s2 + relu6, pw expand, dw 3x3, pw project, residual add, pool, fc."""
    rng = np.random.default_rng(seed)

    def w(*shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    def b(n):
        return (rng.standard_normal(n) * 0.1).astype(np.float32)

    layers = [
        mdl.conv2d("conv1", "input", w(8, 3, 3, 2, fan_in=18), b(8), stride=2, padding=1,
                   act="relu6"),
        mdl.conv2d("expand", "conv1", w(12, 1, 1, 8, fan_in=8), b(12), act="relu"),
        mdl.conv2d("dw", "expand", w(3, 3, 12, fan_in=9), b(12), padding=1, depthwise=True,
                   act="relu6"),
        mdl.conv2d("project", "dw", w(8, 1, 1, 12, fan_in=12), b(8)),
        mdl.add("res", "project", "conv1"),
        mdl.avgpool("pool", "res"),
        mdl.fc("head", "pool", w(n_classes, 8, fan_in=8), b(n_classes)),
    ]
    return mdl.FloatModel((8, 8, 2), layers, name="small")


def small_graph(seed=0):
    model = small_float_model(seed)
    calib = np.random.default_rng(seed + 1).uniform(-1, 1, (64, 8, 8, 2)).astype(np.float32)
    graph, _ = quantize(model, calib)
    return graph


def samples(n, seed=2, n_classes=5):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 8, 8, 2)).astype(np.float32)
    y = rng.integers(0, n_classes, n).astype(np.int32)
    return x, y
