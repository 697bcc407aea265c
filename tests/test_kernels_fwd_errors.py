# SPDX-License-Identifier: MIT
"""Bad input to the forward ops is refused with a clear message before any byte is written."""

import numpy as np
import pytest

from kernels_fwd_cases import add_case, avgpool_case, conv_case, dequant_case, fc_case
from microtrain_tools.sim import hostlib
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.reference import REFERENCE_OPS
from microtrain_tools.reference.args import f32_bits


def refused(name, args, bufs, message, reference_too=True):
    """The op raises `message` and leaves every written buffer untouched; the numpy reference
    refuses the same input (with its own wording)."""
    before = [b.copy() for b in bufs]
    with pytest.raises(MicrotrainError, match=message):
        hostlib.run_op(name, args, bufs)
    for i, (b, a) in enumerate(zip(before, bufs)):
        assert np.array_equal(b, a), f"{name} touched buffer {i} before refusing"
    if reference_too:
        with pytest.raises(MicrotrainError):
            REFERENCE_OPS[name](args, [b.copy() for b in bufs])


def conv(**kw):
    return conv_case(np.random.default_rng(0), **kw)


def with_arg(case, index, value):
    args, bufs = case
    args = list(args)
    args[index] = value
    return args, bufs


def roomy(case, out_index):
    """The case with a large output buffer, so the kernel (not the size check) must refuse."""
    args, bufs = case
    bufs = list(bufs)
    bufs[out_index] = np.zeros(4096, bufs[out_index].dtype)
    return args, bufs


# Conv args: 0-3 stride/pad, 4-7 act, 8-11 input dims, 12-15 filter dims, 16-19 output dims.
CONV_BAD = {
    "output height too big": (roomy(with_arg(conv(), 17, 11), 5), "shapes do not agree"),
    "output height too small": (with_arg(conv(), 17, 5), "shapes do not agree"),
    "output too big for the buffer": (with_arg(conv(), 17, 9), "buffer too small"),
    "filter channels differ from input": (with_arg(conv(), 15, 2), "shapes do not agree|buffer"),
    "zero stride": (with_arg(conv(), 0, 0), "shapes do not agree"),
    "padding as big as the kernel": (with_arg(conv(), 2, 3), "parameter out of range"),
    "negative dim": (with_arg(conv(), 9, -8), "shapes do not agree"),
    "input zero point out of int8": (with_arg(conv(), 4, 129), "parameter out of range"),
    "act_min above act_max": (with_arg(conv(), 6, 100), "parameter out of range"),
    "batch differs": (with_arg(conv(), 16, 2), "shapes do not agree|buffer too small"),
}


@pytest.mark.parametrize("case", CONV_BAD)
def test_conv2d_refuses(case):
    (args, bufs), message = CONV_BAD[case]
    if case == "act_min above act_max":
        args[7] = 50
    refused("mt_conv2d_s8_fwd", args, bufs, message)


def test_conv2d_refuses_bad_shift():
    args, bufs = conv()
    bufs[1][2] = 31
    refused("mt_conv2d_s8_fwd", args, bufs, "parameter out of range")


def test_buffer_too_small_and_misaligned():
    args, bufs = conv()
    small = list(bufs)
    small[5] = bufs[5][:-1].copy()
    refused("mt_conv2d_s8_fwd", args, small, "buffer too small")
    small = list(bufs)
    small[4] = bufs[4][:-1].copy()
    refused("mt_conv2d_s8_fwd", args, small, "buffer too small")
    raw = np.zeros(bufs[4].nbytes + 4, np.uint8)
    odd = raw[1 : 1 + bufs[4].nbytes].view(np.int32)
    misaligned = list(bufs)
    misaligned[4] = odd
    refused("mt_conv2d_s8_fwd", args, misaligned, "not aligned", reference_too=False)


def test_pwconv_refuses_a_3x3_filter():
    refused("mt_pwconv2d_s8_fwd", *conv(), "parameter out of range")


def test_dwconv_refuses_channel_mismatch():
    args, bufs = conv_case(np.random.default_rng(0), depthwise=True, c_in=4)
    args[19] = 3
    refused("mt_dwconv2d_s8_fwd", args, bufs, "shapes do not agree")


def test_fc_refuses_feature_mismatch():
    args, bufs = fc_case(np.random.default_rng(0), in_shape=(1, 1, 16))
    args[11] = 15
    refused("mt_fc_s8_fwd", args, bufs, "shapes do not agree")


def test_add_refuses_bad_shift_and_offset():
    args, bufs = add_case(np.random.default_rng(0))
    refused("mt_add_s8_fwd", with_arg((args, bufs), 2, -32)[0], bufs, "parameter out of range")
    refused("mt_add_s8_fwd", with_arg((args, bufs), 8, 128)[0], bufs, "parameter out of range")


def test_avgpool_refuses_different_zero_points_and_bad_output():
    args, bufs = avgpool_case(np.random.default_rng(0))
    refused("mt_avgpool_s8_fwd", with_arg((args, bufs), 1, args[1] + 1)[0], bufs,
            "parameter out of range")
    args, bufs = roomy(with_arg((args, bufs), 9, 2), 1)
    refused("mt_avgpool_s8_fwd", args, bufs, "shapes do not agree")


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf")])
def test_dequant_refuses_bad_scale(scale):
    args, bufs = dequant_case(np.random.default_rng(0))
    args[1] = f32_bits(scale)
    refused("mt_dequant_s8_f32", args, bufs, "parameter out of range")


def test_host_checks_counts_and_dtypes():
    args, bufs = conv()
    with pytest.raises(MicrotrainError, match="takes 20 args and 6 buffers"):
        hostlib.run_op("mt_conv2d_s8_fwd", args[:-1], bufs)
    with pytest.raises(MicrotrainError, match="buffer 0 must be int32"):
        hostlib.run_op("mt_conv2d_s8_fwd", args, [bufs[0].astype(np.int64), *bufs[1:]])
    with pytest.raises(MicrotrainError, match="unknown op"):
        hostlib.run_op("mt_nope", args, bufs)
    with pytest.raises(MicrotrainError, match="does not fit int32"):
        hostlib.run_op("mt_conv2d_s8_fwd", [1 << 31, *args[1:]], bufs)


def test_library_is_rebuilt_only_when_a_source_is_newer():
    path = hostlib.build()
    stamp = path.stat().st_mtime_ns
    assert hostlib.build() == path and path.stat().st_mtime_ns == stamp
    assert set(hostlib.sources()) >= {hostlib.NATMOD_DIR / "kernels" / "mt_conv2d_s8_fwd.c",
                                      hostlib.NATMOD_DIR / "ops" / "mt_op_conv2d.c"}


def test_op_ids_come_from_the_library():
    ids = hostlib.op_ids()
    for name in ("mt_conv2d_s8_fwd", "mt_pwconv2d_s8_fwd", "mt_dwconv2d_s8_fwd", "mt_fc_s8_fwd",
                 "mt_add_s8_fwd", "mt_avgpool_s8_fwd", "mt_dequant_s8_f32"):
        assert name in ids
        assert hostlib.op_info(ids[name]).name == name
    assert sorted(ids.values()) == list(range(len(ids)))
