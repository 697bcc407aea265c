# SPDX-License-Identifier: MIT
"""mt_fc_s8_fwd: C equals numpy bit for bit; flatten of an NHWC input is free."""

import numpy as np
import pytest

from kernels_fwd_cases import assert_same, seed_of, fc_case

CASES = {
    "vector": dict(),
    "flattened feature map": dict(in_shape=(3, 4, 5), c_out=7),
    "batch of four": dict(n=4, in_shape=(1, 1, 33), c_out=5),
    "one output": dict(c_out=1),
    "one input feature": dict(in_shape=(1, 1, 1), c_out=6),
    "relu": dict(clamp="relu", c_out=12),
    "relu6": dict(clamp="relu6", c_out=12),
    "large scales": dict(scale_range=(0.3, 30.0), bias_range=1 << 30),
    "tiny scales": dict(scale_range=(1e-12, 1e-8)),
    "wide": dict(in_shape=(1, 1, 1000), c_out=3),
}


@pytest.mark.parametrize("name", CASES)
def test_fc_c_equals_numpy(name):
    rng = np.random.default_rng(seed_of(name))
    for _ in range(3):
        assert_same("mt_fc_s8_fwd", *fc_case(rng, **CASES[name]))


def test_fc_equals_1x1_conv_on_flattened_input():
    rng = np.random.default_rng(5)
    args, bufs = fc_case(rng, n=2, in_shape=(2, 2, 3), c_out=4)
    fc_out = assert_same("mt_fc_s8_fwd", args, bufs)[5]
    conv_args = [1, 1, 0, 0, *args[:4], 2, 1, 1, 12, 4, 1, 1, 12, 2, 1, 1, 4]
    conv_out = assert_same("mt_conv2d_s8_fwd", conv_args, bufs)[5]
    assert np.array_equal(fc_out, conv_out)
