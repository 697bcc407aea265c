# SPDX-License-Identifier: MIT
"""mt_avgpool_s8_fwd (global, TFLite rounding) and mt_dequant_s8_f32: C equals numpy."""

import numpy as np
import pytest

from kernels_fwd_cases import assert_same, avgpool_case, dequant_case, seed_of

POOL_CASES = {
    "5x5": dict(dims=(1, 5, 5, 8)),
    "7x7 batch 2": dict(dims=(2, 7, 7, 13)),
    "1x1": dict(dims=(1, 1, 1, 4)),
    "conv1d": dict(dims=(1, 1, 30, 6)),
    "even window": dict(dims=(1, 2, 2, 64)),
    "relu clamp": dict(dims=(1, 3, 3, 16), clamp=(0, 127)),
    "relu6 clamp": dict(dims=(1, 3, 3, 16), clamp=(-20, 40)),
}


@pytest.mark.parametrize("name", POOL_CASES)
def test_avgpool_c_equals_numpy(name):
    rng = np.random.default_rng(seed_of(name))
    for _ in range(3):
        assert_same("mt_avgpool_s8_fwd", *avgpool_case(rng, **POOL_CASES[name]))


def test_avgpool_rounds_half_away_from_zero():
    # Window of 2: sums 1, -1, 3, -3 are exact halves; sums 2 and -2 are exact.
    x = np.array([[1, 0], [-1, 0], [2, 1], [-2, -1], [1, 1], [-1, -1]], np.int8).T
    x = np.ascontiguousarray(x.reshape(1, 1, 2, 6))
    args = [0, 0, -128, 127, 1, 1, 2, 6, 1, 1, 1, 6]
    out = assert_same("mt_avgpool_s8_fwd", args, [x.ravel(), np.zeros(6, np.int8)])[1]
    assert out.tolist() == [1, -1, 2, -2, 1, -1]


DEQUANT_CASES = {
    "logits": dict(),
    "feature map": dict(dims=(2, 3, 4, 5)),
    "tiny scale": dict(scale=1e-30),
    "large scale": dict(scale=1e30),
    "subnormal scale": dict(scale=1e-40),
}


@pytest.mark.parametrize("name", DEQUANT_CASES)
def test_dequant_c_equals_numpy(name):
    rng = np.random.default_rng(seed_of(name))
    for _ in range(3):
        assert_same("mt_dequant_s8_f32", *dequant_case(rng, **DEQUANT_CASES[name]))


def test_dequant_is_the_real_value():
    rng = np.random.default_rng(2)
    args, bufs = dequant_case(rng, dims=(1, 1, 1, 256), scale=0.0625)
    bufs[0][:] = np.arange(-128, 128).astype(np.int8)
    out = assert_same("mt_dequant_s8_f32", args, bufs)[1]
    assert np.array_equal(out, 0.0625 * (np.arange(-128, 128) + args[0]))
