# SPDX-License-Identifier: MIT
"""Reference of mt_conv2d_s8_fwd and mt_pwconv2d_s8_fwd: int8 conv, groups 1 (TFLite CONV_2D)."""

import numpy as np

from ..errors import MicrotrainError
from ..formats.quant import INT32_MAX, INT32_MIN, requantize
from . import args as A


def padded_input(x, input_offset, conv: A.Conv, k_h, k_w, out_h, out_w):
    """(x + input_offset) as int64, zero-padded so every window of the output is in range.

    Padding with zero after the offset is the same as padding with the input zero point.
    """
    n, h, w, c = x.shape
    need_h = (out_h - 1) * conv.stride_h + k_h
    need_w = (out_w - 1) * conv.stride_w + k_w
    xp = np.zeros((n, max(need_h, h + conv.pad_h), max(need_w, w + conv.pad_w), c), np.int64)
    inner = (slice(None), slice(conv.pad_h, conv.pad_h + h), slice(conv.pad_w, conv.pad_w + w))
    xp[inner] = x.astype(np.int64) + input_offset
    return xp


def windows(xp, ky, kx, conv: A.Conv, out_h, out_w):
    """The input pixels that filter tap (ky, kx) meets, one per output pixel."""
    ys = slice(ky, ky + (out_h - 1) * conv.stride_h + 1, conv.stride_h)
    xs = slice(kx, kx + (out_w - 1) * conv.stride_w + 1, conv.stride_w)
    return xp[:, ys, xs]


def add_bias(acc, bias):
    return np.clip(acc + bias.astype(np.int64), INT32_MIN, INT32_MAX)


def conv2d_s8_fwd(conv: A.Conv, multiplier, shift, x, w, bias, out_h, out_w):
    """x {n, h, w, c_in} int8, w {c_out, kh, kw, c_in} int8 -> {n, out_h, out_w, c_out} int8."""
    check_conv(conv, x.shape, w.shape, out_h, out_w)
    c_out, k_h, k_w, _ = w.shape
    xp = padded_input(x, conv.act.input_offset, conv, k_h, k_w, out_h, out_w)
    acc = np.zeros((x.shape[0], out_h, out_w, c_out), np.int64)
    w64 = w.astype(np.int64)
    for ky in range(k_h):
        for kx in range(k_w):
            acc += windows(xp, ky, kx, conv, out_h, out_w) @ w64[:, ky, kx, :].T
    return requantize_act(add_bias(acc, bias), multiplier, shift, conv.act)


def requantize_act(acc, multiplier, shift, act: A.Act):
    return requantize(acc, multiplier, shift, act.output_offset, act.act_min, act.act_max)


def check_conv(conv: A.Conv, x_shape, w_shape, out_h, out_w):
    if w_shape[3] != x_shape[3]:
        raise MicrotrainError(f"conv: filter has {w_shape[3]} input channels, input {x_shape[3]}")
    for axis, size_in, k, s, p, size_out in (
        ("h", x_shape[1], w_shape[1], conv.stride_h, conv.pad_h, out_h),
        ("w", x_shape[2], w_shape[2], conv.stride_w, conv.pad_w, out_w),
    ):
        if not A.conv_axis_ok(size_in, k, s, p, size_out):
            raise MicrotrainError(
                f"conv: output {axis} {size_out} does not follow from input {size_in}, "
                f"kernel {k}, stride {s}, padding {p}"
            )


def pwconv_applies(conv: A.Conv, k_h, k_w) -> bool:
    """The predicate of the C dispatcher (mt_pwconv2d_s8_fwd_applies)."""
    return k_h == 1 and k_w == 1 and conv.pad_h == 0 and conv.pad_w == 0


def unpack_conv_op(args, bufs):
    """The conv-shaped adapter's args and bufs (mt_op_call_conv) as named numpy views."""
    conv = A.conv(args[:8])
    in_dims, f_dims, out_dims = A.dims(args[8:12]), A.dims(args[12:16]), A.dims(args[16:20])
    for d in (in_dims, f_dims, out_dims):
        A.check_dims(d, "conv")
    if out_dims[0] != in_dims[0]:
        raise MicrotrainError(f"conv: output batch {out_dims[0]}, input {in_dims[0]}")
    A.check_act(conv.act, "conv")
    c_out = out_dims[3]
    multiplier, shift = A.tensor(bufs[0], (c_out,)), A.tensor(bufs[1], (c_out,))
    x, w = A.tensor(bufs[2], in_dims), A.tensor(bufs[3], f_dims)
    bias, out = A.tensor(bufs[4], (c_out,)), A.tensor(bufs[5], out_dims)
    A.check_shifts(shift, "conv")
    return conv, multiplier, shift, x, w, bias, out


def op(args, bufs):
    conv, multiplier, shift, x, w, bias, out = unpack_conv_op(args, bufs)
    if out.shape[3] != w.shape[0]:
        raise MicrotrainError(f"conv: output has {out.shape[3]} channels, filter {w.shape[0]}")
    out[...] = conv2d_s8_fwd(conv, multiplier, shift, x, w, bias, out.shape[1], out.shape[2])


def op_pointwise(args, bufs):
    conv = A.conv(args[:8])
    f_dims = A.dims(args[12:16])
    if not pwconv_applies(conv, f_dims[1], f_dims[2]):
        raise MicrotrainError("pwconv2d: needs a 1x1 filter and no padding")
    op(args, bufs)


OPS = {"mt_conv2d_s8_fwd": op, "mt_pwconv2d_s8_fwd": op_pointwise}
