# SPDX-License-Identifier: MIT
"""The x64 fast paths (natmod/kernels/mt_x64_kernels.c: AVX2 and SSE4.1) give the portable
path's bytes: the host library built at each level (portable, SSE4.1, AVX2; tests/x64_levels.py)
runs the same cases, and each must equal the numpy reference byte for byte.

The shapes reach every branch of the x64 bodies: pointwise c_in below, at and past one vector
(the over-read of the last rows from the padded copy), c_out in blocks of 8, 4 and a tail, odd
pixel counts and strides; small windows with padding, c_out not a multiple of the lanes, and
the limits where the portable path takes over; depthwise channels in groups of 16, 8 and single
ones; requantization with positive shifts, saturating biases and any multiplier; the q8
grad_in tap sums in blocks of 32, 8 and single channels, odd c_out; the depthwise q8 grad_in
with strides, padding and accumulate; the q8 update's run sums in
whole vectors, odd pixel counts, depthwise channel lists."""

import numpy as np
import pytest

from kernels_bwd_cases import conv_grad_in_case, fc_grad_in_case, q8_grad_in_bufs
from kernels_fwd_cases import assert_same, conv_case, seed_of
from microtrain_tools.reference.grad_q8 import quantize
from x64_levels import x64_level  # noqa: F401 (a fixture)

PW = [dict(h=3, w=3, c_in=c_in, c_out=c_out, k=(1, 1), padding="valid")
      for c_in, c_out in ((1, 3), (3, 8), (8, 9), (15, 4), (16, 16), (17, 21), (31, 7),
                          (33, 12), (64, 1), (100, 13))]
PW += [dict(n=2, h=3, w=5, c_in=20, c_out=11, k=(1, 1), padding="valid", stride=(2, 2)),
       dict(n=1, h=1, w=3, c_in=2100, c_out=3, k=(1, 1), padding="valid")]  # past the stack
CONV = [dict(h=9, w=8, c_in=3, c_out=16, stride=(2, 2)), dict(h=7, w=7, c_in=1, c_out=5),
        dict(h=6, w=9, c_in=2, c_out=13, k=(5, 5), stride=(2, 1)),
        dict(h=5, w=5, c_in=4, c_out=9, k=(1, 3)),
        dict(h=8, w=8, c_in=3, c_out=24, padding="valid", stride=(2, 2)),
        dict(h=5, w=5, c_in=8, c_out=4),  # 72 taps: past the patch, the portable path
        dict(h=4, w=4, c_in=3, c_out=65)]  # past the stack's filter, the portable path
DW = [dict(h=h, w=w, c_in=c, k=k, stride=s, padding=p, n=n)
      for h, w, c, k, s, p, n in ((6, 5, 1, (3, 3), (1, 1), "same", 1),
                                  (6, 6, 7, (3, 3), (2, 2), "same", 1),
                                  (5, 7, 8, (3, 3), (1, 1), "valid", 2),
                                  (7, 6, 16, (5, 5), (2, 2), "same", 1),
                                  (5, 5, 24, (3, 3), (1, 1), "same", 1),
                                  (9, 8, 25, (7, 7), (2, 2), "same", 1),
                                  (4, 5, 41, (3, 3), (1, 2), "same", 2))]
# Requantization corners: scales above 1 (positive shifts) and biases that saturate the sum.
REQUANT = [dict(scale_range=(0.5, 8.0)), dict(bias_range=2_000_000_000), dict()]


def conv_cases():
    for i, kw in enumerate(PW + CONV + DW):
        for j, extra in enumerate(REQUANT):
            yield f"{i}.{j}", {**kw, **extra, "depthwise": kw in DW}


@pytest.mark.parametrize("name,kw", list(conv_cases()))
def test_conv_forward_paths_equal_the_reference(x64_level, name, kw):
    rng = np.random.default_rng(seed_of(name))
    depthwise = kw["depthwise"]
    op = ("mt_dwconv2d_s8_fwd" if depthwise else
          "mt_pwconv2d_s8_fwd" if kw.get("k") == (1, 1) else "mt_conv2d_s8_fwd")
    args, bufs = conv_case(rng, clamp=["none", "relu", "relu6"][rng.integers(3)], **kw)
    assert_same(op, args, bufs)


def test_any_multiplier_and_shift_requantize_as_the_reference(x64_level):
    """Multipliers of any int32 (INT32_MIN too: the saturating high mul) and every shift."""
    rng = np.random.default_rng(7)
    for kw in (PW[5], CONV[0], DW[4]):
        args, bufs = conv_case(rng, **{**kw, "depthwise": kw in DW})
        c_out = bufs[0].size
        bufs[0] = rng.integers(-2**31, 2**31, c_out, dtype=np.int64).astype(np.int32)
        bufs[0][::3] = np.iinfo(np.int32).min
        bufs[1] = rng.integers(-31, 31, c_out).astype(np.int32)
        op = ("mt_dwconv2d_s8_fwd" if kw in DW else
              "mt_pwconv2d_s8_fwd" if kw.get("k") == (1, 1) else "mt_conv2d_s8_fwd")
        assert_same(op, args, bufs)


def q8(values):
    q, s = quantize(values)
    return q.ravel(), np.array([s], np.float32)


Q8_GRAD_IN = [("conv2d", dict(h=5, w=4, c_in=c_in, c_out=c_out, stride=s, accumulate=a))
              for c_in, c_out, s, a in ((40, 9, (1, 1), 0), (33, 16, (2, 2), 1), (3, 5, (1, 1), 0))]
Q8_GRAD_IN += [("pwconv2d", dict(h=3, w=3, c_in=c_in, c_out=c_out, k=(1, 1), padding="valid",
                                 accumulate=a))
               for c_in, c_out, a in ((72, 17, 0), (35, 24, 1), (9, 1, 0), (64, 96, 0))]
Q8_GRAD_IN += [("fc", dict(n=2, in_shape=(1, 1, 50), c_out=11, accumulate=1))]
Q8_GRAD_IN += [("dwconv2d", dict(n=n, h=h, w=w, c_in=c, k=k, stride=st, accumulate=a))
               for n, h, w, c, k, st, a in ((1, 6, 5, 40, (3, 3), (1, 1), 0),
                                            (2, 7, 6, 17, (3, 3), (2, 2), 1),
                                            (1, 9, 8, 24, (7, 7), (2, 2), 0),
                                            (1, 4, 5, 3, (5, 5), (1, 2), 1))]


@pytest.mark.parametrize("i", range(len(Q8_GRAD_IN)))
def test_q8_grad_in_paths_equal_the_reference(x64_level, i):
    op, shape = Q8_GRAD_IN[i]
    rng = np.random.default_rng(100 + i)
    if op == "fc":
        args, bufs = fc_grad_in_case(rng, **shape)
    else:
        args, bufs = conv_grad_in_case(rng, depthwise=op == "dwconv2d", **shape)
    qbufs = q8_grad_in_bufs(op, args, bufs, q8)
    qbufs[4].ravel()[::5] = -128
    qbufs[3].ravel()[1::6] = -128
    assert_same(f"mt_{op}_q8_grad_in", args, qbufs)


def test_rounding_ties_requantize_as_the_reference(x64_level):
    """Outputs inside int8 with many exact ties: multiplier 2^30 (one half) and shifts -1..-4
    halve then round acc + bias, ties away from zero, on both signs (random data mostly
    saturates, where a wrong rounding step does not show)."""
    rng = np.random.default_rng(11)
    for kw in (dict(h=1, w=64, c_in=1, c_out=24, k=(1, 1), padding="valid"),
               dict(h=8, w=8, c_in=24, k=(1, 1), depthwise=True)):
        args, bufs = conv_case(rng, **kw)
        c = bufs[0].size
        bufs[0][:] = 1 << 30
        bufs[1][:] = rng.integers(-4, 0, c)
        bufs[3][:] = 1  # the filter: acc = x + offset
        bufs[4][:] = rng.integers(-40, 41, c)
        args[4:8] = [0, 0, -128, 127]  # offsets 0, no clamp
        op = "mt_dwconv2d_s8_fwd" if kw.get("depthwise") else "mt_pwconv2d_s8_fwd"
        assert_same(op, args, bufs)


def update_cases():
    """The fused q8 updates (their run sums): the Cortex-M test's branches, then whole
    vectors of channels: 8, 16, 32 and more, odd pixel counts, depthwise channel lists."""
    from test_kernels_bwd_cortex_m import update_case, update_cases as m_cases

    rng = np.random.default_rng(21)
    yield from m_cases(rng)
    yield update_case(rng, "conv2d", 0, 0.0, c_in=24, c_out=3, h=7, w=5, stride=(2, 2))
    yield update_case(rng, "pwconv2d", 2, 0.9, c_in=72, c_out=2, n=1, h=3, w=5, k=(1, 1),
                      padding="valid")
    yield update_case(rng, "pwconv2d", 1, 0.0, c_in=48, c_out=3, k_sel=17, h=4, w=4, k=(1, 1),
                      padding="valid")
    yield update_case(rng, "dwconv2d", 3, 0.0, c_in=40, h=5, w=7)
    yield update_case(rng, "dwconv2d", 2, 0.0, channels=list(range(3, 19)), c_in=24, k_sel=16,
                      h=5, w=5, stride=(2, 2))


@pytest.mark.parametrize("i", range(12))
def test_q8_update_paths_equal_the_reference(x64_level, i):
    op, args, bufs = list(update_cases())[i]
    assert_same(op, args, bufs)


def test_split_pointwise_equals_the_reference(x64_level):
    """The split pointwise ops run the 1x1 forward and the int8 dL/dx tap sums of each x64
    level on row groups and with learned columns put in: the reference's bytes."""
    from kernels_bwd_cases import split_pointwise_case

    rng = np.random.default_rng(31)
    for shape in (dict(c_in=48, c_out=40, k=12, h=4, w=4, group_rows=9),
                  dict(c_in=64, c_out=20, k=16, h=8, w=8, group_rows=3),
                  dict(c_in=37, c_out=9, k=5, group_rows=2, accumulate=1)):
        fwd, grad, _ = split_pointwise_case(rng, q8, **shape)
        for name, args, bufs in (fwd, grad):
            assert_same(name, args, bufs)
