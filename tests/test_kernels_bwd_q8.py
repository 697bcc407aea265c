# SPDX-License-Identifier: MIT
"""The q8 backward ops (int8 gradient tensors with a per-tensor scale) and the fused weight and
bias updates: C equals numpy bit for bit, q8 values are the f32 values rounded to the tensor's
scale, and a fused update equals the QAS update fed the integer-sum gradient
(float)acc * (s_g * s_x), bit for bit."""

import itertools

import numpy as np
import pytest

from kernels_bwd_cases import (
    conv_grad_in_case,
    conv_grad_w_case,
    fc_grad_in_case,
    grad_in_scratch,
    q8_grad_in_bufs,
    q8_grad_in_cases,
    random_grad,
    random_scales,
)
from kernels_fwd_cases import assert_same, seed_of
from microtrain_tools.sim import hostlib
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.reference import REFERENCE_OPS
from microtrain_tools.reference import args as A
from microtrain_tools.reference import conv2d_s8_grad as conv_ref
from microtrain_tools.reference import grad_in_q8 as gq8
from microtrain_tools.reference.grad_q8 import dequantize, quantize
from microtrain_tools.reference.qas_update import Rounding


def q8(values):
    q, s = quantize(values)
    return q.ravel(), np.array([s], np.float32)


def to_q8_grad_in(op, args, bufs):
    return q8_grad_in_bufs(op, args, bufs, q8)


CONV = {
    "3x3 same": dict(c_in=5, c_out=7),
    "3x3 stride 2 valid": dict(stride=(2, 2), padding="valid", h=9, w=8),
    "1x1": dict(k=(1, 1), padding="valid", c_in=6, c_out=3, n=2),
}


@pytest.mark.parametrize("name", CONV)
def test_q8_grad_in_equals_numpy_and_the_f32_op(name):
    rng = np.random.default_rng(seed_of(name))
    ops = [("conv2d", False), ("dwconv2d", True)] + ([("pwconv2d", False)] if "1x1" in name
                                                     else [])
    for (op, dw), accumulate in itertools.product(ops, (0, 1)):
        args, bufs = conv_grad_in_case(rng, depthwise=dw, accumulate=accumulate, **CONV[name])
        qbufs = to_q8_grad_in(op, args, bufs)
        out = assert_same(f"mt_{op}_q8_grad_in", args, qbufs)
        # The q8 result is the f32 op's result on the dequantized tensors, rounded to the scale.
        fbufs = [bufs[0], dequantize(qbufs[1], qbufs[2][0]), bufs[2],
                 dequantize(qbufs[4], qbufs[5][0])]
        want = assert_same(f"mt_{op}_s8_grad_in", args, fbufs)[1]
        v = integer_values(op, args, qbufs)
        assert np.all(np.abs(v - want) <= f32_gap_bound(op, args, qbufs) + 1e-6 * np.abs(want))
        assert out[2][0] == np.float32(np.abs(v).max() / np.float32(127))
        assert np.all(np.abs(dequantize(out[1], out[2][0]) - v) <= out[2][0] / 2 * 1.0001)


def _unpacked(op, args, qbufs):
    conv, in_dims, f_dims, out_dims, accumulate = conv_ref.unpack(args, 4 if op == "fc" else 8)
    q = qbufs[4].reshape(out_dims).astype(np.int64)
    w = qbufs[3].reshape(f_dims)
    return conv, in_dims, f_dims, q, w, accumulate


def integer_values(op, args, qbufs):
    """The values the q8 grad_in quantizes (docs/numerics.md), from the reference's parts."""
    conv, in_dims, f_dims, q, w, accumulate = _unpacked(op, args, qbufs)
    s_w, s_g = qbufs[0], np.float32(qbufs[5][0])
    if op == "dwconv2d":
        v = gq8.dw_sums(conv, w, q, in_dims).astype(np.float32) * (s_g * s_w)
    else:
        m, factor = gq8.multipliers(s_w, f_dims[0] * f_dims[1] * f_dims[2])
        v = gq8.conv_sums(conv, w, q * m, in_dims).astype(np.float32) * (s_g * factor)
    v = v.ravel()
    return dequantize(qbufs[1], qbufs[2][0]) + v if accumulate else v


def f32_gap_bound(op, args, qbufs):
    """How far the integer values may be from the f32 op's float sums: m[o] = round(s_w[o] * M /
    s_max) is off by <= 1/2 (plus a float32 rounding), so each term q * w is off by at most
    |q * w| * s_g * s_max / (2M); the float sums and products add ~T * 2^-24 relative."""
    conv, in_dims, f_dims, q, w, _ = _unpacked(op, args, qbufs)
    s_max, s_g = float(qbufs[0].max()), float(qbufs[5][0])
    wa = np.abs(w.astype(np.int64))
    if op == "dwconv2d":
        sum_abs, m_err = gq8.dw_sums(conv, wa, np.abs(q), in_dims), 0.0
    else:
        big_m = gq8.channel_multiplier(f_dims[0] * f_dims[1] * f_dims[2])
        sum_abs, m_err = gq8.conv_sums(conv, wa, np.abs(q), in_dims), 0.5001 / big_m
    return (s_g * s_max * (m_err + 1e-5) * sum_abs).ravel()


def test_q8_fc_grad_in():
    rng = np.random.default_rng(1)
    for n, accumulate in itertools.product((1, 3), (0, 1)):
        args, bufs = fc_grad_in_case(rng, n=n, in_shape=(2, 2, 5), accumulate=accumulate)
        assert_same("mt_fc_q8_grad_in", args, to_q8_grad_in("fc", args, bufs))


def test_q8_grad_in_every_branch_equals_numpy():
    """The shapes the Cortex-M test runs (every DSP branch), on the host, with the f32 gap."""
    rng = np.random.default_rng(11)
    for name, args, qbufs in q8_grad_in_cases(rng, q8):
        out = assert_same(name, args, qbufs)
        op = name[3:-len("_q8_grad_in")]
        v = integer_values(op, args, qbufs)
        assert out[2][0] == np.float32(np.abs(v).max() / np.float32(127))
        if op != "dwconv2d":
            assert not out[6].any(), "the scratch is left zero"


def update_state(rng, count, rounding, momentum):
    mom = (rng.standard_normal(count) * 0.1).astype(np.float32) if momentum else np.zeros(
        0, np.float32)
    master = (rng.uniform(-100, 100, count).astype(np.float32) if rounding == Rounding.MASTER
              else np.zeros(0, np.float32))
    return [mom, master, np.array([rng.integers(1, 2**31)], np.uint32).view(np.int32)]


FUSED = {
    "conv2d 3x3 subset": ("conv2d", dict(c_in=6, c_out=4, k_sel=3)),
    "conv2d stride 2 all": ("conv2d", dict(stride=(2, 2), h=7, w=7, c_in=3, c_out=5)),
    "pwconv2d subset": ("pwconv2d", dict(k=(1, 1), padding="valid", c_in=8, c_out=5, k_sel=3,
                                         n=2)),
    "dwconv2d subset": ("dwconv2d", dict(c_in=7, k_sel=3)),
    "dwconv2d first k": ("dwconv2d", dict(c_in=5, k_sel=2, channels="first k")),
}


def int_sums(conv, x, gq, k_h, k_w, channels=None):
    """The update's exact sums, pixel by pixel (independent of the reference's slicing):
    {c_out,kh,kw,k}, or {kh,kw,k} for a depthwise conv reading grad_out at channels."""
    n, out_h, out_w, c_out = gq.shape
    _, h, w, k = x.shape
    acc = np.zeros((c_out, k_h, k_w, k), np.int64)
    for b, oy, ox, ky, kx in itertools.product(range(n), range(out_h), range(out_w), range(k_h),
                                               range(k_w)):
        iy, ix = oy * conv.stride_h - conv.pad_h + ky, ox * conv.stride_w - conv.pad_w + kx
        if 0 <= iy < h and 0 <= ix < w:
            xo = x[b, iy, ix].astype(np.int64) + conv.act.input_offset
            acc[:, ky, kx] += gq[b, oy, ox][:, None].astype(np.int64) * xo[None]
    if channels is None:
        return acc
    return acc[channels, :, :, np.arange(k)].transpose(1, 2, 0)


def int_grad(acc, g_scale, s_x):
    return acc.astype(np.float32) * (np.float32(g_scale) * np.float32(s_x))


@pytest.mark.parametrize("name", FUSED)
def test_fused_update_equals_integer_gradient_then_qas_update(name):
    """A fused q8 update equals mt_qas_s8_update fed the integer-sum gradient
    (float)acc * (s_g * s_x), bit for bit (weights and the state), and C equals numpy."""
    op, case = FUSED[name]
    rng = np.random.default_rng(seed_of(name))
    dw = op == "dwconv2d"
    for qas_on, rounding, momentum in itertools.product((0, 1), list(Rounding), (0.0, 0.9)):
        args, bufs = conv_grad_w_case(rng, depthwise=dw, **case)
        x, gout = (bufs[0], bufs[3]) if dw else (bufs[0], bufs[2])
        c_in, k = case["c_in"], args[11]
        if dw:
            sel = bufs[1] if bufs[1].size else np.arange(k, dtype=np.int32)
        else:
            sel = np.sort(rng.choice(c_in, size=k, replace=False)).astype(np.int32)
        gq, gs = q8(gout * 50)
        f_dims = list(args[12:16])
        whole = [1, *f_dims[1:3], c_in] if dw else [*f_dims[:3], c_in]
        weights = rng.integers(-127, 128, size=int(np.prod(whole)), dtype=np.int8)
        c_scale = c_in if dw else f_dims[0]
        w_scale = random_scales(rng, c_scale, 1e-3, 0.05)
        count = int(np.prod(f_dims[:3])) * k if not dw else int(np.prod(f_dims[1:3])) * k
        state = update_state(rng, count, rounding, momentum)
        channels = np.zeros(0, np.int32) if dw and not bufs[1].size else sel
        upd = [qas_on, int(rounding), A.f32_bits(0.05), A.f32_bits(momentum)]
        fused_args = args[:12] + whole + args[16:21] + upd
        fused = assert_same(f"mt_{op}_q8_update", fused_args,
                            [x, channels, weights, w_scale, gq, gs, *state])
        conv = A.conv(args[:8])
        acc = int_sums(conv, A.tensor(x, args[8:12]), A.tensor(gq, args[16:20]), f_dims[1],
                       f_dims[2], sel if dw else None)
        g = int_grad(acc, gs[0], A.bits_f32(args[20]))
        layout = [1, f_dims[1] * f_dims[2], c_in, k, 1] if dw else [
            f_dims[0], f_dims[1] * f_dims[2], c_in, k, 0]
        sep = assert_same("mt_qas_s8_update", layout + upd,
                          [weights, g.ravel(), w_scale, channels, *state])
        for a, b in zip((fused[2], *fused[6:]), (sep[0], *sep[4:])):
            assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), (qas_on, rounding)


def fc_update(x, sel, weights, w_scale, gq, gs, state, upd, offset=5, s_x=0.02):
    n, k = x.shape
    c_out, features = w_scale.size, weights.size // w_scale.size
    act = [offset, -3, -128, 127]
    dims = [n, 1, 1, k, c_out, 1, 1, features, n, 1, 1, c_out, A.f32_bits(s_x)]
    return assert_same("mt_fc_q8_update", act + dims + upd,
                       [x.ravel(), sel, weights, w_scale, gq, gs, *state])


def test_fused_fc_update_equals_integer_gradient_then_qas_update():
    rng = np.random.default_rng(2)
    n, features, k, c_out = 3, 12, 5, 4
    x = rng.integers(-128, 128, size=(n, k), dtype=np.int8)
    gq, gs = q8(random_grad(rng, (n, c_out)))
    sel = np.sort(rng.choice(features, size=k, replace=False)).astype(np.int32)
    weights = rng.integers(-127, 128, size=c_out * features, dtype=np.int8)
    w_scale = random_scales(rng, c_out, 1e-3, 0.05)
    acc = gq.reshape(n, c_out).astype(np.int64).T @ (x.astype(np.int64) + 5)
    g = int_grad(acc, gs[0], 0.02)
    for rounding in Rounding:
        state = update_state(rng, c_out * k, rounding, 0.0)
        upd = [1, int(rounding), A.f32_bits(0.1), A.f32_bits(0.0)]
        fused = fc_update(x, sel, weights, w_scale, gq, gs, state, upd)
        sep = assert_same("mt_qas_s8_update", [c_out, 1, features, k, 0] + upd,
                          [weights, g.ravel(), w_scale, sel, *state])
        assert np.array_equal(fused[2], sep[0]) and np.array_equal(fused[7], sep[5])


def test_fused_fc_update_at_batch_1_equals_integer_gradient_then_qas_update():
    """Batch 1 takes the one-product loop (no chunk, no per-element clamp test when the row's
    largest step is within the clamp): every rounding mode, QAS on and off, momentum (the chunked
    way), all features or a subset, grad_out 0 and -128, and tiny scales whose steps clamp."""
    rng = np.random.default_rng(5)
    features, c_out = 45, 5
    cases = itertools.product((0, 1), list(Rounding), (0.0, 0.5), (45, 37), (1e-3, 1e-9))
    for qas_on, rounding, momentum, k, low in cases:
        x = rng.integers(-128, 128, size=(1, k), dtype=np.int8)
        gq, gs = q8(random_grad(rng, (1, c_out)))
        gq[:2] = [0, -128]
        sel = (np.zeros(0, np.int32) if k == features else
               np.sort(rng.choice(features, size=k, replace=False)).astype(np.int32))
        weights = rng.integers(-128, 128, size=c_out * features, dtype=np.int8)
        w_scale = random_scales(rng, c_out, low, 0.05)
        w_scale[-1] = low  # 1e-9 with QAS: steps beyond 2^30, clamped
        acc = gq.reshape(1, c_out).astype(np.int64).T @ (x.astype(np.int64) + 5)
        g = int_grad(acc, gs[0], 0.02)
        state = update_state(rng, c_out * k, rounding, momentum)
        upd = [qas_on, int(rounding), A.f32_bits(0.1), A.f32_bits(momentum)]
        fused = fc_update(x, sel, weights, w_scale, gq, gs, [b.copy() for b in state], upd)
        sel_or_first = sel if sel.size else np.arange(k, dtype=np.int32)
        sep = assert_same("mt_qas_s8_update", [c_out, 1, features, k, 0] + upd,
                          [weights, g.ravel(), w_scale, sel_or_first, *state])
        for a, b in zip((fused[2], *fused[6:]), (sep[0], *sep[4:])):
            assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), (qas_on, rounding, k)


def test_fused_update_rounds_sums_beyond_2_24_once():
    """Sums above 2^24 are not float32 numbers: (float)acc rounds them to nearest even, once,
    in C as in numpy; grad is that times s_g * s_x (master rounding keeps the step visible)."""
    rng = np.random.default_rng(8)
    n, k, c_out, features = 1500, 3, 2, 3
    x = np.full((n, k), 127, np.int8)
    x[:7, 0] = [-128, 5, 3, 1, -7, 9, 11]  # odd sums
    gq = np.full((n, c_out), 127, np.int8)
    gq[:3, 1] = [-128, 0, 1]
    acc = gq.astype(np.int64).T @ (x.astype(np.int64) + 128)
    assert np.abs(acc).max() > 2**24 and np.any(acc.astype(np.float32).astype(np.int64) != acc)
    weights = np.zeros(c_out * features, np.int8)
    w_scale = np.array([0.01, 0.02], np.float32)
    gs = np.array([1e-7], np.float32)
    master = np.zeros(c_out * k, np.float32)
    upd = [1, int(Rounding.MASTER), A.f32_bits(1e-4), A.f32_bits(0.0)]
    state = [np.zeros(0, np.float32), master, np.zeros(0, np.int32)]
    fused = fc_update(x, np.zeros(0, np.int32), weights, w_scale, gq.ravel(), gs, state, upd,
                      offset=128, s_x=0.5)
    g = int_grad(acc, gs[0], 0.5)
    sep = assert_same("mt_qas_s8_update", [c_out, 1, features, k, 0] + upd,
                      [weights, g.ravel(), w_scale, np.zeros(0, np.int32), *state])
    assert np.array_equal(fused[7], sep[5]) and np.array_equal(fused[2], sep[0])


def test_fused_update_at_and_beyond_the_pixel_bound():
    """65,793 output pixels of extreme terms sum exactly in int32 (-128 * 255 each); one more
    pixel is refused (MT_ERR_SIZE in C, MicrotrainError in numpy) before a weight changes."""
    limit = 65793
    w_scale = np.array([0.01], np.float32)
    upd = [1, int(Rounding.MASTER), A.f32_bits(1e-6), A.f32_bits(0.0)]
    for n in (limit, limit + 1):
        x = np.full((n, 1), 127, np.int8)
        gq = np.full(n, -128, np.int8)
        state = [np.zeros(0, np.float32), np.zeros(1, np.float32), np.zeros(0, np.int32)]
        weights = np.array([7], np.int8)
        if n == limit:
            fused = fc_update(x, np.zeros(0, np.int32), weights, w_scale, gq,
                              np.array([1e-9], np.float32), state, upd, offset=128, s_x=1.0)
            want = np.float32(-(2**31 - 128)) * np.float32(1e-9)
            assert fused[7][0] == np.float32(0) - np.float32(1e-6) * (
                (want * np.float32(0.01)) * (np.float32(1) / np.float32(1e-4)))
            continue
        args = [128, 0, -128, 127, n, 1, 1, 1, 1, 1, 1, 1, n, 1, 1, 1, A.f32_bits(1.0)] + upd
        bufs = [x.ravel(), np.zeros(0, np.int32), weights, w_scale, gq,
                np.array([1e-9], np.float32), *state]
        with pytest.raises(MicrotrainError, match="exact integer sums"):
            hostlib.run_op("mt_fc_q8_update", args, [b.copy() for b in bufs])
        with pytest.raises(MicrotrainError, match="overflow the int32 sums"):
            REFERENCE_OPS["mt_fc_q8_update"](args, [b.copy() for b in bufs])


def test_fused_bias_update_equals_integer_gradient_then_qas_update():
    rng = np.random.default_rng(3)
    dims = (2, 3, 4, 6)
    for qas_on, rounding, momentum in itertools.product((0, 1), list(Rounding), (0.0, 0.5)):
        gq, gs = q8(random_grad(rng, dims))
        bias = rng.integers(-5000, 5000, size=6).astype(np.int32)
        b_scale = random_scales(rng, 6, 1e-6, 1e-3)
        state = update_state(rng, 6, rounding, momentum)
        upd = [qas_on, int(rounding), A.f32_bits(0.05), A.f32_bits(momentum)]
        fused = assert_same("mt_bias_q8_update", list(dims) + upd,
                            [bias, b_scale, gq, gs, *state])
        gb = gq.reshape(-1, 6).astype(np.int64).sum(axis=0).astype(np.float32) * gs[0]
        sep = assert_same("mt_qas_s32_update", [6] + upd, [bias, gb, b_scale, *state])
        assert np.array_equal(fused[0], sep[0]) and all(
            np.array_equal(a.view(np.uint8), b.view(np.uint8)) for a, b in zip(fused[4:], sep[3:]))


def test_q8_clamp_add_avgpool_and_losses():
    rng = np.random.default_rng(4)
    dims = (2, 3, 3, 5)
    y = rng.integers(-128, 128, size=dims, dtype=np.int8)
    gq, gs = q8(random_grad(rng, dims))
    out = assert_same("mt_clamp_q8_grad_in", [-10, 100, *dims], [y.ravel(), gq])[1]
    assert np.all(out[(y.ravel() <= -10) | (y.ravel() >= 100)] == 0)
    for accumulate in (0, 1):
        prev = q8(random_grad(rng, dims))
        assert_same("mt_add_q8_grad_in", [*dims, accumulate], [gq, gs, *prev])
        pq, ps = q8(random_grad(rng, (2, 5)))
        assert_same("mt_avgpool_q8_grad_in", [*dims, accumulate], [pq, ps, *prev])
    logits = rng.integers(-128, 128, size=(4, 10), dtype=np.int8).ravel()
    labels = rng.integers(0, 10, size=4).astype(np.int32)
    for name, target in (("xent", labels), ("mse", rng.standard_normal(40).astype(np.float32))):
        args = [4, 10, 3, A.f32_bits(0.1)]
        q_out = assert_same(f"mt_{name}_q8_grad_in", args,
                            [logits, target, np.zeros(1, np.float32), np.zeros(40, np.int8),
                             np.zeros(1, np.float32)])
        f_out = assert_same(f"mt_{name}_s8_grad_in", args, [logits, target,
                                                            np.zeros(1, np.float32),
                                                            np.zeros(40, np.float32)])
        assert q_out[2][0] == f_out[2][0], "the loss does not depend on the gradient format"
        assert np.array_equal(q_out[3], quantize(f_out[3])[0])


def test_q8_refuses_a_non_finite_gradient():
    rng = np.random.default_rng(5)
    gq, gs = q8(random_grad(rng, (1, 2, 2, 3)))
    gs[0] = np.inf
    with pytest.raises(MicrotrainError, match="parameter out of range"):
        hostlib.run_op("mt_add_q8_grad_in", [1, 2, 2, 3, 0],
                       [gq, gs, np.zeros(12, np.int8), np.zeros(1, np.float32)])
    nan_bufs = [gq, np.array([np.nan], np.float32), np.zeros(12, np.int8),
                np.zeros(1, np.float32)]
    with pytest.raises(MicrotrainError, match="parameter out of range"):
        hostlib.run_op("mt_add_q8_grad_in", [1, 2, 2, 3, 0], nan_bufs)
    with pytest.raises(MicrotrainError, match="not finite"):
        REFERENCE_OPS["mt_add_q8_grad_in"]([1, 2, 2, 3, 0], nan_bufs)


def test_q8_tiny_gradient_counts_as_zero():
    """max |g| < 1e-30 gives scale 0 and q 0 (127 / max|g| would overflow), in C and numpy."""
    g = np.full(12, 1e-35, np.float32)
    out = assert_same("mt_add_q8_grad_in", [1, 2, 2, 3, 0],
                      [np.ones(12, np.int8), np.array([1e-35], np.float32),
                       np.zeros(12, np.int8), np.ones(1, np.float32)])
    assert out[3][0] == 0.0 and not out[2].any()
    assert quantize(g)[1] == 0.0


def test_q8_grad_in_channel_multiplier():
    """M: the largest power of two <= 256 with T * 128 * 128 * M <= 2^31 - 1."""
    assert [gq8.channel_multiplier(t) for t in (1, 511, 512, 576, 131071, 131072)] == [
        256, 256, 128, 128, 1, 0]
    m, factor = gq8.multipliers(np.array([1.0, 0.5, 0.3, 1e-9], np.float32), 3)
    assert m.tolist() == [256, 128, 77, 0] and factor == np.float32(1.0 / 256)


def fc_case(w_scale, q, w, s_g=0.5, accumulate=0):
    """An fc grad_in with n = 1: w {c_out, c_in}, q {c_out}."""
    c_out, c_in = w.shape
    args = [0, 0, -128, 127, 1, 1, 1, c_in, c_out, 1, 1, c_in, 1, 1, 1, c_out, accumulate]
    bufs = [np.asarray(w_scale, np.float32), np.zeros(c_in, np.int8), np.zeros(1, np.float32),
            np.asarray(w, np.int8).ravel(), np.asarray(q, np.int8),
            np.array([s_g], np.float32)]
    return args, bufs + [grad_in_scratch("fc", args)]


def test_q8_grad_in_pins_m_through_the_scale():
    """q picks one output channel, w = 1: the sum is m[o], and grad_in_scale = m[o] * c / 127
    with c = s_g * (s_max / M)."""
    scales = [1.0, 0.5, 0.3]
    for o, m in enumerate((256, 128, 77)):
        q = np.zeros(3, np.int8)
        q[o] = 1
        args, bufs = fc_case(scales, q, np.ones((3, 1)))
        out = assert_same("mt_fc_q8_grad_in", args, bufs)
        c = np.float32(0.5) * (np.float32(1.0) / np.float32(256))
        assert out[2][0] == np.float32(np.float32(m) * c) / np.float32(127)
        assert out[1][0] == 127


def test_q8_grad_in_sum_above_2_24_rounds_once():
    """|acc| > 2^24: (float)acc rounds to nearest even, the same in C and numpy."""
    rng = np.random.default_rng(3)
    c_out = 1024  # T = 1024: M = 128, |acc| up to 2^31 - 2^24
    w = rng.integers(120, 128, size=(c_out, 2))
    q = rng.integers(120, 128, size=c_out)
    args, bufs = fc_case(rng.uniform(0.9, 1.0, c_out), q, w)
    out = assert_same("mt_fc_q8_grad_in", args, bufs)
    m, factor = gq8.multipliers(bufs[0], c_out)
    acc = (q * m) @ w
    assert np.all(acc > 2**24) and np.any(acc.astype(np.float32).astype(np.int64) != acc)
    amax = np.float32(acc.max()) * (np.float32(0.5) * factor)
    assert out[2][0] == amax / np.float32(127)


def test_q8_grad_in_refusals():
    args, bufs = fc_case([1.0, 0.5], [1, 2], np.ones((2, 3)))
    small = bufs[:6] + [bufs[6][:-4]]
    with pytest.raises(MicrotrainError, match="buffer too small"):
        hostlib.run_op("mt_fc_q8_grad_in", args, small)
    for bad in (0.0, -1.0, np.nan, np.inf):
        scales = np.array([1.0, bad], np.float32)
        with pytest.raises(MicrotrainError, match="parameter out of range"):
            hostlib.run_op("mt_fc_q8_grad_in", args, [scales, *bufs[1:]])
        with pytest.raises(MicrotrainError):
            REFERENCE_OPS["mt_fc_q8_grad_in"](args, [scales, *bufs[1:]])
    big = 131072  # T * 128 * 128 > 2^31 - 1 even with M = 1
    args, bufs = fc_case(np.ones(big), np.ones(big), np.ones((big, 1)))
    with pytest.raises(MicrotrainError, match="shapes"):
        hostlib.run_op("mt_fc_q8_grad_in", args, bufs)
    with pytest.raises(MicrotrainError):
        REFERENCE_OPS["mt_fc_q8_grad_in"](args, bufs)
