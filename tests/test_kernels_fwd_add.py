# SPDX-License-Identifier: MIT
"""mt_add_s8_fwd (TFLite int8 ADD arithmetic): C equals numpy bit for bit."""

import numpy as np
import pytest

from kernels_fwd_cases import add_case, add_params_case, assert_same, seed_of
from microtrain_tools.formats.tflite_params import add_params

CASES = {
    "small": dict(dims=(1, 2, 2, 3)),
    "feature map": dict(dims=(2, 5, 6, 7)),
    "relu": dict(dims=(1, 4, 4, 8), clamp="relu"),
    "equal scales": dict(scales=(0.05, 0.05, 0.1)),
    "very different scales": dict(scales=(1e-3, 0.5, 0.4)),
    "output scale much smaller (saturates)": dict(scales=(0.1, 0.2, 0.001)),
    "output scale much larger": dict(scales=(0.01, 0.02, 10.0)),
}


@pytest.mark.parametrize("name", CASES)
def test_add_c_equals_numpy(name):
    rng = np.random.default_rng(seed_of(name))
    for _ in range(3):
        assert_same("mt_add_s8_fwd", *add_case(rng, **CASES[name]))


def test_add_exhaustive_over_all_input_pairs():
    """All 256 x 256 pairs of int8 inputs, for a few quantizations."""
    a, b = np.meshgrid(np.arange(-128, 128), np.arange(-128, 128), indexing="ij")
    x1, x2 = a.astype(np.int8).reshape(1, 256, 256, 1), b.astype(np.int8).reshape(1, 256, 256, 1)
    for s1, zp1, s2, zp2, s_out, zp_out in [
        (0.02, 3, 0.03, -7, 0.04, 10),
        (0.5, -128, 0.001, 127, 0.3, -5),
        (0.1, 0, 0.1, 0, 0.2, 0),
    ]:
        out = assert_same("mt_add_s8_fwd", *add_params_case(add_params(s1, zp1, s2, zp2, s_out,
                                                                        zp_out), x1, x2))[2]
        assert out.min() == -128 or out.max() == 127 or len(np.unique(out)) > 100


def test_add_is_close_to_real_arithmetic():
    """A sanity check of the parameters: the result is the float sum within one step."""
    rng = np.random.default_rng(9)
    s1, s2, s_out, zp1, zp2, zp_out = 0.02, 0.03, 0.05, 5, -3, 2
    x1 = rng.integers(-128, 128, size=(1, 1, 1, 500), dtype=np.int8)
    x2 = rng.integers(-128, 128, size=(1, 1, 1, 500), dtype=np.int8)
    out = assert_same("mt_add_s8_fwd", *add_params_case(add_params(s1, zp1, s2, zp2, s_out,
                                                                    zp_out), x1, x2))[2]
    real = s1 * (x1.ravel().astype(float) - zp1) + s2 * (x2.ravel().astype(float) - zp2)
    expect = np.clip(np.round(real / s_out) + zp_out, -128, 127)
    assert np.abs(out.astype(float) - expect).max() <= 1


def observable_rescale_case(rng, exponent: int, multiplier: int):
    """Input 1 at (multiplier, -exponent) with offset 0, input 2 held at its zero point (adds 0)
    and the output at scale 1 (multiplier 2^30, shift 1): the output is input 1's rescaled value
    itself, so an off-by-one in the rescale shows."""
    from microtrain_tools.formats.quant import AddParams

    zp2 = int(rng.integers(-128, 128))
    p = AddParams(0, multiplier, -exponent, -zp2, 1 << 30, 0, 1 << 30, 1, 0, -128, 127)
    x1 = np.arange(-128, 128, dtype=np.int8).reshape(1, 1, 16, 16)
    x2 = np.full_like(x1, zp2)
    return add_params_case(p, x1, x2)


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, 10, 19, 20, 21, 31])
def test_add_input_rescale_exact_at_every_exponent(exponent):
    """The prepared rescale (shift in [-20, 0], multiplier >= 2^11, 32-bit products) against
    numpy's 64-bit arithmetic, one output per rescaled value: multipliers that scale by 1/2 to
    1 (1 to 2 at exponent 0: there the rescaled values fill the int8 range; real models'
    multipliers are 2^30 and up), random low
    bits, and 2^11 - 1 and shifts below -20, which take the general path."""
    rng = np.random.default_rng(exponent)
    low = min(max(1 << (10 + exponent), 1 << 11), 1 << 30)
    high = max(min(1 << (11 + exponent), (1 << 31) - 1), low + (1 << 11))
    multipliers = {low, high, (1 << 11) - 1, *(int(m) for m in rng.integers(low, high, 4))}
    for m in sorted(multipliers):
        out = assert_same("mt_add_s8_fwd", *observable_rescale_case(rng, exponent, m))[2]
        if exponent <= 20 and m >= 1 << 11:
            assert len(np.unique(out)) >= 120, "the rescaled values should fill the range"
