# SPDX-License-Identifier: MIT
"""mt_mean_s8_fwd, TFLite's int8 MEAN over h and w into another scale: the folded multiplier
(tflite_params.mean_multiplier) against an exact model of TFLite's arithmetic, the C kernel
against the numpy reference, refusals; the imports that use it equal LiteRT
(tests/test_tflite_import.py model_mean, tests/test_published_model.py)."""

from fractions import Fraction
from math import floor

import numpy as np
import pytest

from kernels_fwd_cases import assert_same
from test_kernels_fwd_errors import refused
from microtrain_tools.formats.quant import quantize_multiplier
from microtrain_tools.formats.tflite_params import mean_multiplier


def mean_case(rng, dims, zp_in, zp_out, scale_ratio, act=(-128, 127)):
    n, h, w, c = dims
    m, s = mean_multiplier(scale_ratio, 1.0, h * w)
    x = rng.integers(-128, 128, dims).astype(np.int8)
    args = [-zp_in, zp_out, act[0], act[1], m, s, *dims, n, 1, 1, c]
    return args, [x, np.zeros((n, 1, 1, c), np.int8)]


def test_folded_multiplier_is_tflites():
    """(m << k) // n with k = min(floor(log2 n), 32, 31 + shift), shift - k: as TFLite's
    QuantizedMeanOrSum, stated with Python integers."""
    for ratio in (0.3, 2.42, 1e-3, 0.999, 7.5):
        m, s = quantize_multiplier(float(np.float32(ratio)))
        for n in (1, 2, 3, 4, 36, 49, 64, 100, 1 << 20):
            k = min(n.bit_length() - 1, 32, 31 + s)
            assert mean_multiplier(ratio, 1.0, n) == ((m << k) // n, s - k), (ratio, n)
            folded, shift = mean_multiplier(ratio, 1.0, n)
            # The folded scale is 1/n of the ratio to within the multiplier's precision.
            got = Fraction(folded, 2 ** (31 - shift))
            assert abs(got * n / Fraction(ratio) - 1) < Fraction(1, 1 << 20), (ratio, n)


@pytest.mark.parametrize("dims,zp_in,zp_out,ratio,act", [
    ((1, 2, 2, 384), -128, -128, 2.42, (-128, 127)),  # the published MobileNetV2 KWS
    ((1, 6, 6, 8), 0, 0, 4.15, (-128, 127)),  # the converter-made fixture's ratio
    ((2, 5, 3, 7), 17, -3, 0.37, (-128, 127)),
    ((1, 7, 7, 16), 0, 40, 1.0, (40, 127)),  # relu-style clamp at the output zero point
    ((3, 1, 1, 5), -20, 5, 0.8, (-128, 127)),  # a 1x1 map: a pure requantization
    ((1, 64, 64, 3), 127, -128, 0.05, (-128, 127)),
])
def test_c_mean_equals_reference(dims, zp_in, zp_out, ratio, act):
    rng = np.random.default_rng(sum(dims) + zp_in + 128)
    args, bufs = mean_case(rng, dims, zp_in, zp_out, ratio, act)
    out = assert_same("mt_mean_s8_fwd", args, bufs)[1]
    assert len(np.unique(out)) > 3 or dims[3] < 8


def test_reference_is_tflites_mean_by_exact_rationals():
    """sum - n*zp_in, times the folded multiplier with TFLite's two roundings, + zp_out."""
    rng = np.random.default_rng(7)
    args, bufs = mean_case(rng, (1, 6, 6, 8), 11, -4, 0.61)
    out = assert_same("mt_mean_s8_fwd", args, bufs)[1].ravel()
    m, s = args[4], args[5]
    for ch, got in enumerate(out):
        acc = int(bufs[0][0, :, :, ch].astype(np.int64).sum()) - 11 * 36
        high = floor(Fraction(acc * m, 2 ** 31) + Fraction(1, 2))
        q = Fraction(high, 2 ** -s)
        y = int(floor(abs(q) + Fraction(1, 2)) * (1 if q >= 0 else -1)) - 4
        assert got == max(-128, min(127, y)), ch


def test_bad_parameters_are_refused():
    rng = np.random.default_rng(1)
    args, bufs = mean_case(rng, (1, 3, 3, 4), 0, 0, 0.5)
    for index, value, message in ((4, -5, "param"), (5, 31, "param"), (5, -32, "param")):
        bad = list(args)
        bad[index] = value
        refused("mt_mean_s8_fwd", bad, [b.copy() for b in bufs], message)
    wrong_out = list(args)
    wrong_out[12] = 2  # output h
    refused("mt_mean_s8_fwd", wrong_out, [bufs[0], np.zeros(8, np.int8)], "shape|size")
