# SPDX-License-Identifier: MIT
"""Small float models shared by the model, quantizer and policy tests."""

import numpy as np

from microtrain_tools.formats import model as mdl


def tiny_cnn(seed=0, input_shape=(7, 6, 3)) -> mdl.FloatModel:
    """Every op of the description: strided padded conv, BN, depthwise, pointwise, residual add,
    relu and relu6, avgpool, flatten, fc; odd sizes so padding edges matter."""
    rng = np.random.default_rng(seed)

    def r(*shape, scale=0.5):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    c = input_shape[-1]
    bn = mdl.batchnorm("bn1", "conv1", 4, act="relu6")
    bn.params = {"gamma": r(4) + 1, "beta": r(4), "mean": r(4), "var": np.abs(r(4)) + 0.5}
    layers = [
        mdl.conv2d("conv1", "input", r(4, 3, 3, c), r(4), stride=2, padding=1),
        bn,
        mdl.conv2d("dw", "bn1", r(3, 3, 4), r(4), padding=1, depthwise=True, act="relu"),
        mdl.conv2d("pw", "dw", r(4, 1, 1, 4), r(4)),
        mdl.add("res", "pw", "bn1", act="relu"),
        mdl.conv2d("wide", "res", r(5, 2, 3, 4), r(5), stride=(1, 2), padding=(0, 1)),
        mdl.flatten("flat", "wide"),
        mdl.fc("fc1", "flat", r(6, 5 * mdl.conv_out_size(4, 2, 1, 0)
                                * mdl.conv_out_size(3, 3, 2, 1)), r(6), act="relu"),
        mdl.fc("head", "fc1", r(3, 6), r(3)),
    ]
    return mdl.FloatModel(input_shape, layers, name="tiny")


def pooled_cnn(seed=0) -> mdl.FloatModel:
    rng = np.random.default_rng(seed)
    layers = [
        mdl.conv2d("c1", "input", rng.standard_normal((4, 3, 3, 2)) * 0.5, padding=1,
                   act="relu"),
        mdl.avgpool("pool", "c1"),
        mdl.fc("head", "pool", rng.standard_normal((3, 4))),
    ]
    return mdl.FloatModel((5, 5, 2), layers, name="pooled")
