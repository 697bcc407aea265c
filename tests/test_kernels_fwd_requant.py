# SPDX-License-Identifier: MIT
"""Requantization: quant.py against an exact rational model of TFLite's arithmetic, and the C
mt_requant_s8 (natmod/kernels/mt_requant.h) against quant.py, including rounding ties, through a
1x1 convolution (the fc rounds once: tests/test_kernel_fc_rounding.py)."""

from fractions import Fraction
from math import floor

import numpy as np

from kernels_fwd_cases import assert_same
from microtrain_tools.formats.quant import INT32_MAX, INT32_MIN, multiply_by_quantized_multiplier


def exact_model(x: int, multiplier: int, shift: int) -> int:
    """TFLite's two roundings stated as exact rationals: the high multiply rounds half up,
    the power-of-two division rounds half away from zero; the left shift saturates."""
    x = min(max(x * 2 ** max(shift, 0), INT32_MIN), INT32_MAX)
    if x == INT32_MIN and multiplier == INT32_MIN:
        high = INT32_MAX
    else:
        high = floor(Fraction(x * multiplier, 2**31) + Fraction(1, 2))
    q = Fraction(high, 2 ** max(-shift, 0))
    return int(floor(abs(q) + Fraction(1, 2)) * (1 if q >= 0 else -1))


def corner_values(rng):
    xs = [0, 1, -1, 2, -2, 3, -3, 127, -128, 1 << 20, -(1 << 20), INT32_MAX, INT32_MIN,
          INT32_MAX - 1, INT32_MIN + 1]
    xs += [int(v) for v in rng.integers(INT32_MIN, INT32_MAX, size=100, dtype=np.int64)]
    xs += [int(v) for v in rng.integers(-5000, 5000, size=100)]
    mults = [0, 1, 1 << 29, 1 << 30, (1 << 31) - 1, 1518500250, -(1 << 30), INT32_MIN]
    mults += [int(v) for v in rng.integers(1 << 30, 1 << 31, size=20)]
    shifts = [-31, -20, -8, -1, 0, 1, 5, 30]
    return xs, mults, shifts


def test_quant_py_equals_exact_model():
    rng = np.random.default_rng(31)
    xs, mults, shifts = corner_values(rng)
    for m in mults:
        for s in shifts:
            got = multiply_by_quantized_multiplier(np.array(xs, np.int64), m, s)
            want = [exact_model(x, m, s) for x in xs]
            assert got.tolist() == want, (m, s)


def requant_case(bias, mult, shift, zp=0, act=(-128, 127), op="conv"):
    """A 1x1 conv (or an fc) with one input at its zero point: accumulator == bias, one channel
    per value."""
    c = len(bias)
    dims = [1, 1, 1, 1, c, 1, 1, 1, 1, 1, 1, c]
    args = [0, zp, act[0], act[1], *dims] if op == "fc" else [1, 1, 0, 0, 0, zp, *act, *dims]
    bufs = [np.asarray(mult, np.int32), np.asarray(shift, np.int32), np.zeros(1, np.int8),
            np.ones(c, np.int8), np.asarray(bias, np.int32), np.zeros(c, np.int8)]
    return args, bufs


def test_c_requant_equals_quant_py_on_ties_and_ranges():
    rng = np.random.default_rng(32)
    bias, mult, shift = [], [], []
    # Exact ties: scale 2^-e (multiplier 2^30, shift 1 - e) on odd multiples of 2^(e-1).
    for e in range(1, 12):
        for k in range(-9, 10, 2):
            bias.append(k * (1 << (e - 1)))
            mult.append(1 << 30)
            shift.append(1 - e)
    # Random scales over the whole shift range, accumulators that land inside int8.
    for _ in range(3000):
        s = int(rng.integers(-31, 31))
        m = int(rng.integers(1 << 30, 1 << 31))
        scale = m * 2.0 ** (s - 31)
        target = rng.uniform(-140, 140)
        acc = int(np.clip(round(target / scale) + int(rng.integers(-2, 3)), INT32_MIN, INT32_MAX))
        bias.append(acc)
        mult.append(m)
        shift.append(s)
    out = assert_same("mt_conv2d_s8_fwd", *requant_case(bias, mult, shift))[5]
    want = np.clip(multiply_by_quantized_multiplier(bias, mult, shift), -128, 127)
    assert np.array_equal(out, want)
    assert len(np.unique(out)) == 256, "outputs should cover the whole int8 range"


def test_c_requant_zero_point_and_clamp():
    bias = list(range(-300, 301, 7))
    n = len(bias)
    for zp, act in [(-128, (-128, 127)), (127, (-128, 127)), (5, (5, 60)), (-3, (-100, -90))]:
        args, bufs = requant_case(bias, [1 << 30] * n, [0] * n, zp, act)
        out = assert_same("mt_conv2d_s8_fwd", args, bufs)[5]
        want = np.clip(multiply_by_quantized_multiplier(bias, 1 << 30, 0) + zp, *act)
        assert np.array_equal(out, want), (zp, act)
