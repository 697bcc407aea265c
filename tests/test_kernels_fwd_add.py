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
