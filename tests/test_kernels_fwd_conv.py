# SPDX-License-Identifier: MIT
"""mt_conv2d_s8_fwd and its 1x1 fast path mt_pwconv2d_s8_fwd: C equals numpy bit for bit."""

import numpy as np
import pytest

from kernels_fwd_cases import assert_same, seed_of, conv_case

CASES = {
    "3x3 same": dict(),
    "3x3 valid": dict(padding="valid", h=9, w=7),
    "3x3 same stride 2": dict(stride=(2, 2), h=9, w=8, c_in=5, c_out=7),
    "3x3 valid stride 2": dict(stride=(2, 2), padding="valid", h=10, w=9),
    "5x5 same": dict(k=(5, 5), h=7, w=6, c_in=2, c_out=3),
    "7x7 same stride 2": dict(k=(7, 7), stride=(2, 2), h=11, w=12, c_in=3, c_out=6),
    "asymmetric 3x1 stride (2,1)": dict(k=(3, 1), stride=(2, 1), h=8, w=5),
    "kernel larger than input": dict(k=(5, 5), h=3, w=2, c_in=2, c_out=2),
    "1x1 (pointwise)": dict(k=(1, 1), padding="valid", c_in=7, c_out=9),
    "1x1 stride 2": dict(k=(1, 1), stride=(2, 2), padding="valid", h=7, w=8, c_in=6, c_out=5),
    "conv1d k3": dict(h=1, w=20, k=(1, 3), c_in=3, c_out=8),
    "conv1d k5 stride 2": dict(h=1, w=21, k=(1, 5), stride=(1, 2), c_in=6, c_out=4),
    "batch of three": dict(n=3, h=5, w=5, c_in=3, c_out=5),
    "relu": dict(clamp="relu", c_out=6),
    "relu6": dict(clamp="relu6", c_out=6),
    "large scales saturate": dict(scale_range=(0.5, 40.0), bias_range=200000),
    "tiny scales": dict(scale_range=(1e-9, 1e-6)),
    "1 channel in and out": dict(c_in=1, c_out=1, h=4, w=4),
    "single pixel": dict(h=1, w=1, c_in=5, c_out=3),
}


@pytest.mark.parametrize("name", CASES)
def test_conv2d_c_equals_numpy(name):
    rng = np.random.default_rng(seed_of(name))
    for _ in range(3):
        assert_same("mt_conv2d_s8_fwd", *conv_case(rng, **CASES[name]))


def test_conv2d_corners_are_reached():
    """The cases above really hit both clamp ends and a scale > 1 (positive shift)."""
    rng = np.random.default_rng(7)
    args, bufs = conv_case(rng, **CASES["large scales saturate"])
    out = assert_same("mt_conv2d_s8_fwd", args, bufs)[5]
    assert out.min() == -128 and out.max() == 127
    assert (bufs[1] > 0).any(), "no channel with a positive shift"
    args, bufs = conv_case(rng, **CASES["relu6"])
    out = assert_same("mt_conv2d_s8_fwd", args, bufs)[5]
    act_min, act_max = args[6], args[7]
    assert out.min() == act_min and out.max() == act_max


@pytest.mark.parametrize("name", [n for n in CASES if n.startswith("1x1")])
def test_pointwise_fast_path_equals_general(name):
    """The same 1x1 case through the conv2d dispatcher and the pwconv2d kernel: same bytes."""
    rng = np.random.default_rng(11)
    args, bufs = conv_case(rng, **CASES[name])
    via_conv = assert_same("mt_conv2d_s8_fwd", args, bufs)[5]
    via_pw = assert_same("mt_pwconv2d_s8_fwd", args, bufs)[5]
    assert np.array_equal(via_conv, via_pw)


@pytest.mark.parametrize("name", [n for n in CASES if n.startswith("1x1")])
def test_pointwise_fast_path_equals_general_path_in_c(name):
    """The same sums through the general C path: each pixel's channels become a 1 x c_in row
    convolved (VALID) with a 1 x c_in filter, which the dispatcher cannot send to pwconv2d."""
    rng = np.random.default_rng(seed_of(name) + 1)
    args, bufs = conv_case(rng, **CASES[name])
    pw_out = assert_same("mt_pwconv2d_s8_fwd", args, bufs)[5]
    n, h, w, c_in = args[8:12]
    c_out = args[12]
    _, out_h, out_w, _ = args[16:20]
    x = bufs[2].reshape(n, h, w, c_in)[:, :: args[0], :: args[1]][:, :out_h, :out_w]
    pixels = n * out_h * out_w
    general = list(args)
    general[8:20] = [pixels, 1, c_in, 1, c_out, 1, c_in, 1, pixels, 1, 1, c_out]
    general[0:4] = [1, 1, 0, 0]
    rows = [bufs[0], bufs[1], np.ascontiguousarray(x).ravel(), bufs[3], bufs[4],
            np.zeros(pixels * c_out, np.int8)]
    general_out = assert_same("mt_conv2d_s8_fwd", general, rows)[5]
    assert c_in > 1, "with one input channel the general case would be 1x1 again"
    assert np.array_equal(pw_out, general_out)


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_random_shapes(seed):
    rng = np.random.default_rng(1000 + seed)
    k = tuple(int(v) for v in rng.choice([1, 2, 3, 5], size=2))
    stride = tuple(int(v) for v in rng.integers(1, 3, size=2))
    case = dict(
        n=int(rng.integers(1, 3)),
        h=int(rng.integers(max(k[0], 1), 10)),
        w=int(rng.integers(max(k[1], 1), 10)),
        c_in=int(rng.integers(1, 10)),
        c_out=int(rng.integers(1, 10)),
        k=k,
        stride=stride,
        padding=str(rng.choice(["same", "valid"])),
        clamp=str(rng.choice(["none", "relu", "relu6"])),
    )
    assert_same("mt_conv2d_s8_fwd", *conv_case(rng, **case))
