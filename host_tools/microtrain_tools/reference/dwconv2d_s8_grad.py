# SPDX-License-Identifier: MIT
"""Reference of mt_dwconv2d_s8_grad_in and mt_dwconv2d_s8_grad_w, bit for bit (term order as
the C kernels: taps ky, kx for grad_in; positions n, oy, ox for grad_w)."""

import numpy as np

from ..errors import MicrotrainError
from . import args as A
from .conv2d_s8_fwd import check_conv
from .conv2d_s8_grad import input_windows, output_taps, unpack

F = np.float32


def dwconv2d_grad_in(conv: A.Conv, w, scale, grad_out, in_shape, grad_in=None) -> np.ndarray:
    """grad_in {n,h,w,c} from the filter {1,kh,kw,c}, s_w [c] and grad_out {n,oh,ow,c}."""
    _, k_h, k_w, c = w.shape
    n, h, wd, _ = in_shape
    _, out_h, out_w, _ = grad_out.shape
    check_conv(conv, in_shape, (c, k_h, k_w, in_shape[3]), out_h, out_w)
    acc = np.zeros((n, h, wd, c), F)
    for ky, kx, g, valid in output_taps(conv, in_shape, grad_out, k_h, k_w):
        ws = w[0, ky, kx, :].astype(F) * scale.astype(F)
        acc = np.where(valid, acc + ws * g, acc)
    return acc if grad_in is None else (grad_in + acc).astype(F)


def dwconv2d_grad_w(conv: A.Conv, x, channels, input_offset, input_scale, grad_out, k_h, k_w):
    """dL/dW {1,kh,kw,k} for the k channels (None: the first k) of the saved input {n,h,w,k}."""
    k = x.shape[3]
    _, out_h, out_w, c_total = grad_out.shape
    channels = np.arange(k) if channels is None else np.asarray(channels)
    if len(channels) != k or np.any(channels < 0) or np.any(channels >= c_total):
        raise MicrotrainError(f"dwconv2d: channels {channels} out of range for {c_total}")
    check_conv(conv, x.shape, (k, k_h, k_w, k), out_h, out_w)
    xf = (x.astype(np.int32) + input_offset).astype(F)
    acc = np.zeros((k_h, k_w, k), F)
    for b, oy, ox, xs, valid in input_windows(conv, xf, out_h, out_w, k_h, k_w):
        term = grad_out[b, oy, ox, channels] * xs
        acc = np.where(valid[:, :, None], acc + term, acc)
    return (acc * F(input_scale))[None]


def _op_grad_in(args, bufs):
    conv, in_dims, f_dims, out_dims, accumulate = unpack(args, 8)
    scale = A.tensor(bufs[0], (in_dims[3],))
    grad_in = A.tensor(bufs[1], in_dims)
    w = A.tensor(bufs[2], f_dims)
    grad_out = A.tensor(bufs[3], out_dims)
    prev = grad_in.copy() if accumulate else None
    grad_in[...] = dwconv2d_grad_in(conv, w, scale, grad_out, in_dims, prev)


def _op_grad_w(args, bufs):
    conv, in_dims, f_dims, out_dims, scale_bits = unpack(args, 8)
    x = A.tensor(bufs[0], in_dims)
    channels = A.tensor(bufs[1], (in_dims[3],)) if bufs[1].size else None
    grad_w = A.tensor(bufs[2], f_dims)
    grad_out = A.tensor(bufs[3], out_dims)
    grad_w[...] = dwconv2d_grad_w(
        conv, x, channels, conv.act.input_offset, A.bits_f32(scale_bits), grad_out, f_dims[1],
        f_dims[2],
    )


OPS = {"mt_dwconv2d_s8_grad_in": _op_grad_in, "mt_dwconv2d_s8_grad_w": _op_grad_w}
