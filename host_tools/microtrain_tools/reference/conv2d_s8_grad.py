# SPDX-License-Identifier: MIT
"""Reference of the conv-shaped backward kernels: mt_conv2d_s8_grad_in / _grad_w, their
pointwise and fc entries (the same kernels on a 1x1 filter), bit for bit.

The C kernels add float32 terms in a fixed order (natmod/kernels/mt_conv2d_s8_grad_*.h); here
every element's terms are added in that same order, one vectorised float32 add per term, with
np.where skipping the terms C skips (so even the sign of a zero agrees).
"""

import numpy as np

from ..errors import MicrotrainError
from . import args as A
from .conv2d_s8_fwd import check_conv

F = np.float32


def _taps(size_in, k, stride, pad, size_out, tap):
    """For each input index: the output index tap `tap` connects it to, and whether one does."""
    t = np.arange(size_in) + pad - tap
    valid = (t >= 0) & (t % stride == 0) & (t // stride < size_out)
    return np.clip(t // stride, 0, size_out - 1), valid


def output_taps(conv: A.Conv, in_shape, grad_out, k_h, k_w):
    """Per tap (ky, kx) in C's order: the grad_out each input element meets through it
    {n, h, w, c_out} and where one does {1, h, w, 1} (the gather of the grad_in kernels)."""
    _, h, wd, _ = in_shape
    _, out_h, out_w, _ = grad_out.shape
    for ky in range(k_h):
        oy, vy = _taps(h, k_h, conv.stride_h, conv.pad_h, out_h, ky)
        for kx in range(k_w):
            ox, vx = _taps(wd, k_w, conv.stride_w, conv.pad_w, out_w, kx)
            yield ky, kx, grad_out[:, oy][:, :, ox], (vy[:, None] & vx[None, :])[None, :, :, None]


def input_windows(conv: A.Conv, xf, out_h, out_w, k_h, k_w):
    """Per output position (b, oy, ox) in C's order: the input window it reads {kh, kw, k} and
    which taps fall inside the input {kh, kw} (the sum of the grad_w kernels)."""
    n, h, wd, _ = xf.shape
    ky, kx = np.arange(k_h), np.arange(k_w)
    for b in range(n):
        for oy in range(out_h):
            iy = oy * conv.stride_h - conv.pad_h + ky
            vy = (iy >= 0) & (iy < h)
            for ox in range(out_w):
                ix = ox * conv.stride_w - conv.pad_w + kx
                vx = (ix >= 0) & (ix < wd)
                xs = xf[b][np.clip(iy, 0, h - 1)][:, np.clip(ix, 0, wd - 1)]
                yield b, oy, ox, xs, vy[:, None] & vx[None, :]


def conv2d_grad_in(conv: A.Conv, w, scale, grad_out, in_shape, grad_in=None) -> np.ndarray:
    """grad_in {n,h,w,c_in} from the filter {c_out,kh,kw,c_in}, s_w [c_out] and grad_out."""
    c_out, k_h, k_w, c_in = w.shape
    n, h, wd, _ = in_shape
    _, out_h, out_w, _ = grad_out.shape
    check_conv(conv, in_shape, w.shape, out_h, out_w)
    acc = np.zeros((n, h, wd, c_in), F)
    for ky, kx, g, valid in output_taps(conv, in_shape, grad_out, k_h, k_w):
        ws = w[:, ky, kx, :].astype(F) * scale.astype(F)[:, None]  # (float)W * s_w[co]
        for co in range(c_out):
            acc = np.where(valid, acc + ws[co] * g[..., co : co + 1], acc)
    return acc if grad_in is None else (grad_in + acc).astype(F)


def conv2d_grad_w(conv: A.Conv, x, input_offset, input_scale, grad_out, k_h, k_w) -> np.ndarray:
    """dL/dW {c_out,kh,kw,k} from the saved input {n,h,w,k} and grad_out {n,oh,ow,c_out}."""
    k = x.shape[3]
    _, out_h, out_w, c_out = grad_out.shape
    check_conv(conv, x.shape, (c_out, k_h, k_w, k), out_h, out_w)
    xf = (x.astype(np.int32) + input_offset).astype(F)  # exact: small integers
    acc = np.zeros((c_out, k_h, k_w, k), F)
    for b, oy, ox, xs, valid in input_windows(conv, xf, out_h, out_w, k_h, k_w):
        term = grad_out[b, oy, ox][:, None, None, None] * xs[None]
        acc = np.where(valid[None, :, :, None], acc + term, acc)
    return acc * F(input_scale)


def unpack(args, first_args, pointwise=False):
    """Conv params, the three dims and the last arg of a conv-shaped backward adapter (fc:
    first_args 4, its input flattened to {n, 1, 1, features})."""
    conv = A.conv(args[:8]) if first_args == 8 else A.Conv(1, 1, 0, 0, A.act(args[:4]))
    d = first_args
    in_dims, f_dims, out_dims = A.dims(args[d : d + 4]), A.dims(args[d + 4 : d + 8]), A.dims(
        args[d + 8 : d + 12]
    )
    if first_args == 4:
        in_dims = _flat_fc(in_dims, f_dims, out_dims)
    if pointwise and (f_dims[1:3] != (1, 1) or conv.pad_h or conv.pad_w):
        raise MicrotrainError("pwconv2d: filter must be 1x1 with no padding")
    return conv, in_dims, f_dims, out_dims, int(args[d + 12])


def _flat_fc(in_dims, f_dims, out_dims):
    n, h, w, c = in_dims
    if f_dims[1:3] != (1, 1) or f_dims[3] != h * w * c or out_dims[1:3] != (1, 1):
        raise MicrotrainError(f"fc: filter {f_dims} does not match input {in_dims}")
    return (n, 1, 1, h * w * c)


def _grad_in_op(first_args, pointwise=False):
    def op(args, bufs):
        conv, in_dims, f_dims, out_dims, accumulate = unpack(args, first_args, pointwise)
        scale = A.tensor(bufs[0], (out_dims[3],))
        grad_in = A.tensor(bufs[1], in_dims)
        w = A.tensor(bufs[2], f_dims)
        grad_out = A.tensor(bufs[3], out_dims)
        grad_in[...] = conv2d_grad_in(
            conv, w, scale, grad_out, in_dims, grad_in.copy() if accumulate else None
        )

    return op


def _grad_w_op(first_args, pointwise=False):
    def op(args, bufs):
        conv, in_dims, f_dims, out_dims, scale_bits = unpack(args, first_args, pointwise)
        x = A.tensor(bufs[0], in_dims)
        grad_w = A.tensor(bufs[1], f_dims)
        grad_out = A.tensor(bufs[2], out_dims)
        grad_w[...] = conv2d_grad_w(
            conv, x, conv.act.input_offset, A.bits_f32(scale_bits), grad_out, f_dims[1], f_dims[2]
        )

    return op


OPS = {
    "mt_conv2d_s8_grad_in": _grad_in_op(8),
    "mt_conv2d_s8_grad_w": _grad_w_op(8),
    "mt_pwconv2d_s8_grad_in": _grad_in_op(8, pointwise=True),
    "mt_pwconv2d_s8_grad_w": _grad_w_op(8, pointwise=True),
    "mt_fc_s8_grad_in": _grad_in_op(4),
    "mt_fc_s8_grad_w": _grad_w_op(4),
}
