# SPDX-License-Identifier: MIT
"""QAS update kernels: C equals numpy bit for bit in every mode, and each mode does what it
says (the QAS step is a float SGD step on W; truncation loses sub-LSB steps; stochastic
rounding is unbiased; values saturate, never wrap)."""

import itertools

import numpy as np
import pytest

from kernels_bwd_cases import random_grad, random_scales
from kernels_fwd_cases import assert_same
from microtrain_tools.sim import hostlib
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.reference import args as A
from microtrain_tools.reference.qas_update import Rounding

LAYOUTS = {
    "conv all channels": (4, 9, 5, 5, 0, None),
    "conv channel list": (3, 9, 6, 2, 0, [4, 1]),
    "conv first k": (3, 4, 6, 3, 0, "first"),
    "fc": (10, 1, 7, 7, 0, None),
    "depthwise list": (1, 9, 8, 3, 1, [0, 5, 7]),
    "depthwise first k": (1, 9, 8, 4, 1, "first"),
}


def s8_case(rng, layout, qas, rounding, lr=0.05, momentum=0.0, grad_scale=1.0, weights=None):
    outer, inner, c_total, k, on_channel, channels = layout
    count = outer * inner * k
    w = rng.integers(-127, 128, size=outer * inner * c_total, dtype=np.int8)
    if weights is not None:
        w[:] = weights
    ch = np.zeros(0, np.int32) if channels in (None, "first") else np.array(channels, np.int32)
    if channels is None:
        layout = (outer, inner, c_total, c_total, on_channel, None)
    scale = random_scales(rng, c_total if on_channel else outer, 1e-3, 0.05)
    grad = random_grad(rng, count, grad_scale)
    mom = np.zeros(0, np.float32)
    if momentum:
        mom = (rng.standard_normal(count) * 0.1).astype(np.float32)
    master = (w.reshape(outer * inner, c_total)[:, ch if ch.size else slice(0, k)].ravel()
              .astype(np.float32) + rng.uniform(-0.5, 0.5, count).astype(np.float32))
    if rounding != Rounding.MASTER:
        master = np.zeros(0, np.float32)
    state = np.array([rng.integers(1, 2**31)], np.uint32).view(np.int32)
    args = [outer, inner, c_total, k, on_channel, qas, int(rounding), A.f32_bits(lr),
            A.f32_bits(momentum)]
    return args, [w, grad, scale, ch, mom, master, state]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_s8_update_c_equals_numpy(layout):
    rng = np.random.default_rng(len(layout))
    for qas, rounding, momentum in itertools.product((0, 1), list(Rounding), (0.0, 0.9)):
        for grad_scale in (1.0, 300.0):  # the second saturates many weights
            args, bufs = s8_case(rng, LAYOUTS[layout], qas, rounding, momentum=momentum,
                                 grad_scale=grad_scale)
            out = assert_same("mt_qas_s8_update", args, bufs)
            assert out[0].min() >= -127 and out[0].max() <= 127


def test_s8_update_touches_only_the_selected_channels():
    rng = np.random.default_rng(1)
    args, bufs = s8_case(rng, LAYOUTS["conv channel list"], 1, Rounding.NEAREST, grad_scale=50)
    before = bufs[0].reshape(3, 9, 6).copy()
    after = assert_same("mt_qas_s8_update", args, bufs)[0].reshape(3, 9, 6)
    untouched = [c for c in range(6) if c not in (4, 1)]
    assert np.array_equal(before[..., untouched], after[..., untouched])
    assert not np.array_equal(before[..., [4, 1]], after[..., [4, 1]])


def test_saturates_instead_of_wrapping():
    rng = np.random.default_rng(2)
    for rounding in Rounding:
        args, bufs = s8_case(rng, LAYOUTS["fc"], 1, rounding, lr=1e6, weights=120)
        bufs[1][:] = -1.0  # every step pushes the weight up by a lot
        out = assert_same("mt_qas_s8_update", args, bufs)
        assert np.all(out[0] == 127), rounding


def bias_case(rng, count, qas, rounding, lr=0.05, momentum=0.0, bias=None):
    b = rng.integers(-5000, 5000, size=count).astype(np.int32) if bias is None else bias
    scale = random_scales(rng, count, 1e-6, 1e-3)
    grad = random_grad(rng, count)
    mom = np.zeros(0, np.float32)
    if momentum:
        mom = (rng.standard_normal(count) * 0.1).astype(np.float32)
    master = b.astype(np.float32) if rounding == Rounding.MASTER else np.zeros(0, np.float32)
    state = np.array([rng.integers(1, 2**31)], np.uint32).view(np.int32)
    args = [count, qas, int(rounding), A.f32_bits(lr), A.f32_bits(momentum)]
    return args, [b, grad, scale, mom, master, state]


def test_s32_update_c_equals_numpy():
    rng = np.random.default_rng(3)
    for qas, rounding, momentum in itertools.product((0, 1), list(Rounding), (0.0, 0.5)):
        for count in (1, 10, 33):
            assert_same("mt_qas_s32_update", *bias_case(rng, count, qas, rounding,
                                                        momentum=momentum))
    # Saturation at the float-exact int32 ends, in every mode, and the step clamp.
    for rounding in Rounding:
        args, bufs = bias_case(rng, 4, 1, rounding, lr=1e20,
                               bias=np.array([2**31 - 1000, -2**31 + 1000, 0, 5], np.int32))
        bufs[1][:] = [-1.0, 1.0, -1.0, 1.0]
        out = assert_same("mt_qas_s32_update", args, bufs)[0]
        # One step moves a value by at most 2^30 (the step clamp); a float32 master holds
        # 5 - 2^30 as -2^30.
        last = -(2**30) if rounding == Rounding.MASTER else 5 - 2**30
        assert list(out) == [2147483520, -2147483520, 2**30, last], rounding


def test_qas_step_equals_a_float_sgd_step_on_w():
    """Master mode with QAS: master_new * s_w == (master * s_w) - lr * dL/dW, to float32
    rounding of the few operations involved (relative 1e-6)."""
    rng = np.random.default_rng(4)
    args, bufs = s8_case(rng, LAYOUTS["conv all channels"], 1, Rounding.MASTER, lr=0.01)
    w_real = bufs[5].astype(np.float64) * np.repeat(bufs[2], 9 * 5)
    out = assert_same("mt_qas_s8_update", args, bufs)
    expect = w_real - 0.01 * bufs[1].astype(np.float64)
    got = out[5].astype(np.float64) * np.repeat(bufs[2], 9 * 5)
    inside = np.abs(out[5]) < 127  # not saturated
    assert np.allclose(got[inside], expect[inside], rtol=1e-6, atol=1e-9)
    # Without QAS the step is s_w^2 times smaller: the gradient in quantized units, unscaled.
    args[5] = 0
    bufs[5][:] = 0.0  # masters at 0, so float32 keeps the tiny steps exactly enough
    out = assert_same("mt_qas_s8_update", args, bufs)
    step = -out[5].astype(np.float64)
    assert np.allclose(step, 0.01 * bufs[1] * np.repeat(bufs[2], 45), rtol=1e-5, atol=1e-12)


def test_truncation_loses_sub_lsb_steps_and_stochastic_rounding_keeps_them_on_average():
    rng = np.random.default_rng(5)
    layout = (1, 1, 4000, 4000, 0, None)
    args, bufs = s8_case(rng, layout, 1, Rounding.TRUNCATE, weights=0)
    s = float(bufs[2][0])
    bufs[1][:] = np.float32(-0.3 * s / 0.05)  # a step of +0.3 LSB on every weight
    out = assert_same("mt_qas_s8_update", args, bufs)
    assert np.all(out[0] == 0), "truncation must drop a 0.3 LSB step"
    args[6] = int(Rounding.STOCHASTIC)
    out = assert_same("mt_qas_s8_update", args, bufs)
    assert abs(out[0].mean() - 0.3) < 0.03, out[0].mean()
    assert set(np.unique(out[0])) == {0, 1}


def test_init_copies_the_selected_weights_and_zeroes_momentum():
    rng = np.random.default_rng(6)
    w = rng.integers(-127, 128, size=2 * 3 * 5, dtype=np.int8)
    ch = np.array([4, 0], np.int32)
    bufs = [w, ch, np.ones(12, np.float32), np.zeros(12, np.float32)]
    out = assert_same("mt_qas_s8_init", [2, 3, 5, 2, 0], bufs)
    assert np.array_equal(out[3], w.reshape(6, 5)[:, [4, 0]].ravel().astype(np.float32))
    assert not out[2].any()
    b = rng.integers(-9999, 9999, size=5).astype(np.int32)
    out = assert_same("mt_qas_s32_init", [5], [b, np.ones(5, np.float32), np.zeros(5, np.float32)])
    assert np.array_equal(out[2], b.astype(np.float32)) and not out[1].any()


@pytest.mark.parametrize(
    "change,message",
    [
        ({6: 4}, "parameter out of range"),  # rounding mode 4
        ({5: 2}, "parameter out of range"),  # qas 2
        ({7: A.f32_bits(float("nan"))}, "parameter out of range"),  # lr NaN
        ({8: A.f32_bits(0.9)}, "wrong number of arguments"),  # momentum without its buffer
    ],
)
def test_update_refusals(change, message):
    rng = np.random.default_rng(7)
    args, bufs = s8_case(rng, LAYOUTS["fc"], 1, Rounding.NEAREST)
    for i, v in change.items():
        args[i] = v
    with pytest.raises(MicrotrainError, match=message):
        hostlib.run_op("mt_qas_s8_update", args, bufs)


def test_update_refuses_missing_state_and_bad_scales():
    rng = np.random.default_rng(8)
    args, bufs = s8_case(rng, LAYOUTS["fc"], 1, Rounding.STOCHASTIC)
    bufs[6][0] = 0  # xorshift32 state 0 never leaves 0
    with pytest.raises(MicrotrainError, match="wrong number of arguments"):
        hostlib.run_op("mt_qas_s8_update", args, bufs)
    args, bufs = s8_case(rng, LAYOUTS["fc"], 1, Rounding.MASTER)
    bufs[5] = np.zeros(0, np.float32)
    with pytest.raises(MicrotrainError, match="wrong number of arguments"):
        hostlib.run_op("mt_qas_s8_update", args, bufs)
    args, bufs = s8_case(rng, LAYOUTS["fc"], 1, Rounding.NEAREST)
    bufs[2][3] = 0.0
    with pytest.raises(MicrotrainError, match="parameter out of range"):
        hostlib.run_op("mt_qas_s8_update", args, bufs)
    args, bufs = s8_case(rng, LAYOUTS["conv channel list"], 1, Rounding.NEAREST)
    bufs[3][1] = 6
    with pytest.raises(MicrotrainError, match="parameter out of range"):
        hostlib.run_op("mt_qas_s8_update", args, bufs)


def test_nan_gradients_and_masters_do_not_move_a_weight():
    """A NaN step is no step; a NaN master restarts from the integer value (C == numpy)."""
    rng = np.random.default_rng(9)
    for rounding in Rounding:
        args, bufs = s8_case(rng, LAYOUTS["fc"], 1, rounding)
        bufs[1][:3] = np.nan
        if rounding == Rounding.MASTER:
            bufs[5][3] = np.nan
            bufs[1][3] = 0.0
        before = bufs[0].copy()
        out = assert_same("mt_qas_s8_update", args, bufs)
        assert np.array_equal(out[0][:3], before[:3]), rounding
        if rounding == Rounding.MASTER:
            assert out[5][3] == before[3] and out[0][3] == before[3]
