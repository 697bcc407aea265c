# SPDX-License-Identifier: MIT
"""Sum-exact cases of the q8 grad_in kernels: the int8 output IS the integer sum S = sum q * w.

The other q8 grad_in tests compare int8 outputs, where the rounding to the tensor's scale hides
an off-by-one in a large sum. Here the scales are powers of two (every float step is exact) and
max |acc| over the tensor is exactly 127, so the quantization maps each int32 sum acc to itself:
an error of one in any sum changes a byte of the output (or the scale). Each case asserts that
from numpy before C runs.

conv2d / pwconv2d / fc: acc = sum q * m[o] * w, and with m[o] = M for every o an error of one in
acc would only move v by 1 / M of an output unit (rounded away). So output channel 0 has s_w = 1
(m = M = 256 or 128) but zero weights (its q, any int8, still go through q * m and the DSP
pairs), and every other channel has s_w = s_max / M: m[o] = 1, acc = S = sum q * w. Depthwise:
acc = S, with an equal s_w for every channel.

How max |S| = 127 is reached (S = acc), for any shape: weights in {-1, 0, 1}, grad_out small.
B = sum |q| |w| bounds |S| everywhere and does not depend on signs. At e = argmax B, one term
with |w| = 1 gets its |q| raised by d = 127 - B_e: every other B grows by at most d (|w| <= 1),
so max B = 127 at e. Then the weights of e's terms take the signs of their q: S_e = B_e = 127.
"""

import numpy as np
import pytest

from kernels_bwd_cases import conv_grad_in_case, fc_grad_in_case, grad_in_scratch
from kernels_fwd_cases import assert_same, seed_of
from microtrain_tools.reference import REFERENCE_OPS
from microtrain_tools.reference import conv2d_s8_grad as conv_ref
from microtrain_tools.reference import grad_in_q8 as gq8

G_SCALE = np.float32(2.0**-5)  # grad_out's scale: powers of two keep every float step exact
OLD_SCALE = np.float32(0.7)  # accumulate: old q are all 0, so any old scale adds exactly 0

# (name, op, shape) over the kernels' paths (mt_conv_q8_grad_in.c, mt_dwconv2d_q8_grad_in.c).
EXACT = (
    # 1x1 block mode (DSP: stride 1, unpadded, >= 8 pixels; eight input channels a block up to
    # c_out = 64): c_in % 4 = 3 and 1, odd c_out (c_out % 4 = 3 and 1), batches; 7 pixels take
    # the tap path.
    ("1x1 block", "pwconv2d", dict(n=2, h=4, w=4, c_in=7, c_out=11, k=(1, 1), padding="valid")),
    ("1x1 block c_out 33", "pwconv2d", dict(h=6, w=6, c_in=9, c_out=33, k=(1, 1),
                                            padding="valid", accumulate=1)),
    # c_out = 13: one step of eight channels, one of four, and one left; c_in % 4 = 1.
    ("1x1 block c_out 13", "pwconv2d", dict(h=1, w=32, c_in=5, c_out=13, k=(1, 1),
                                            padding="valid")),
    ("1x1 7 pixels", "pwconv2d", dict(h=1, w=7, c_in=6, c_out=10, k=(1, 1), padding="valid")),
    # 1x1 one pixel at a time (stride 2).
    ("1x1 stride 2", "pwconv2d", dict(h=3, w=4, c_in=6, c_out=9, k=(1, 1), padding="valid",
                                      stride=(2, 2))),
    # fc batch 1: the DSP 8-row step, then 4, a pair and one (c_out = 15); c_in % 4 = 1, 3.
    ("fc 15", "fc", dict(n=1, in_shape=(1, 1, 13), c_out=15)),
    ("fc 23 accumulate", "fc", dict(n=1, in_shape=(1, 1, 7), c_out=23, accumulate=1)),
    ("fc batch 3", "fc", dict(n=3, in_shape=(1, 1, 11), c_out=9)),
    # 3x3 conv, padding ("same") and stride 2, odd sizes; stride 1 with accumulate.
    ("3x3 s2 same", "conv2d", dict(h=7, w=5, c_in=5, c_out=7, stride=(2, 2))),
    ("3x3 s1 same accumulate", "conv2d", dict(h=5, w=4, c_in=6, c_out=3, accumulate=1)),
    # depthwise 3x3 s1 and 7x7 s2: interior and border pixels, channels not a multiple of 4.
    ("dw 3x3 s1", "dwconv2d", dict(h=6, w=7, c_in=7)),
    ("dw 3x3 s1 accumulate", "dwconv2d", dict(n=2, h=5, w=5, c_in=6, accumulate=1)),
    ("dw 7x7 s2", "dwconv2d", dict(h=11, w=10, c_in=9, k=(7, 7), stride=(2, 2))),
    ("dw 7x7 s2 batch 2", "dwconv2d", dict(n=2, h=9, w=9, c_in=5, k=(7, 7), stride=(2, 2),
                                           accumulate=1)),
    # 56 taps in one phase: no tap table, the DSP path's general sums for every pixel.
    ("dw 7x8 s1 no table", "dwconv2d", dict(h=6, w=9, c_in=5, k=(7, 8))),
)


def unpacked(op, args):
    """(conv, in_dims, f_dims, out_dims, accumulate); fc as a 1x1 conv of one pixel."""
    return conv_ref.unpack(args, 4 if op == "fc" else 8)


def sums(op, conv, w, q, in_dims):
    """S {n,h,w,c_in} (int64): conv2d / pwconv2d / fc without m, or the depthwise sums."""
    if op == "dwconv2d":
        return gq8.dw_sums(conv, w, q, in_dims)
    return gq8.conv_sums(conv, w, q, in_dims)


def terms_of(conv, in_dims, out_dims, f_dims, elem):
    """The (oy, ox, ky, kx) whose tap reaches input pixel elem = (b, iy, ix, i)."""
    _, iy, ix, _ = elem
    for ky in range(f_dims[1]):
        for kx in range(f_dims[2]):
            ty, tx = iy + conv.pad_h - ky, ix + conv.pad_w - kx
            if ty % conv.stride_h or tx % conv.stride_w:
                continue
            oy, ox = ty // conv.stride_h, tx // conv.stride_w
            if 0 <= oy < out_dims[1] and 0 <= ox < out_dims[2]:
                yield oy, ox, ky, kx


def make_exact(rng, op, conv, in_dims, f_dims, out_dims, q_max):
    """(q, w) with max |S| = 127 exactly (the module docstring's construction)."""
    dw = op == "dwconv2d"
    w = rng.integers(-1, 2, size=f_dims).astype(np.int64)
    if not dw:
        w[0] = 0  # the channel of m = M (exact_case)
    while True:
        q = rng.integers(-q_max, q_max + 1, size=out_dims).astype(np.int64)
        bound = sums(op, conv, np.abs(w), np.abs(q), in_dims)
        if bound.max() <= 127:
            break
        q_max = max(1, q_max - 1)
    e = np.unravel_index(int(np.argmax(bound)), bound.shape)
    b, i = e[0], e[3]
    channels = [i] if dw else range(f_dims[0])  # the output channels o of e's terms
    terms = [(oy, ox, ky, kx, o) for oy, ox, ky, kx in terms_of(conv, in_dims, out_dims, f_dims, e)
             for o in channels]
    wi = (lambda ky, kx, o: (0, ky, kx, i)) if dw else (lambda ky, kx, o: (o, ky, kx, i))
    lift = [t for t in terms if abs(w[wi(*t[2:])]) == 1 and q[b, t[0], t[1], t[4]] != 0]
    assert lift, "the largest sum has a term q * w with |w| = 1"
    oy, ox, ky, kx, o = lift[0]
    sign = 1 if q[b, oy, ox, o] > 0 else -1
    q[b, oy, ox, o] += sign * (127 - int(bound[e]))
    for oy, ox, ky, kx, o in terms:  # e's terms all >= 0: S_e = B_e
        if q[b, oy, ox, o] != 0:
            w[wi(ky, kx, o)] = abs(w[wi(ky, kx, o)]) * np.sign(q[b, oy, ox, o])
    s = sums(op, conv, w, q, in_dims)
    assert np.abs(s).max() == 127 and np.abs(q).max() <= 127, "the construction holds"
    if not dw:  # output channel 0: any q (even -128), no weights: adds 0 to every sum
        q[..., 0] = rng.integers(-128, 128, size=q.shape[:3])
    return q.astype(np.int8), w.astype(np.int8), s


def exact_case(name, op, shape):
    """(op name, args, bufs, S): the q8 grad_in buffers and the integer sums it must output."""
    rng = np.random.default_rng(seed_of(name))
    if op == "fc":
        args, _ = fc_grad_in_case(rng, **shape)
    else:
        args, _ = conv_grad_in_case(rng, depthwise=op == "dwconv2d", **shape)
    conv, in_dims, f_dims, out_dims, accumulate = unpacked(op, args)
    q, w, s = make_exact(rng, op, conv, in_dims, f_dims, out_dims, q_max=3)
    c_scale = in_dims[3] if op == "dwconv2d" else f_dims[0]
    if op == "dwconv2d":
        w_scale = np.full(c_scale, 0.25, np.float32)
    else:
        big_m = gq8.channel_multiplier(f_dims[0] * f_dims[1] * f_dims[2])
        w_scale = np.full(c_scale, 1.0 / big_m, np.float32)
        w_scale[0] = 1.0
        assert gq8.multipliers(w_scale, f_dims[0] * f_dims[1] * f_dims[2])[0][1:].max() == 1
    old_q = np.zeros(s.size, np.int8)
    bufs = [w_scale, old_q, np.array([OLD_SCALE if accumulate else 0.0], np.float32),
            w.ravel(), q.ravel(), np.array([G_SCALE], np.float32)]
    if op != "dwconv2d":
        bufs.append(grad_in_scratch(op, args))
    return f"mt_{op}_q8_grad_in", args, bufs, s.ravel()


def exact_cases():
    for name, op, shape in EXACT:
        yield (name, *exact_case(name, op, shape))


def check_exact(name, ref, s):
    """numpy's output is S itself, with the scale of one unit of S (the case is sum-exact):
    s_g * s_w of a live channel (conv: s_max / M with m = 1; depthwise: s_w)."""
    assert np.array_equal(ref[1].astype(np.int64), s), f"{name}: int8 output is not the sum"
    assert ref[2][0] == G_SCALE * ref[0][-1], name


def reference(op_name, args, bufs):
    ref = [b.copy() for b in bufs]
    REFERENCE_OPS[op_name](args, ref)
    return ref


@pytest.mark.parametrize("case", [c[0] for c in EXACT])
def test_q8_grad_in_sum_exact_on_host(case):
    name, op_name, args, bufs, s = next(c for c in exact_cases() if c[0] == case)
    check_exact(op_name, reference(op_name, args, bufs), s)
    out = assert_same(op_name, args, bufs)
    assert np.array_equal(out[1].astype(np.int64), s), f"{case}: C's int8 is not the sum"


@pytest.mark.parametrize("arch", ["armv6m", "armv7emsp"])
def test_q8_grad_in_sum_exact_on_cortex_m(arch, tmp_path):
    from microtrain_tools.sim import hostlib
    from test_kernels_fwd_cortex_m import CortexM, build_image

    machine = CortexM(arch, build_image(arch, tmp_path))
    ids = hostlib.op_ids()
    failed = []
    for case, op_name, args, bufs, s in exact_cases():
        ref = reference(op_name, args, bufs)
        check_exact(op_name, ref, s)
        got = [b.copy() for b in bufs]
        status = machine.run_op(ids[op_name], args, got)
        assert status == 0, f"{case} on {arch}: status {status}"
        if any(g.tobytes() != r.tobytes() for g, r in zip(got, ref)):
            failed.append(case)
    assert not failed, f"on {arch}, C differs from the integer sums in: {failed}"


def test_q8_grad_in_sum_exact_in_micropython(micropython, built_module, tmp_path):
    """The x64 native module in the unix port (the device's path through our linker)."""
    import json

    from conftest import ROOT
    from microtrain_tools.device.micropython_runner import run_script
    from test_kernels_fwd_micropython import encode

    cases = list(exact_cases())
    case_file = tmp_path / "cases.json"
    case_file.write_text(json.dumps([encode(o, a, b) for _, o, a, b, _ in cases]))
    result = run_script(ROOT / "tests" / "micropython" / "natmod_fwd_ops.py",
                        path=[built_module("x64").parent], args=[case_file],
                        micropython=micropython, timeout=60)
    assert result.ok, result.describe()
    results = json.loads(result.stdout)
    assert len(results) == len(cases)
    failed = []
    for (case, op_name, args, bufs, s), got in zip(cases, results):
        assert got[0] != "error", f"{case}: {got}"
        ref = reference(op_name, args, bufs)
        check_exact(op_name, ref, s)
        if any(g != r.tobytes().hex() for g, r in zip(got, ref)):
            failed.append(case)
    assert not failed, f"in micropython, C differs from the integer sums in: {failed}"
