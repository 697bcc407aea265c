# SPDX-License-Identifier: MIT
"""Reference of the q8 input-gradient kernels (natmod/kernels/mt_conv_q8_grad_in.h), bit for bit.

The sums are integers, so their order does not matter: int64 arrays here, int32 in C (the
bound below keeps them exact). conv2d / pwconv2d / fc scale grad_out's int8 q by a per-call
channel multiplier m[o] <= M (a power of two <= 256), then

    acc[n,iy,ix,i] = sum over valid (ky, kx, o) of (q[n,oy,ox,o] * m[o]) * w[o,ky,kx,i]
    v = (float32)acc * c,   c = s_g * (s_max / M)

dwconv2d needs no multiplier: acc = sum q * w, v = (float32)acc * (s_g * s_w[c]). The int8
output is then made as every q8 gradient: accumulate adds old_scale * q_old, then `quantize`.
"""

import numpy as np

from ..errors import MicrotrainError
from . import args as A
from .conv2d_s8_fwd import check_conv
from .conv2d_s8_grad import output_taps, unpack

F = np.float32
INT32_MAX = 2**31 - 1
TERM_MAX = 128 * 128  # the largest |q * w| of two int8


def channel_multiplier(terms: int) -> int:
    """M: the largest power of two <= 256 with terms * 128 * 128 * M <= 2^31 - 1 (0: none)."""
    m = 256
    while m >= 1 and terms * TERM_MAX * m > INT32_MAX:
        m //= 2
    return m


def multipliers(w_scale, terms: int):
    """(m[o] as int64, c's factor s_max / M as float32) for the filter scales s_w."""
    s = np.asarray(w_scale, F)
    if s.size == 0 or not np.all((s > 0) & (s <= np.finfo(F).max)):
        raise MicrotrainError("grad_in: filter scales must be finite and > 0")
    big_m = channel_multiplier(terms)
    if big_m < 1:
        raise MicrotrainError(f"grad_in: {terms} terms per sum could overflow int32")
    s_max = F(s.max())
    f = F(big_m) / s_max
    if not np.isfinite(f):
        raise MicrotrainError("grad_in: filter scales too small")
    m = (s * f + F(0.5)).astype(np.int64)  # float32 product and add, then truncation
    return m, F(s_max / F(big_m))


def scratch_bytes(c_in: int, c_out: int, k_h: int, k_w: int) -> int:
    """The scratch a conv2d / pwconv2d / fc q8 grad_in needs (mt_conv_q8_grad_in_scratch):
    q*m and m as int16 (c_out rounded up to even), plus an int32 sum per input channel when
    an input pixel can meet more than one tap."""
    pairs = c_out + (c_out & 1)
    return 4 * pairs + (4 * c_in if k_h * k_w > 1 else 0)


def _check_sums(acc):
    if acc.size and np.abs(acc).max() > INT32_MAX:  # cannot happen: M was chosen for it
        raise AssertionError("grad_in: an int32 sum overflowed")


def conv_sums(conv: A.Conv, w, qm, in_shape) -> np.ndarray:
    """acc {n,h,w,c_in} (int64) from the filter {c_out,kh,kw,c_in} and q*m {n,oh,ow,c_out}."""
    _, k_h, k_w, _ = w.shape
    acc = np.zeros(tuple(in_shape), np.int64)
    w64 = w.astype(np.int64)
    for ky, kx, g, valid in output_taps(conv, in_shape, qm, k_h, k_w):
        acc += np.where(valid, g @ w64[:, ky, kx, :], 0)
    _check_sums(acc)
    return acc


def dw_sums(conv: A.Conv, w, q, in_shape) -> np.ndarray:
    """acc {n,h,w,c} (int64) from the filter {1,kh,kw,c} and q {n,oh,ow,c}."""
    _, k_h, k_w, _ = w.shape
    acc = np.zeros(tuple(in_shape), np.int64)
    w64 = w.astype(np.int64)
    for ky, kx, g, valid in output_taps(conv, in_shape, q, k_h, k_w):
        acc += np.where(valid, g * w64[0, ky, kx, :], 0)
    _check_sums(acc)
    return acc


def _write(gin_q, gin_s, v, accumulate, store):
    if accumulate:
        v = F(gin_s[0]) * gin_q.reshape(-1).astype(F) + v.reshape(-1)
    store(gin_q, gin_s, v)


def conv_op(first_args, pointwise=False, store=None):
    """mt_{conv2d,pwconv2d,fc}_q8_grad_in. bufs: filter_scale, grad_in, grad_in_scale, filter,
    grad_out, grad_out_scale, scratch."""

    def op(args, bufs):
        conv, in_dims, f_dims, out_dims, accumulate = unpack(args, first_args, pointwise)
        check_conv(conv, in_dims, f_dims, out_dims[1], out_dims[2])
        if f_dims[0] != out_dims[3]:
            raise MicrotrainError("grad_in: filter and grad_out channels differ")
        scale, gin_q, gin_s, filt, gout_q, gout_s, scratch = bufs
        need = scratch_bytes(in_dims[3], f_dims[0], f_dims[1], f_dims[2])
        if scratch.nbytes < need:
            raise MicrotrainError(f"grad_in: scratch of {scratch.nbytes} bytes, needs {need}")
        m, s_factor = multipliers(A.tensor(scale, (f_dims[0],)), f_dims[0] * f_dims[1] * f_dims[2])
        qm = A.tensor(gout_q, out_dims).astype(np.int64) * m
        acc = conv_sums(conv, A.tensor(filt, f_dims), qm, in_dims)
        c = F(gout_s[0]) * s_factor
        _write(gin_q, gin_s, acc.astype(F) * c, int(accumulate), store)
        scratch.reshape(-1).view(np.uint8)[:need] = 0  # C leaves its scratch zeroed

    return op


def dw_op(store):
    """mt_dwconv2d_q8_grad_in. bufs: filter_scale, grad_in, grad_in_scale, filter, grad_out,
    grad_out_scale."""

    def op(args, bufs):
        conv, in_dims, f_dims, out_dims, accumulate = unpack(args, 8)
        scale, gin_q, gin_s, filt, gout_q, gout_s = bufs
        if f_dims[0] != 1 or f_dims[3] != in_dims[3] or out_dims[3] != in_dims[3]:
            raise MicrotrainError("dwconv2d grad_in: channels differ")
        if channel_multiplier(f_dims[1] * f_dims[2]) < 1:
            raise MicrotrainError("dwconv2d grad_in: kernel too large for int32 sums")
        check_conv(conv, in_dims, (in_dims[3], f_dims[1], f_dims[2], in_dims[3]), out_dims[1],
                   out_dims[2])
        acc = dw_sums(conv, A.tensor(filt, f_dims), A.tensor(gout_q, out_dims), in_dims)
        c = F(gout_s[0]) * A.tensor(scale, (in_dims[3],)).astype(F)
        _write(gin_q, gin_s, acc.astype(F) * c, int(accumulate), store)

    return op
