# SPDX-License-Identifier: MIT
"""The forward ops compiled for Cortex-M0 and M4 and run in the unicorn CPU emulator equal
the numpy reference bit for bit: the arithmetic the boards will do (Thumb-1 soft 64-bit
multiplies, soft float on M0/M3, the M4's FPU), not only the host's.

The whole op table (natmod/kernels + natmod/ops) is linked into a bare-metal image with libgcc
and mt_op_run is called directly with args and buffers placed in emulator memory.
"""

import struct

import numpy as np
import pytest

from bare_metal import Core, build_image  # noqa: F401  (build_image: the backward tests too)
from kernels_fwd_cases import add_case, avgpool_case, conv_case, dequant_case, fc_case
from microtrain_tools.reference import REFERENCE_OPS
from microtrain_tools.reference import args as A


class CortexM(Core):
    """A Cortex-M in unicorn with the op table image loaded."""

    def run_op(self, op_id: int, args, bufs) -> int:
        """mt_op_run(op_id, args, n_args, bufs, n_bufs); written buffers are copied back."""
        self.reset()
        args_at = self.place(np.asarray(args, np.int32).tobytes() or b"\0\0\0\0")
        layout = [(self.place(b.tobytes() or b"\0"), b.nbytes) for b in bufs]
        bufs_at = self.place(b"".join(struct.pack("<II", at, n) for at, n in layout))
        status = self.call("mt_op_run", op_id, args_at, len(args), bufs_at, len(bufs))
        for b, (at, n) in zip(bufs, layout):
            b.view(np.uint8)[:] = np.frombuffer(self.read(at, n), np.uint8)
        return status


def small_products(rng, case):
    """A conv case with filter values in [-1, 1] and small biases: at scales near 1 (shifts
    above -2) the outputs then land inside int8 rather than on the clamp."""
    args, bufs = case
    bufs[3] = rng.integers(-1, 2, size=bufs[3].size).astype(np.int8)
    bufs[4] = rng.integers(-50, 51, size=bufs[4].size).astype(np.int32)
    return args, bufs


def bias_at_sum_limit(rng, past_limit: int, c_out: int = 4):
    """A 1x1 case whose every product is 32640 (x + offset = -255, w = -128), so each sum is
    c_in 32640, with the biases at INT32_MAX - c_in 32640 (+ past_limit) and its negation:
    sums up to INT32_MAX exactly, or past it, where the bias add saturates."""
    c_in = 4
    args, bufs = conv_case(rng, k=(1, 1), padding="valid", h=1, w=2, c_in=c_in, c_out=c_out)
    head = A.pack_conv(A.Conv(1, 1, 0, 0, A.Act(-127, 0)))
    args[:len(head)] = head
    bufs[2][:] = -128
    bufs[3][:] = -128
    limit = 2**31 - 1 - c_in * 128 * 255 + past_limit
    bufs[4][:] = np.resize(np.array([limit, -limit, limit, 5], np.int64), c_out).astype(np.int32)
    return args, bufs


def cases():
    rng = np.random.default_rng(42)
    yield "mt_conv2d_s8_fwd", conv_case(rng, h=6, w=5, c_in=3, c_out=4, stride=(2, 2))
    yield "mt_conv2d_s8_fwd", conv_case(rng, h=1, w=10, k=(1, 3), c_in=2, c_out=3,
                                        clamp="relu6", scale_range=(0.5, 30.0),
                                        bias_range=1 << 20)
    yield "mt_pwconv2d_s8_fwd", conv_case(rng, k=(1, 1), padding="valid", h=4, w=4, c_in=5,
                                          c_out=6)
    yield "mt_dwconv2d_s8_fwd", conv_case(rng, depthwise=True, k=(7, 7), stride=(2, 2), h=9,
                                          w=8, c_in=3)
    yield "mt_fc_s8_fwd", fc_case(rng, n=2, in_shape=(1, 1, 24), c_out=7,
                                  scale_range=(1e-9, 40.0), bias_range=1 << 28)
    yield "mt_add_s8_fwd", add_case(rng, dims=(1, 2, 3, 5))
    # The prepared input rescale (32-bit products) and, on the M4, the prepared output
    # requantization, over 1,024 values and with the relu clamp.
    yield "mt_add_s8_fwd", add_case(rng, dims=(1, 16, 16, 4), clamp="relu")
    yield "mt_avgpool_s8_fwd", avgpool_case(rng, dims=(1, 3, 5, 6))
    yield "mt_dequant_s8_f32", dequant_case(rng, dims=(1, 1, 1, 32))
    yield "mt_dequant_s8_f32", dequant_case(rng, dims=(1, 1, 1, 8), scale=1e-40)
    # 6 channels: one group of 4 (the M4's DSP path) and 2 single channels.
    yield "mt_dwconv2d_s8_fwd", conv_case(rng, depthwise=True, k=(3, 3), h=5, w=4, c_in=6)
    # The M4's depthwise path (groups of 4 channels, windows inside the input unrolled, the
    # rest row by row): stride 2, valid padding, batch 2, 1 to 3 channels after the groups;
    # scales up to 2 give shifts above -2 (requantized the portable way, patch_exact).
    yield "mt_dwconv2d_s8_fwd", conv_case(rng, depthwise=True, k=(3, 3), stride=(2, 2), h=7,
                                          w=6, c_in=9)
    yield "mt_dwconv2d_s8_fwd", conv_case(rng, depthwise=True, k=(3, 3), padding="valid", n=2,
                                          h=6, w=5, c_in=7, clamp="relu")
    yield "mt_dwconv2d_s8_fwd", conv_case(rng, depthwise=True, k=(3, 3), stride=(1, 2), h=3,
                                          w=2, c_in=4)
    yield "mt_dwconv2d_s8_fwd", small_products(
        rng, conv_case(rng, depthwise=True, k=(3, 3), h=4, w=5, c_in=8, scale_range=(0.1, 2.0)))
    yield from dwconv_dsp_cases(rng)
    # The M4's stride-1 1x1 path (2 rows x 2 pixels, even c_out, every shift <= -2): an odd
    # pixel count, c_in not a multiple of 4, batch 2; odd c_out, a shift above -2 and stride 2
    # take the per-pixel path.
    yield "mt_pwconv2d_s8_fwd", conv_case(rng, k=(1, 1), padding="valid", h=3, w=3, c_in=11,
                                          c_out=6, clamp="relu6")
    yield "mt_pwconv2d_s8_fwd", conv_case(rng, k=(1, 1), padding="valid", n=2, h=1, w=3, c_in=9,
                                          c_out=4)
    yield "mt_pwconv2d_s8_fwd", conv_case(rng, k=(1, 1), padding="valid", n=2, h=3, w=3,
                                          c_in=11, c_out=7, clamp="relu6")
    yield "mt_pwconv2d_s8_fwd", small_products(
        rng, conv_case(rng, k=(1, 1), padding="valid", h=1, w=5, c_in=8, c_out=6,
                       scale_range=(0.1, 1.0)))
    yield "mt_pwconv2d_s8_fwd", conv_case(rng, k=(1, 1), padding="valid", h=1, w=1, c_in=3,
                                          c_out=1)
    yield "mt_conv2d_s8_fwd", conv_case(rng, k=(1, 1), padding="valid", stride=(2, 2), h=5,
                                        w=5, c_in=6, c_out=5)
    # The M4's whole-loop asm form of the 1x1 path (the whole int8 range, multipliers >= 0, sums
    # started at the bias): c_in a multiple of 4, c_in below 4 (only the byte loop), and the
    # sums' int32 edge: biases at the limit that still cannot saturate, then one past it, where
    # the C form (which saturates) runs instead; a negative multiplier takes the C form too.
    yield "mt_pwconv2d_s8_fwd", conv_case(rng, k=(1, 1), padding="valid", h=2, w=3, c_in=8,
                                          c_out=6)
    yield "mt_pwconv2d_s8_fwd", conv_case(rng, k=(1, 1), padding="valid", h=1, w=4, c_in=3,
                                          c_out=4)
    for past_limit in (0, 1):
        yield "mt_pwconv2d_s8_fwd", bias_at_sum_limit(rng, past_limit)
    # Its widened form (c_in a multiple of 4 up to 256, c_out >= 8): one step, an odd pixel
    # count, the largest c_in, one past it (the unwidened loop), the int32 edge.
    for c_in, w in ((4, 5), (16, 3), (256, 2), (260, 2)):
        yield "mt_pwconv2d_s8_fwd", conv_case(rng, k=(1, 1), padding="valid", h=1, w=w,
                                              c_in=c_in, c_out=8)
    for past_limit in (0, 1):
        yield "mt_pwconv2d_s8_fwd", bias_at_sum_limit(rng, past_limit, c_out=8)
    # Biases at the int32 limits (dead channels, as in mcunet's first layers): the widened
    # form's saturating adds, where sums of either sign saturate or not.
    args, bufs = conv_case(rng, k=(1, 1), padding="valid", h=2, w=3, c_in=16, c_out=8)
    bufs[4][:4] = [-2**31, 2**31 - 1, -2**31 + 1000, 2**31 - 1000]
    yield "mt_pwconv2d_s8_fwd", (args, bufs)
    # (Shifts of -2 and small sums: a quarter of the negative results are rounding ties, where
    # taking the sign of x for that of x m would round the wrong way.)
    args, bufs = small_products(rng, conv_case(rng, k=(1, 1), padding="valid", h=4, w=8,
                                               c_in=2, c_out=8, scale_range=(0.13, 0.24)))
    bufs[0][1::2] = -bufs[0][1::2]
    yield "mt_pwconv2d_s8_fwd", (args, bufs)
    # The M4's im2col path of a larger filter (pixel pairs, kh*kw*c_in <= 128 window bytes,
    # even c_out, every shift <= -2): a network's first 3x3 stride-2 conv on RGB with an odd
    # pixel count (the last pixel alone) and padding on every side; batch 2 with a 5x5 window
    # and relu6; 144 window bytes, odd c_out and a shift above -2 take the per-pixel path.
    yield "mt_conv2d_s8_fwd", conv_case(rng, h=5, w=6, c_in=3, c_out=8, stride=(2, 2))
    yield "mt_conv2d_s8_fwd", conv_case(rng, n=2, h=6, w=5, k=(5, 5), c_in=2, c_out=6,
                                        clamp="relu6")
    yield "mt_conv2d_s8_fwd", conv_case(rng, h=4, w=4, c_in=16, c_out=4)
    # Windows padded to whole words with the filter copied (k 27 -> 28 and 18 -> 20, c_out >= 8,
    # at most 512 filter bytes): RGB with dead channels' biases at the int32 limits (mcunet's
    # first layer: the saturating form), 2 channels, and 20 output channels (560 bytes: the
    # unpadded form).
    args, bufs = conv_case(rng, h=5, w=7, c_in=3, c_out=16, stride=(2, 2))
    bufs[4][[3, 9]] = [-2**31, 2**31 - 1]
    yield "mt_conv2d_s8_fwd", (args, bufs)
    yield "mt_conv2d_s8_fwd", conv_case(rng, h=4, w=6, c_in=2, c_out=8)
    yield "mt_conv2d_s8_fwd", conv_case(rng, h=4, w=5, c_in=3, c_out=20, stride=(2, 2))
    yield "mt_conv2d_s8_fwd", conv_case(rng, h=4, w=5, c_in=3, c_out=5)
    yield "mt_conv2d_s8_fwd", small_products(
        rng, conv_case(rng, h=4, w=4, c_in=2, c_out=4, scale_range=(0.1, 2.0)))


def dwconv_dsp_cases(rng):
    """The depthwise DSP path (natmod/kernels/mt_dwconv2d_s8_fwd_dsp.c: filters up to 49 taps,
    groups of 4 channels). Each kernel size and stride, windows inside the input and over every
    edge, asymmetric padding (stride 2, even size), channels after the last group of 4, clamps
    narrower than int8 (the per-byte select), maps where no window lies inside."""
    dw = "mt_dwconv2d_s8_fwd"
    for k, stride, n, h, w, c, clamp in [
        ((3, 3), (1, 1), 1, 6, 7, 8, "relu6"),  # straight-line 3x3 inside windows
        ((3, 3), (2, 2), 2, 8, 8, 12, "none"),
        ((5, 5), (1, 1), 1, 7, 9, 8, "none"),
        ((5, 5), (2, 2), 1, 9, 8, 4, "relu"),
        ((7, 7), (1, 1), 1, 8, 9, 4, "relu6"),
        ((7, 7), (2, 2), 1, 10, 9, 6, "none"),
        ((7, 7), (1, 1), 1, 4, 4, 8, "none"),  # no window inside
        ((5, 5), (1, 1), 1, 2, 3, 5, "relu6"),
        ((1, 9), (1, 1), 1, 3, 12, 8, "none"),  # a row wider than 7 taps
        ((9, 5), (2, 1), 1, 11, 7, 4, "none"),  # 45 taps, strides differ
        ((3, 3), (1, 1), 1, 1, 1, 4, "none"),  # one pixel: only padding around it
    ]:
        yield dw, conv_case(rng, depthwise=True, k=k, stride=stride, n=n, h=h, w=w, c_in=c,
                            clamp=clamp)
    yield dw, conv_case(rng, depthwise=True, k=(3, 3), padding="valid", h=5, w=6, c_in=8)
    # Groups of 4 whose channels do not all fold (|bias| above 2^29, a shift below -22 or
    # above -2, a negative multiplier) take the exact requantization per channel; a network's
    # dead channels (scale near 0: shift -29, bias at the int32 limits) among live ones.
    yield dw, conv_case(rng, depthwise=True, h=5, w=5, c_in=8, bias_range=1 << 30)
    yield dw, conv_case(rng, depthwise=True, h=5, w=5, c_in=8, scale_range=(1e-9, 1e-8))
    yield dw, small_products(rng, conv_case(rng, depthwise=True, k=(5, 5), h=5, w=6, c_in=8,
                                            scale_range=(0.1, 2.0)))
    args, bufs = conv_case(rng, depthwise=True, h=6, w=5, c_in=13, clamp="relu6")
    bufs[0][2] = -bufs[0][2]
    bufs[1][5], bufs[4][5] = -29, np.iinfo(np.int32).min
    bufs[1][9], bufs[4][9] = -29, np.iinfo(np.int32).max
    yield dw, (args, bufs)
    yield dw, dead_channels_case()
    # More than 49 taps: the portable loop.
    yield dw, conv_case(rng, depthwise=True, k=(8, 8), h=9, w=9, c_in=4)


def dead_channels_case():
    """Channels that do not fold, in groups of 4 with live ones: one whose output steps once
    inside the reachable sums (shift -29, bias near -3.5 2^29: the step near sum 500), one
    saturating (bias INT32_MIN), one constant (weights 0, bias INT32_MAX), one above the
    folding bias limit at shift -8 (at the clamp)."""
    args, bufs = conv_case(np.random.default_rng(5), depthwise=True, h=6, w=7, c_in=8)
    mult, shift, _, filt, bias, _ = bufs
    i32 = np.iinfo(np.int32)
    mult[1], shift[1], bias[1] = i32.max, -29, -1879048192 - 500
    mult[2], shift[2], bias[2] = i32.max, -29, i32.min
    filt[3::8], shift[3], bias[3] = 0, -29, i32.max
    mult[6], shift[6], bias[6] = 1 << 30, -8, 1 << 30
    args[5:8] = [60, 40, 100]  # output zero point 60, a clamp narrower than int8 around the step
    return args, bufs


def test_dead_channels_case_reaches_the_step():
    """dead_channels_case's channel 1 gives both of its values (the step is inside the sums
    the case reaches), so the Cortex-M run checks both sides of it."""
    args, bufs = dead_channels_case()
    REFERENCE_OPS["mt_dwconv2d_s8_fwd"](args, bufs)
    assert len(np.unique(bufs[5].reshape(-1, 8)[:, 1])) == 2


# M0 (Thumb-1, soft float) and M4 (Thumb-2, DSP, FPU) bracket M3, which test_kernels_fwd_build
# compiles; emulating it too would only add time.
@pytest.mark.parametrize("arch", ["armv6m", "armv7emsp"])
def test_forward_ops_on_cortex_m_equal_numpy(arch, tmp_path):
    from microtrain_tools.sim import hostlib

    machine = CortexM(arch, build_image(arch, tmp_path))
    ids = hostlib.op_ids()  # the same table sources, so the same ids
    for name, (args, bufs) in cases():
        got = [b.copy() for b in bufs]
        status = machine.run_op(ids[name], args, got)
        assert status == 0, f"{name} on {arch}: status {status} ({hostlib.status_message(status)})"
        ref = [b.copy() for b in bufs]
        REFERENCE_OPS[name](args, ref)
        for i, (g, r) in enumerate(zip(got, ref)):
            assert g.tobytes() == r.tobytes(), f"{name} on {arch}: buffer {i} differs from numpy"
    # A refusal comes back as a status, as on the host.
    args, bufs = conv_case(np.random.default_rng(0))
    args[17] = 5
    assert machine.run_op(ids["mt_conv2d_s8_fwd"], args, bufs) == 2  # MT_ERR_SHAPE


def requant_channels(rng):
    """(bias, multiplier, shift) per channel for an fc whose accumulators equal the bias: every
    shift, edge multipliers, exact rounding ties of both roundings, accumulators landing in
    the int8 window from both sides, and the int32 extremes (INT32_MIN * INT32_MIN too)."""
    i32 = np.iinfo(np.int32)
    edges = [i32.min, i32.min + 1, -(1 << 30) - 1, -(1 << 30), -1, 0, 1, (1 << 30) - 1,
             1 << 30, i32.max - 1, i32.max]
    mults = [i32.min, -(1 << 30), 0, 1, 1 << 30, (1 << 30) + 1, 1518500250, i32.max]
    mults += [int(v) for v in rng.integers(1 << 30, 1 << 31, size=4)]
    bias, mult, shift = [], [], []
    for s in range(-31, 31):
        e = max(-s, 0)
        # multiplier 2^30: the high multiply is x / 2 rounded half up; x = 2 r (+1 for a tie
        # of the first rounding) puts r on, and next to, ties of the second.
        half = 1 << (e - 1) if e else 0
        ties = [2 * (k * (1 << e) + half + d) + t for k in (-3, -1, 0, 1, 2)
                for d in (-1, 0, 1) for t in (0, 1)]
        for m in mults:
            scale = m * 2.0 ** (s - 31)
            near = [int(round(v / scale)) + j for v in (-200.0, -128.5, -3.5, 0.5, 127.5, 250.0)
                    for j in (-2, -1, 0, 1)] if scale > 0 else []
            for x in edges + near + (ties if m == 1 << 30 else []):
                bias.append(min(max(x, i32.min), i32.max))
                mult.append(m)
                shift.append(s)
    return bias, mult, shift


@pytest.mark.parametrize("arch", ["armv6m", "armv7emsp"])
def test_requant_on_cortex_m_equals_numpy_at_every_shift_and_edge(arch, tmp_path):
    """mt_requant_s8 on the boards (the M4's folded-rounding path for shift <= -2, the portable
    one elsewhere) against the reference, through fc, at several output zero points so the
    int8 window sees results from -255 to 255."""
    check_requant(CortexM(arch, build_image(arch, tmp_path)))


def check_requant(machine):
    """mt_requant_s8 through fc at every shift and edge (requant_channels) against numpy."""
    from microtrain_tools.sim import hostlib

    op = hostlib.op_ids()["mt_fc_s8_fwd"]
    bias, mult, shift = requant_channels(np.random.default_rng(7))
    c = len(bias)
    for zp in (-128, 0, 127):
        args = [0, zp, -128, 127, 1, 1, 1, 1, c, 1, 1, 1, 1, 1, 1, c]
        bufs = [np.asarray(mult, np.int32), np.asarray(shift, np.int32), np.zeros(1, np.int8),
                np.ones(c, np.int8), np.asarray(bias, np.int32), np.zeros(c, np.int8)]
        got = [b.copy() for b in bufs]
        assert machine.run_op(op, args, got) == 0
        REFERENCE_OPS["mt_fc_s8_fwd"](args, bufs)
        bad = np.flatnonzero(got[5] != bufs[5])
        assert bad.size == 0, [(bias[i], mult[i], shift[i], int(got[5][i]), int(bufs[5][i]))
                               for i in bad[:5]]
        assert len(np.unique(got[5])) > 100  # the window is exercised, not only the clamp


@pytest.mark.parametrize("arch", ["armv7emsp"])
def test_dwconv_folded_requant_on_cortex_m_equals_numpy_at_every_edge(arch, tmp_path):
    """The depthwise DSP path's folded requantization (smmlar on doubled sums, the output
    offset in the rounding term) against the reference at the edges of its range: every shift
    in [-22, -2], multipliers from 0 to 2^31 - 1, exact ties of both roundings, biases up to
    +-2^29, output zero points -128 and 127 (the largest offset term) and a narrow clamp. A
    1x1 filter of ones on a zero input with input offset 0: each output is its bias,
    requantized."""
    from microtrain_tools.sim import hostlib

    machine = CortexM(arch, build_image(arch, tmp_path))
    op = hostlib.op_ids()["mt_dwconv2d_s8_fwd"]
    bias, mult, shift = requant_channels(np.random.default_rng(11))
    keep = [(b, m, s) for b, m, s in zip(bias, mult, shift)
            if -22 <= s <= -2 and m >= 0 and abs(b) <= 1 << 29]
    keep += [((1 << 29) * sign, m, s) for sign in (-1, 1) for m in (0, 1 << 30, 2**31 - 1)
             for s in (-22, -2)]
    # Outputs spread over the int8 window at every shift.
    keep += [(int(round(v / (m * 2.0 ** (s - 31)))), m, s) for s in range(-22, -1)
             for m in (1 << 30, 1518500250, 2**31 - 1) for v in np.arange(-300.0, 300.0, 1.1)
             if abs(v / (m * 2.0 ** (s - 31))) <= 1 << 29]
    keep += keep[: -len(keep) % 4]  # whole groups of 4: all of them on the folded path
    bias, mult, shift = (np.asarray(v, np.int32) for v in zip(*keep))
    c = len(bias)
    for zp, lo, hi in ((-128, -128, 127), (127, -128, 127), (0, -128, 127), (-5, -20, 90)):
        args = [1, 1, 0, 0, 0, zp, lo, hi, 1, 1, 1, c, 1, 1, 1, c, 1, 1, 1, c]
        bufs = [mult, shift, np.zeros(c, np.int8), np.ones(c, np.int8), bias,
                np.zeros(c, np.int8)]
        got = [b.copy() for b in bufs]
        assert machine.run_op(op, args, got) == 0
        REFERENCE_OPS["mt_dwconv2d_s8_fwd"](args, bufs)
        bad = np.flatnonzero(got[5] != bufs[5])
        assert bad.size == 0, [(int(bias[i]), int(mult[i]), int(shift[i]), int(got[5][i]),
                                int(bufs[5][i])) for i in bad[:5]]
        assert len(np.unique(got[5])) > min(hi - lo, 200)  # the window, not only the clamp


@pytest.mark.parametrize("arch", ["armv7emsp"])
def test_dwconv_dead_channel_step_on_cortex_m_at_every_sum(arch, tmp_path):
    """A dead channel folded as a step (folds_as_step) gives the reference's bytes for every
    sum from -128 to 127, so on both sides of its step and at it: a 1x1 filter of ones, input
    offset 0, channel 0's input every int8 value; its step sits near sum 0 (bias -3.5 2^29 at
    shift -29, and a second channel's near 100), a saturating one (bias INT32_MIN) too."""
    from microtrain_tools.sim import hostlib

    machine = CortexM(arch, build_image(arch, tmp_path))
    op = hostlib.op_ids()["mt_dwconv2d_s8_fwd"]
    i32 = np.iinfo(np.int32)
    mult = np.array([i32.max, i32.max, i32.max, 1 << 30], np.int32)
    shift = np.array([-29, -29, -29, -8], np.int32)
    bias = np.array([-1879048192, -1879048192 - 100, i32.min, 0], np.int32)
    x = np.repeat(np.arange(-128, 128, dtype=np.int8), 4)  # 256 pixels, 4 channels
    for zp in (-128, 0, 100):
        args = [1, 1, 0, 0, 0, zp, -128, 127, 1, 1, 256, 4, 1, 1, 1, 4, 1, 1, 256, 4]
        bufs = [mult, shift, x, np.ones(4, np.int8), bias, np.zeros(1024, np.int8)]
        got = [b.copy() for b in bufs]
        assert machine.run_op(op, args, got) == 0
        REFERENCE_OPS["mt_dwconv2d_s8_fwd"](args, bufs)
        assert got[5].tobytes() == bufs[5].tobytes()
        out = bufs[5].reshape(256, 4)
        if zp != -128:  # (at -128 the int8 clamp hides the step)
            assert len(np.unique(out[:, 0])) == 2 and len(np.unique(out[:, 1])) == 2
