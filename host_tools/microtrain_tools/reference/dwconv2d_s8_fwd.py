# SPDX-License-Identifier: MIT
"""Reference of mt_dwconv2d_s8_fwd: int8 depthwise conv, multiplier 1 (DEPTHWISE_CONV_2D)."""

import numpy as np

from ..errors import MicrotrainError
from . import args as A
from .conv2d_s8_fwd import add_bias, padded_input, requantize_act, unpack_conv_op, windows


def dwconv2d_s8_fwd(conv: A.Conv, multiplier, shift, x, w, bias, out_h, out_w):
    """x {n, h, w, c} int8, w {1, kh, kw, c} int8 -> {n, out_h, out_w, c} int8."""
    _, k_h, k_w, c = w.shape
    if w.shape[0] != 1 or x.shape[3] != c:
        raise MicrotrainError(f"dwconv2d: filter {w.shape} does not fit input {x.shape}")
    for size_in, k, s, p, size_out in (
        (x.shape[1], k_h, conv.stride_h, conv.pad_h, out_h),
        (x.shape[2], k_w, conv.stride_w, conv.pad_w, out_w),
    ):
        if not A.conv_axis_ok(size_in, k, s, p, size_out):
            raise MicrotrainError("dwconv2d: output dims do not follow from the input")
    xp = padded_input(x, conv.act.input_offset, conv, k_h, k_w, out_h, out_w)
    acc = np.zeros((x.shape[0], out_h, out_w, c), np.int64)
    w64 = w.astype(np.int64)
    for ky in range(k_h):
        for kx in range(k_w):
            acc += windows(xp, ky, kx, conv, out_h, out_w) * w64[0, ky, kx]
    return requantize_act(add_bias(acc, bias), multiplier, shift, conv.act)


def op(args, bufs):
    conv, multiplier, shift, x, w, bias, out = unpack_conv_op(args, bufs)
    if out.shape[3] != x.shape[3]:
        raise MicrotrainError(f"dwconv2d: output has {out.shape[3]} channels, input {x.shape[3]}")
    out[...] = dwconv2d_s8_fwd(conv, multiplier, shift, x, w, bias, out.shape[1], out.shape[2])


OPS = {"mt_dwconv2d_s8_fwd": op}
