# SPDX-License-Identifier: MIT
"""Reference of the small backward kernels: mt_bias_f32_grad_b, mt_clamp_s8_grad_in,
mt_add_f32_grad_in, mt_avgpool_f32_grad_in and the channel gather mt_chansel_s8_fwd."""

import numpy as np

from ..errors import MicrotrainError
from . import args as A

F = np.float32


def bias_grad(grad_out) -> np.ndarray:
    """Sum over n, h, w of grad_out {n,h,w,c}, positions added one by one in order."""
    rows = grad_out.reshape(-1, grad_out.shape[-1])
    acc = np.zeros(rows.shape[1], F)
    for row in rows:
        acc = acc + row
    return acc


def clamp_grad(output, grad, act_min, act_max) -> np.ndarray:
    """grad with zeros where the saved int8 output sits on a clamp bound."""
    clamped = (output <= act_min) | (output >= act_max)
    return np.where(clamped, F(0.0), grad).astype(F)


def avgpool_grad_in(grad_out, in_shape) -> np.ndarray:
    n, h, w, c = in_shape
    v = grad_out.reshape(n, 1, 1, c) / F(h * w)
    return np.broadcast_to(v, in_shape).astype(F)


def chansel(x, channels, k) -> np.ndarray:
    """The k selected channels (None: the first k) of x {n,h,w,c}, compact."""
    channels = np.arange(k) if channels is None else np.asarray(channels)
    if not 1 <= k <= x.shape[3] or np.any(channels < 0) or np.any(channels >= x.shape[3]):
        raise MicrotrainError(f"chansel: bad channel selection {channels} of {x.shape[3]}")
    return x[..., channels]


def _op_bias(args, bufs):
    out_dims = A.dims(args[:4])
    A.tensor(bufs[1], (out_dims[3],))[...] = bias_grad(A.tensor(bufs[0], out_dims))


def _op_clamp(args, bufs):
    dims = A.dims(args[2:6])
    grad = A.tensor(bufs[1], dims)
    grad[...] = clamp_grad(A.tensor(bufs[0], dims), grad, int(args[0]), int(args[1]))


def _op_add(args, bufs):
    dims = A.dims(args[:4])
    g, grad_in = A.tensor(bufs[0], dims), A.tensor(bufs[1], dims)
    grad_in[...] = grad_in + g if int(args[4]) else g


def _op_avgpool(args, bufs):
    in_dims = A.dims(args[:4])
    grad_in = A.tensor(bufs[1], in_dims)
    v = avgpool_grad_in(A.tensor(bufs[0], (in_dims[0], in_dims[3])), in_dims)
    grad_in[...] = grad_in + v if int(args[4]) else v


def _op_chansel(args, bufs):
    in_dims, k = A.dims(args[:4]), int(args[4])
    channels = A.tensor(bufs[1], (k,)) if bufs[1].size else None
    A.tensor(bufs[2], (*in_dims[:3], k))[...] = chansel(A.tensor(bufs[0], in_dims), channels, k)


OPS = {
    "mt_bias_f32_grad_b": _op_bias,
    "mt_clamp_s8_grad_in": _op_clamp,
    "mt_add_f32_grad_in": _op_add,
    "mt_avgpool_f32_grad_in": _op_avgpool,
    "mt_chansel_s8_fwd": _op_chansel,
}
