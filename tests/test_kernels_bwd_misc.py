# SPDX-License-Identifier: MIT
"""Small backward kernels, the losses and the float32 exp/log: C equals numpy bit for bit."""

import numpy as np
import pytest

from kernels_bwd_cases import random_grad
from kernels_fwd_cases import assert_same, seed_of
from microtrain_tools.sim import hostlib
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.reference import args as A
from microtrain_tools.reference.fmath import expf, logf

DIMS = [(1, 1, 1, 10), (2, 3, 5, 7), (1, 4, 4, 3), (3, 1, 1, 1)]


@pytest.mark.parametrize("dims", DIMS)
def test_bias_grad(dims):
    rng = np.random.default_rng(seed_of(str(dims)))
    g = random_grad(rng, dims)
    out = assert_same("mt_bias_f32_grad_b", list(dims), [g.ravel(), np.zeros(dims[3], np.float32)])
    assert np.allclose(out[1], g.reshape(-1, dims[3]).sum(0, dtype=np.float64), rtol=1e-5,
                       atol=1e-6)


@pytest.mark.parametrize("dims", DIMS)
def test_clamp_grad_zeroes_exactly_the_clamped_outputs(dims):
    rng = np.random.default_rng(seed_of(str(dims)) + 1)
    for act_min, act_max in ((-128, 127), (-5, 127), (-20, 40)):
        y = rng.integers(-128, 128, size=dims, dtype=np.int8)
        y.ravel()[:3] = [act_min, act_max, (act_min + act_max) // 2]
        y = np.clip(y, act_min, act_max).astype(np.int8)
        g = random_grad(rng, dims) + np.float32(1.0)  # no zeros, so a zero means masked
        out = assert_same("mt_clamp_s8_grad_in", [act_min, act_max, *dims],
                          [y.ravel(), g.ravel()])[1]
        on_bound = (y.ravel() == act_min) | (y.ravel() == act_max)
        assert np.all(out[on_bound] == 0) and np.all(out[~on_bound] == g.ravel()[~on_bound])


@pytest.mark.parametrize("dims", DIMS)
def test_add_and_avgpool_grad(dims):
    rng = np.random.default_rng(seed_of(str(dims)) + 2)
    n, h, w, c = dims
    for accumulate in (0, 1):
        g = random_grad(rng, dims)
        prev = random_grad(rng, dims)
        out = assert_same("mt_add_f32_grad_in", [*dims, accumulate], [g.ravel(), prev.ravel()])
        assert np.array_equal(out[1], (g + prev).ravel() if accumulate else g.ravel())
        gp = random_grad(rng, (n, c))
        out = assert_same("mt_avgpool_f32_grad_in", [*dims, accumulate],
                          [gp.ravel(), prev.ravel()])[1].reshape(dims)
        expect = np.broadcast_to(gp[:, None, None, :] / np.float32(h * w), dims)
        expect = expect + prev if accumulate else expect
        assert np.array_equal(out, expect.astype(np.float32))


def test_chansel_gathers_the_selected_channels():
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, size=(2, 3, 4, 6), dtype=np.int8)
    sel = np.array([5, 0, 3], np.int32)
    out = assert_same("mt_chansel_s8_fwd", [2, 3, 4, 6, 3],
                      [x.ravel(), sel, np.zeros(2 * 3 * 4 * 3, np.int8)])[2]
    assert np.array_equal(out.reshape(2, 3, 4, 3), x[..., sel])
    out = assert_same("mt_chansel_s8_fwd", [2, 3, 4, 6, 2],
                      [x.ravel(), np.zeros(0, np.int32), np.zeros(2 * 3 * 4 * 2, np.int8)])[2]
    assert np.array_equal(out.reshape(2, 3, 4, 2), x[..., :2])
    with pytest.raises(MicrotrainError, match="parameter out of range"):
        hostlib.run_op("mt_chansel_s8_fwd", [2, 3, 4, 6, 7],
                       [x.ravel(), np.zeros(0, np.int32), np.zeros(2 * 3 * 4 * 7, np.int8)])


def test_expf_logf_are_accurate():
    """Relative error of exp below 2.5e-7 (about 2 float32 ulp; measured 2.45e-7), log within
    2e-7 absolute plus 1 ulp of float64, over the ranges the loss uses."""
    x = np.linspace(-87, 0, 200001, dtype=np.float32)
    e, ref = expf(x).astype(np.float64), np.exp(x.astype(np.float64))
    assert np.max(np.abs(e - ref) / ref) < 2.5e-7
    y = np.exp(np.linspace(0, 6, 100001)).astype(np.float32)
    err = np.abs(logf(y).astype(np.float64) - np.log(y.astype(np.float64)))
    assert np.max(err - np.spacing(np.log(y).astype(np.float32))) < 2e-7


def loss_case(rng, n, c, scale, zp, logits=None, mse=False):
    q = rng.integers(-128, 128, size=(n, c), dtype=np.int8) if logits is None else logits
    if mse:
        target = (rng.standard_normal((n, c)) * scale * 40).astype(np.float32).ravel()
    else:
        target = rng.integers(0, c, size=n).astype(np.int32)
    args = [n, c, -zp, A.f32_bits(scale)]
    return args, [q.ravel(), target, np.zeros(1, np.float32), np.zeros(n * c, np.float32)]


XENT_CASES = {
    "10 classes": (1, 10, 0.1, 3),
    "batch of 4": (4, 10, 0.05, -20),
    "2 classes": (3, 2, 0.25, 0),
    "huge scale (exp underflows)": (2, 6, 5.0, 10),
    "tiny scale": (2, 5, 1e-4, -128),
    "1 class": (2, 1, 0.1, 0),
}


@pytest.mark.parametrize("name", XENT_CASES)
def test_xent_c_equals_numpy_and_float64(name):
    n, c, scale, zp = XENT_CASES[name]
    rng = np.random.default_rng(seed_of(name))
    args, bufs = loss_case(rng, n, c, scale, zp)
    out = assert_same("mt_xent_s8_grad_in", args, bufs)
    z = scale * (bufs[0].reshape(n, c).astype(np.float64) - zp)
    z -= z.max(1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    labels = bufs[1]
    loss = np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(n), labels])
    onehot = np.eye(c)[labels]
    assert out[2][0] == pytest.approx(loss, rel=1e-5, abs=1e-6)
    assert np.allclose(out[3].reshape(n, c), (p - onehot) / n, atol=1e-6)


def test_xent_refuses_a_label_out_of_range():
    args, bufs = loss_case(np.random.default_rng(0), 2, 4, 0.1, 0)
    bufs[1][1] = 4
    with pytest.raises(MicrotrainError, match="parameter out of range"):
        hostlib.run_op("mt_xent_s8_grad_in", args, bufs)


@pytest.mark.parametrize("n,c", [(1, 1), (1, 10), (4, 3)])
def test_mse_c_equals_numpy_and_float64(n, c):
    rng = np.random.default_rng(n * 100 + c)
    args, bufs = loss_case(rng, n, c, 0.02, 7, mse=True)
    out = assert_same("mt_mse_s8_grad_in", args, bufs)
    d = 0.02 * (bufs[0].astype(np.float64) - 7) - bufs[1]
    assert out[2][0] == pytest.approx(np.mean(d * d), rel=1e-5)
    assert np.allclose(out[3], 2 * d / d.size, rtol=1e-5, atol=1e-9)
