# SPDX-License-Identifier: MIT
"""Backward, loss and update ops compiled for Cortex-M0 (soft float) and M4 (FPU) and run in the
unicorn emulator equal the numpy reference bit for bit: the float32 sums, the own exp/log, the
xorshift32 draws and the int8 gradient rounding give the same bits on the boards as on the host
(no fused multiply-add on the M4, no double anywhere)."""

import numpy as np
import pytest

from kernels_bwd_cases import (
    conv_grad_in_case,
    conv_grad_w_case,
    q8_grad_in_bufs,
    q8_grad_in_cases,
    random_grad,
    split_pointwise_cases,
    random_scales,
)
from microtrain_tools.reference import REFERENCE_OPS
from microtrain_tools.reference import args as A
from microtrain_tools.reference.grad_q8 import quantize
from test_kernels_fwd_cortex_m import CortexM, build_image


def q8(values):
    q, s = quantize(values)
    return [q.ravel(), np.array([s], np.float32)]


def update_case(rng, op, rounding, momentum, channels=None, **case):
    """One fused q8 update: conv_grad_w_case's geometry, the whole filter c_in wide, channels
    (an int32 list of k, or None: the first k)."""
    dw = op == "dwconv2d"
    args, bufs = conv_grad_w_case(rng, depthwise=dw, channels="first k", **case)
    c_in, k = case["c_in"], args[11]
    f_dims = list(args[12:16])
    whole = [1, *f_dims[1:3], c_in] if dw else [*f_dims[:3], c_in]
    count = int(np.prod(whole[:3])) * k
    sel = np.zeros(0, np.int32) if channels is None else np.asarray(channels, np.int32)
    upd = [1, rounding, A.f32_bits(0.05), A.f32_bits(momentum)]
    state = [rng.standard_normal(count).astype(np.float32) * 0.1 if momentum else
             np.zeros(0, np.float32),
             rng.uniform(-100, 100, count).astype(np.float32) if rounding == 3 else
             np.zeros(0, np.float32), np.array([rng.integers(1, 2**31)], np.int32)]
    return f"mt_{op}_q8_update", args[:12] + whole + args[16:21] + upd, [
        bufs[0], sel, rng.integers(-127, 128, size=int(np.prod(whole)), dtype=np.int8),
        random_scales(rng, c_in if dw else f_dims[0]), *q8(bufs[-1] * 40), *state]


def update_cases(rng):
    """Every branch of the DSP sums: channel counts not multiples of 4, more than one chunk of
    32, odd and even pixel counts (runs of one pixel too), padding, stride 2, channel lists
    (contiguous and not), all four rounding modes, momentum."""
    yield update_case(rng, "conv2d", 0, 0.0, c_in=11, c_out=3, h=7, w=5, stride=(2, 2))
    yield update_case(rng, "conv2d", 2, 0.9, channels=[0, 2, 3, 5, 6, 9, 10], c_in=11, c_out=2,
                      k_sel=7, h=5, w=5)
    yield update_case(rng, "pwconv2d", 1, 0.0, c_in=40, c_out=3, k_sel=37, n=2, h=3, w=3,
                      k=(1, 1), padding="valid")
    yield update_case(rng, "dwconv2d", 3, 0.0, c_in=13, h=7, w=6, stride=(2, 2))
    yield update_case(rng, "dwconv2d", 2, 0.5, channels=[2, 3, 4, 5, 6, 7, 8], c_in=11, k_sel=7,
                      h=5, w=5)
    yield update_case(rng, "dwconv2d", 1, 0.0, channels=[0, 1, 2, 4, 5], c_in=7, k_sel=5, h=4,
                      w=5, k=(5, 5))
    yield update_case(rng, "dwconv2d", 0, 0.9, c_in=37, h=3, w=3)
    # Runs of one pixel (the two-pixel loop entered at its second pixel and left at once).
    yield update_case(rng, "dwconv2d", 2, 0.0, c_in=8, h=2, w=1)
    yield update_case(rng, "conv2d", 2, 0.0, c_in=8, c_out=2, h=2, w=1)


def fc_update_case(rng, n, rounding, momentum, k, features=40, c_out=3, qas=1, low=1e-4):
    """A fused fc update: batch 1 takes the one-product loop (momentum and clamped steps, from
    tiny scales, the chunked way); k < features selects a channel list."""
    count = c_out * k
    sel = (np.zeros(0, np.int32) if k == features else
           np.sort(rng.choice(features, size=k, replace=False)).astype(np.int32))
    gq, gs = q8(random_grad(rng, n * c_out) * 10)
    gq[:2] = [0, -128]
    upd = [qas, rounding, A.f32_bits(0.05), A.f32_bits(momentum)]
    state = [rng.standard_normal(count).astype(np.float32) * 0.1 if momentum else
             np.zeros(0, np.float32),
             rng.uniform(-100, 100, count).astype(np.float32) if rounding == 3 else
             np.zeros(0, np.float32), np.array([rng.integers(1, 2**31)], np.int32)]
    return "mt_fc_q8_update", [-7, 0, -128, 127, n, 1, 1, k, c_out, 1, 1, features, n, 1, 1,
                               c_out, A.f32_bits(0.03)] + upd, [
        rng.integers(-128, 128, size=n * k, dtype=np.int8), sel,
        rng.integers(-127, 128, size=c_out * features, dtype=np.int8),
        random_scales(rng, c_out, low), gq, gs, *state]


def fc_update_cases(rng):
    for rounding in range(4):
        yield fc_update_case(rng, 1, rounding, 0.0, 40)
        yield fc_update_case(rng, 1, rounding, 0.0, 37, qas=rounding % 2)
    yield fc_update_case(rng, 1, 2, 0.9, 40)
    yield fc_update_case(rng, 1, 0, 0.5, 35)
    yield fc_update_case(rng, 1, 2, 0.0, 40, low=1e-9)  # steps beyond the clamp
    yield fc_update_case(rng, 3, 2, 0.0, 37)
    yield fc_update_case(rng, 2, 1, 0.5, 40)


def cases():
    rng = np.random.default_rng(7)
    yield from update_cases(rng)
    yield from fc_update_cases(rng)
    args, (scale, gin, filt, gout) = conv_grad_in_case(rng, h=5, w=4, c_in=3, c_out=5,
                                                       stride=(2, 2), accumulate=1)
    yield "mt_conv2d_s8_grad_in", args, [scale, gin, filt, gout]
    yield from q8_grad_in_cases(rng, q8)
    args, bufs = conv_grad_w_case(rng, h=4, w=4, c_in=4, c_out=3, k_sel=2)
    yield "mt_conv2d_s8_grad_w", args, bufs
    # Fused depthwise update, stochastic rounding, momentum.
    args, bufs = conv_grad_w_case(rng, depthwise=True, h=4, w=4, c_in=5, k_sel=3)
    x, sel, _, gout = bufs
    weights = rng.integers(-127, 128, size=9 * 5, dtype=np.int8)
    upd = [1, 2, A.f32_bits(0.05), A.f32_bits(0.9)]
    fused_args = args[:12] + [1, 3, 3, 5] + args[16:21] + upd
    state = [np.zeros(27, np.float32), np.zeros(0, np.float32),
             np.array([987654321], np.uint32).view(np.int32)]
    yield "mt_dwconv2d_q8_update", fused_args, [x, sel, weights, random_scales(rng, 5),
                                                *q8(gout * 30), *state]
    # Fused fc update with a master copy, and the bias update.
    n, k, c_out, features = 2, 4, 3, 6
    act = [3, -2, -128, 127]
    upd = [1, 3, A.f32_bits(0.1), A.f32_bits(0.0)]
    yield "mt_fc_q8_update", act + [n, 1, 1, k, c_out, 1, 1, features, n, 1, 1, c_out,
                                    A.f32_bits(0.03)] + upd, [
        rng.integers(-128, 128, size=n * k, dtype=np.int8), np.array([5, 0, 2, 3], np.int32),
        rng.integers(-127, 128, size=c_out * features, dtype=np.int8),
        random_scales(rng, c_out), *q8(random_grad(rng, n * c_out) * 10),
        np.zeros(0, np.float32), rng.uniform(-100, 100, c_out * k).astype(np.float32),
        np.zeros(0, np.int32)]
    yield "mt_bias_q8_update", [n, 1, 1, c_out] + [1, 2, A.f32_bits(0.1), A.f32_bits(0.0)], [
        rng.integers(-9999, 9999, size=c_out).astype(np.int32), random_scales(rng, c_out, 1e-6,
                                                                              1e-3),
        *q8(random_grad(rng, n * c_out)), np.zeros(0, np.float32), np.zeros(0, np.float32),
        np.array([12345], np.int32)]
    # The bias sums' DSP path: 8 and 4 channels in int16 halfwords, blocks of 256 pixels (320
    # here, channels 0 and 5 all -128, 1 and 6 all 127: the halfwords' limits), one left over.
    gq, gs = q8(random_grad(rng, 320 * 13))
    for ch, v in ((0, -128), (1, 127), (5, -128), (6, 127), (9, -128), (10, 127)):
        gq.reshape(320, 13)[:, ch] = v
    yield "mt_bias_q8_update", [1, 20, 16, 13] + [1, 2, A.f32_bits(0.1), A.f32_bits(0.0)], [
        rng.integers(-9999, 9999, size=13).astype(np.int32), random_scales(rng, 13, 1e-9, 1e-8),
        gq, gs, np.zeros(0, np.float32), np.zeros(0, np.float32), np.array([12345], np.int32)]
    # The int8 add's pass-through loops: plain and accumulated, -128 and a negative scale.
    for accumulate, sign in ((0, 1), (1, 1), (0, -1)):
        gq, gs = q8(random_grad(rng, 37))
        gq[3] = -128
        yield "mt_add_q8_grad_in", [1, 1, 1, 37, accumulate], [
            gq, gs * sign, *q8(random_grad(rng, 37))]
    logits = rng.integers(-128, 128, size=3 * 10, dtype=np.int8)
    yield "mt_xent_q8_grad_in", [3, 10, 4, A.f32_bits(0.2)], [
        logits, np.array([1, 9, 4], np.int32), np.zeros(1, np.float32),
        np.zeros(30, np.int8), np.zeros(1, np.float32)]
    yield "mt_mse_s8_grad_in", [3, 10, 4, A.f32_bits(0.2)], [
        logits, random_grad(rng, 30), np.zeros(1, np.float32), np.zeros(30, np.float32)]
    yield from split_pointwise_cases(rng, q8)
    yield from clampmask_cases(rng)


def clampmask_cases(rng):
    """The clamp masks (the DSP path packs 8 values by ssub8/sel, the gradient ands words):
    bounds at the int8 edges (where lo + 1 or hi - 1 leaves int8), equal bounds, values on and
    next to the bounds, counts with a partial last byte, mask bytes all set, all clear, mixed."""
    for lo, hi in ((-128, 127), (-128, -128), (127, 127), (-5, 100), (3, 3), (-128, 40),
                   (-20, 127)):
        for count in (37, 64):
            pool = np.array([lo, lo + 1, hi - 1, hi, -128, 127, 0, 1, -1]).clip(-128, 127)
            y = np.where(rng.random(count) < 0.6, rng.choice(pool, count),
                         rng.integers(-128, 128, count)).astype(np.int8)
            yield "mt_clampmask_s8_fwd", [lo, hi, 1, 1, 1, count], [
                y, np.full((count + 7) // 8, -1, np.int8)]
    for count in (37, 64, 5):
        mask = rng.integers(0, 256, (count + 7) // 8).astype(np.uint8)
        mask[0], mask[-1] = 0xff, 0
        dims = [1, 1, 1, count]
        yield "mt_clampmask_q8_grad_in", dims, [mask.view(np.int8), rng.integers(
            -128, 128, count).astype(np.int8)]
        yield "mt_clampmask_f32_grad_in", dims, [mask.view(np.int8), random_grad(rng, count)]


@pytest.mark.parametrize("arch", ["armv6m", "armv7emsp"])
def test_backward_ops_on_cortex_m_equal_numpy(arch, tmp_path):
    from microtrain_tools.sim import hostlib

    machine = CortexM(arch, build_image(arch, tmp_path))
    ids = hostlib.op_ids()
    for name, args, bufs in cases():
        got = [b.copy() for b in bufs]
        status = machine.run_op(ids[name], args, got)
        assert status == 0, f"{name} on {arch}: status {status} ({hostlib.status_message(status)})"
        ref = [b.copy() for b in bufs]
        REFERENCE_OPS[name](args, ref)
        for i, (g, r) in enumerate(zip(got, ref)):
            assert g.tobytes() == r.tobytes(), f"{name} on {arch}: buffer {i} differs from numpy"


@pytest.mark.parametrize("arch", ["armv6m", "armv7emsp"])
def test_q8_grad_in_overflow_leaves_the_output(arch, tmp_path):
    """A 1x1 block-mode dL/dx whose largest |value| overflows float32 is refused with the output
    and its scale as they were: the DSP path's pass 0 keeps sums in the int8 output only when
    that cannot happen (2^31 * c finite)."""
    from microtrain_tools.sim import hostlib

    rng = np.random.default_rng(3)
    args, bufs = conv_grad_in_case(rng, h=3, w=3, c_in=40, c_out=24, k=(1, 1), padding="valid")
    bufs = q8_grad_in_bufs("pwconv2d", args, bufs, q8)
    bufs[5][0] = 1e38  # c ~ 1e38 * s_max / 256: finite; max |acc| * c is not
    machine = CortexM(arch, build_image(arch, tmp_path))
    got = [b.copy() for b in bufs]
    status = machine.run_op(hostlib.op_ids()["mt_pwconv2d_q8_grad_in"], args, got)
    assert hostlib.status_message(status) == "parameter out of range", status
    assert got[1].tobytes() == bufs[1].tobytes() and got[2][0] == bufs[2][0]
