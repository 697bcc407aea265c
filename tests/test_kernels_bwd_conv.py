# SPDX-License-Identifier: MIT
"""Backward kernels of conv2d, pwconv2d, dwconv2d and fc: C equals numpy bit for bit."""

import numpy as np
import pytest

from kernels_bwd_cases import (
    conv_grad_in_case,
    conv_grad_w_case,
    fc_grad_in_case,
    fc_grad_w_case,
)
from kernels_fwd_cases import assert_same, seed_of
from microtrain_tools.sim import hostlib
from microtrain_tools.errors import MicrotrainError

CONV_CASES = {
    "3x3 same": dict(),
    "3x3 valid": dict(padding="valid", h=7, w=6),
    "3x3 same stride 2": dict(stride=(2, 2), h=9, w=8, c_in=5, c_out=7),
    "3x3 valid stride 2": dict(stride=(2, 2), padding="valid", h=8, w=9),
    "5x5 same": dict(k=(5, 5), h=6, w=5, c_in=2, c_out=3),
    "asymmetric 3x1 stride (2,1)": dict(k=(3, 1), stride=(2, 1), h=8, w=5),
    "kernel larger than input": dict(k=(5, 5), h=3, w=2, c_in=2, c_out=2),
    "1x1": dict(k=(1, 1), padding="valid", c_in=7, c_out=9),
    "1x1 stride 2": dict(k=(1, 1), stride=(2, 2), padding="valid", h=7, w=8, c_in=6, c_out=5),
    "conv1d k3": dict(h=1, w=12, k=(1, 3), c_in=3, c_out=5),
    "batch of three": dict(n=3, h=5, w=5, c_in=3, c_out=5),
    "channels not a multiple of 4": dict(c_in=5, c_out=7, h=4, w=5),
    "single pixel": dict(h=1, w=1, c_in=5, c_out=3),
}


@pytest.mark.parametrize("name", CONV_CASES)
def test_conv2d_grad_in(name):
    rng = np.random.default_rng(seed_of(name))
    for accumulate in (0, 1):
        assert_same("mt_conv2d_s8_grad_in", *conv_grad_in_case(rng, accumulate=accumulate,
                                                              **CONV_CASES[name]))


@pytest.mark.parametrize("name", CONV_CASES)
def test_conv2d_grad_w_channel_subsets(name):
    rng = np.random.default_rng(seed_of(name) + 1)
    case = CONV_CASES[name]
    c_in = case.get("c_in", 3)
    for k_sel in sorted({1, max(1, c_in // 2), c_in}):
        assert_same("mt_conv2d_s8_grad_w", *conv_grad_w_case(rng, k_sel=k_sel, **case))


DW_CASES = {
    "3x3 same": dict(c_in=5),
    "3x3 same stride 2": dict(stride=(2, 2), h=9, w=8, c_in=6),
    "3x3 valid": dict(padding="valid", h=7, w=6, c_in=3),
    "5x5 same": dict(k=(5, 5), h=6, w=5, c_in=2),
    "7x7 stride 2": dict(k=(7, 7), stride=(2, 2), h=9, w=9, c_in=3),
    "batch of two": dict(n=2, c_in=7),
    "conv1d": dict(h=1, w=10, k=(1, 5), c_in=4),
}


@pytest.mark.parametrize("name", DW_CASES)
def test_dwconv2d_grad_in(name):
    rng = np.random.default_rng(seed_of(name) + 2)
    for accumulate in (0, 1):
        assert_same("mt_dwconv2d_s8_grad_in", *conv_grad_in_case(
            rng, depthwise=True, accumulate=accumulate, **DW_CASES[name]))


@pytest.mark.parametrize("name", DW_CASES)
def test_dwconv2d_grad_w_channel_subsets(name):
    rng = np.random.default_rng(seed_of(name) + 3)
    case = DW_CASES[name]
    for k_sel in sorted({1, max(1, case["c_in"] // 2), case["c_in"]}):
        for channels in ("list", "first k"):
            assert_same("mt_dwconv2d_s8_grad_w", *conv_grad_w_case(
                rng, depthwise=True, k_sel=k_sel, channels=channels, **case))


def test_pwconv2d_grad_matches_conv2d_on_1x1():
    rng = np.random.default_rng(11)
    for stride in ((1, 1), (2, 2)):
        case = dict(k=(1, 1), padding="valid", stride=stride, h=5, w=6, c_in=6, c_out=5, n=2)
        args, bufs = conv_grad_in_case(rng, **case)
        pw = assert_same("mt_pwconv2d_s8_grad_in", args, bufs)
        conv = assert_same("mt_conv2d_s8_grad_in", args, bufs)
        assert np.array_equal(pw[1], conv[1])
        assert_same("mt_pwconv2d_s8_grad_w", *conv_grad_w_case(rng, k_sel=3, **case))


def test_pwconv2d_refuses_a_3x3_filter():
    args, bufs = conv_grad_in_case(np.random.default_rng(1))
    with pytest.raises(MicrotrainError, match="parameter out of range"):
        hostlib.run_op("mt_pwconv2d_s8_grad_in", args, bufs)


@pytest.mark.parametrize("in_shape", [(1, 1, 16), (2, 3, 5), (1, 1, 1)])
def test_fc_grad(in_shape):
    rng = np.random.default_rng(seed_of(str(in_shape)))
    for n in (1, 3):
        for accumulate in (0, 1):
            assert_same("mt_fc_s8_grad_in", *fc_grad_in_case(
                rng, n=n, in_shape=in_shape, c_out=7, accumulate=accumulate))
        k_sel = int(np.prod(in_shape))
        assert_same("mt_fc_s8_grad_w", *fc_grad_w_case(rng, n=n, k_sel=max(1, k_sel // 2)))


def test_grad_in_accumulate_adds_to_what_is_there():
    """accumulate=1 gives the accumulate=0 result plus the old contents (to float rounding)."""
    rng = np.random.default_rng(5)
    args, bufs = conv_grad_in_case(rng, accumulate=1)
    old = bufs[1].copy()
    acc = assert_same("mt_conv2d_s8_grad_in", args, bufs)[1]
    args[-1] = 0
    fresh = assert_same("mt_conv2d_s8_grad_in", args, bufs)[1]
    assert np.array_equal(acc, (old + fresh).astype(np.float32))


def test_grad_w_refuses_bad_shapes_and_sizes():
    rng = np.random.default_rng(9)
    args, bufs = conv_grad_w_case(rng)
    short = [bufs[0], bufs[1][:-1], bufs[2]]
    with pytest.raises(MicrotrainError, match="buffer too small"):
        hostlib.run_op("mt_conv2d_s8_grad_w", args, short)
    bad = list(args)
    bad[20] = 0  # input scale 0.0
    with pytest.raises(MicrotrainError, match="parameter out of range"):
        hostlib.run_op("mt_conv2d_s8_grad_w", bad, bufs)
    bad = list(args)
    bad[16 + 3] = 99  # output channels != filter's c_out
    with pytest.raises(MicrotrainError):
        hostlib.run_op("mt_conv2d_s8_grad_w", bad, bufs)
    args, bufs = conv_grad_w_case(rng, depthwise=True, c_in=4, k_sel=2)
    bufs[1][:] = [1, 4]  # channel 4 of 4 does not exist
    with pytest.raises(MicrotrainError, match="parameter out of range"):
        hostlib.run_op("mt_dwconv2d_s8_grad_w", args, bufs)
