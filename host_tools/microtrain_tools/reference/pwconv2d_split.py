# SPDX-License-Identifier: MIT
"""Reference of mt_pwconv2d_split_s8_fwd and mt_pwconv2d_split_q8_grad_in: a pointwise layer
that learns k input channels, run from its frozen filter with the learned columns put in. By
definition the pointwise ops on the merged filter (mt_chanmerge_s8_fwd); the C kernels get the
same bytes without holding that filter (natmod/kernels/mt_pwconv2d_split_s8_fwd.h)."""

import numpy as np

from ..errors import MicrotrainError
from . import args as A
from .chanmerge_s8_fwd import chanmerge
from .conv2d_s8_fwd import OPS as FWD_OPS
from .grad_in_q8 import scratch_bytes
from .grad_q8 import OPS as GRAD_OPS


def learned_channels(channels_buf, k: int, c_in: int):
    """The strictly increasing channel list (None: the first k), as mt_learned_channels_check."""
    if not 1 <= k <= c_in:
        raise MicrotrainError(f"split pwconv2d: {k} learned channels of {c_in}")
    if channels_buf.size == 0:
        return None
    channels = A.tensor(channels_buf, (k,)).astype(np.int64)
    if np.any(channels < 0) or np.any(channels >= c_in) or np.any(np.diff(channels) <= 0):
        raise MicrotrainError(f"split pwconv2d: channels {channels} not increasing in 0..{c_in}")
    return channels


def merged_filter(f_dims, filt, learned_buf, channels_buf, k):
    c_out, _, _, c_in = f_dims
    channels = learned_channels(channels_buf, k, c_in)
    base = A.tensor(filt, (c_out, c_in))
    learned = A.tensor(learned_buf, (c_out, k))
    return chanmerge(base, learned, channels, k).reshape(-1)


def fwd(args, bufs):
    f_dims = A.dims(args[12:16])
    k = int(args[20])
    mult, shift, x, filt, bias, out, learned, channels, scratch = bufs
    row_bytes = f_dims[3] + int(np.prod(A.dims(args[16:20])[:3]))  # a filter row, its output
    if scratch.nbytes < row_bytes:
        raise MicrotrainError(f"split pwconv2d: scratch of {scratch.nbytes} bytes, needs "
                              f"{row_bytes}")
    merged = merged_filter(f_dims, filt, learned, channels, k)
    FWD_OPS["mt_pwconv2d_s8_fwd"](args[:20], [mult, shift, x, merged, bias, out])
    group = min(f_dims[0], scratch.nbytes // row_bytes)  # rows the C kernel merges at once
    scratch.reshape(-1).view(np.uint8)[:group * row_bytes] = 0  # and leaves zeroed


def grad_in(args, bufs):
    f_dims = A.dims(args[12:16])
    k = int(args[21])
    scale, gin_q, gin_s, filt, gout_q, gout_s, scratch, learned, channels = bufs
    need = scratch_bytes(f_dims[3], f_dims[0], 1, 1)
    if scratch.nbytes < need:
        raise MicrotrainError(f"split pwconv2d grad_in: scratch of {scratch.nbytes} bytes, "
                              f"needs {need}")
    merged = merged_filter(f_dims, filt, learned, channels, k)
    GRAD_OPS["mt_pwconv2d_q8_grad_in"](args[:21],
                                       [scale, gin_q, gin_s, merged, gout_q, gout_s, scratch])
    scratch.reshape(-1).view(np.uint8)[:need] = 0  # C leaves its scratch zeroed


OPS = {"mt_pwconv2d_split_s8_fwd": fwd, "mt_pwconv2d_split_q8_grad_in": grad_in}
