# SPDX-License-Identifier: MIT
"""mt_dwconv2d_s8_fwd (depthwise, multiplier 1): C equals numpy bit for bit."""

import numpy as np
import pytest

from kernels_fwd_cases import assert_same, seed_of, conv_case

CASES = {
    "3x3 same": dict(h=8, w=8, c_in=8),
    "3x3 same stride 2": dict(stride=(2, 2), h=9, w=10, c_in=6),
    "3x3 valid": dict(padding="valid", h=6, w=7, c_in=5),
    "5x5 same": dict(k=(5, 5), h=9, w=9, c_in=3),
    "7x7 same stride 2": dict(k=(7, 7), stride=(2, 2), h=14, w=13, c_in=7),
    "7x7 valid stride 2": dict(k=(7, 7), stride=(2, 2), padding="valid", h=15, w=16, c_in=4),
    "conv1d": dict(h=1, w=17, k=(1, 5), c_in=6),
    "batch of two, relu6": dict(n=2, clamp="relu6", c_in=9),
    "relu": dict(clamp="relu", c_in=3),
    "large scales": dict(scale_range=(0.5, 50.0), bias_range=100000),
    "tiny scales": dict(scale_range=(1e-10, 1e-7)),
    "one channel": dict(c_in=1, h=5, w=3),
}


@pytest.mark.parametrize("name", CASES)
def test_dwconv2d_c_equals_numpy(name):
    rng = np.random.default_rng(seed_of(name))
    for _ in range(3):
        assert_same("mt_dwconv2d_s8_fwd", *conv_case(rng, depthwise=True, **CASES[name]))


def test_dwconv2d_equals_conv2d_per_channel():
    """Depthwise on c channels equals c separate one-channel conv2d calls."""
    rng = np.random.default_rng(3)
    args, bufs = conv_case(rng, depthwise=True, h=7, w=6, c_in=4, stride=(2, 2))
    out = assert_same("mt_dwconv2d_s8_fwd", args, bufs)[5].reshape(1, 4, 3, 4)
    mult, shift, x, w, bias = bufs[:5]
    x, w = x.reshape(1, 7, 6, 4), w.reshape(1, 3, 3, 4)
    for c in range(4):
        one = list(args)
        one[8:20] = [1, 7, 6, 1, 1, 3, 3, 1, 1, 4, 3, 1]
        sub = [mult[c : c + 1], shift[c : c + 1], np.ascontiguousarray(x[..., c]).ravel(),
               np.ascontiguousarray(w[..., c]).ravel(), bias[c : c + 1], np.zeros(12, np.int8)]
        got = assert_same("mt_conv2d_s8_fwd", one, sub)[5]
        assert np.array_equal(got, out[..., c].ravel()), f"channel {c}"
