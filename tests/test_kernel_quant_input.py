# SPDX-License-Identifier: MIT
"""mt_quant_f32_s8 (float input -> int8): C equals the numpy reference bit for bit."""

import numpy as np
import pytest

from microtrain_tools.sim import hostlib
from microtrain_tools.compiler.forward import float_bits
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.reference import REFERENCE_OPS


def run_both(x, zero_point, scale):
    dims = [1, 1, 1, x.size]
    args = [zero_point, float_bits(1.0 / scale)] + dims
    out_c = np.zeros(x.size, np.int8)
    out_ref = np.zeros(x.size, np.int8)
    hostlib.run_op("mt_quant_f32_s8", args, [x, out_c])
    REFERENCE_OPS["mt_quant_f32_s8"](args, [x, out_ref])
    return out_c, out_ref


@pytest.mark.parametrize("seed", range(5))
def test_c_equals_reference(seed):
    rng = np.random.default_rng(seed)
    scale = float(rng.uniform(0.001, 0.5))
    zp = int(rng.integers(-128, 128))
    x = (rng.standard_normal(997) * 100 * scale).astype(np.float32)
    x[:40] = (np.arange(-20, 20) + 0.5) * scale  # ties
    x[40:42] = [1e30, -1e30]
    c, ref = run_both(x, zp, scale)
    assert np.array_equal(c, ref)
    assert c[40] == 127 and c[41] == -128


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_refused_and_nothing_written(bad):
    x = np.ones(8, np.float32)
    x[3] = bad
    out = np.full(8, 7, np.int8)
    args = [0, float_bits(1.0), 1, 1, 1, 8]
    with pytest.raises(MicrotrainError, match="NaN or infinite"):
        hostlib.run_op("mt_quant_f32_s8", args, [x, out])
    assert (out == 7).all()
    with pytest.raises(MicrotrainError, match="NaN or infinite"):
        REFERENCE_OPS["mt_quant_f32_s8"](args, [x, out])


def test_rounds_half_away_from_zero():
    x = np.array([0.5, 1.5, -0.5, -1.5, 2.49, -2.51], np.float32)
    c, _ = run_both(x, 0, 1.0)
    assert c.tolist() == [1, 2, -1, -2, 2, -3]


def test_bad_parameters_are_refused():
    x = np.zeros(4, np.float32)
    with pytest.raises(MicrotrainError, match="parameter out of range"):
        hostlib.run_op("mt_quant_f32_s8", [200, float_bits(1.0), 1, 1, 1, 4],
                       [x, np.zeros(4, np.int8)])
    with pytest.raises(MicrotrainError):
        hostlib.run_op("mt_quant_f32_s8", [0, float_bits(1.0), 1, 1, 1, 8],
                       [x, np.zeros(8, np.int8)])
