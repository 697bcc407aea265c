# SPDX-License-Identifier: MIT
"""Reference of mt_fc_s8_fwd: int8 fully connected on the flattened input (FULLY_CONNECTED).

Its output rounds once, as TFLite's FULLY_CONNECTED does (quant.py); convolutions round twice.
"""

import numpy as np

from ..errors import MicrotrainError
from . import args as A
from ..formats.quant import requantize
from .conv2d_s8_fwd import add_bias


def fc_s8_fwd(act: A.Act, multiplier, shift, x, w, bias):
    """x {n, ...} int8 (flattened per row), w {c_out, c_in} int8 -> {n, c_out} int8."""
    rows = x.reshape(x.shape[0], -1).astype(np.int64) + act.input_offset
    w2 = w.reshape(w.shape[0], -1)
    if rows.shape[1] != w2.shape[1]:
        raise MicrotrainError(f"fc: input has {rows.shape[1]} features, filter {w2.shape[1]}")
    acc = rows @ w2.astype(np.int64).T
    return requantize(add_bias(acc, bias), multiplier, shift, act.output_offset, act.act_min,
                      act.act_max, once=True)


def op(args, bufs):
    act = A.act(args[:4])
    in_dims, f_dims, out_dims = A.dims(args[4:8]), A.dims(args[8:12]), A.dims(args[12:16])
    c_out = out_dims[3]
    for d in (in_dims, f_dims, out_dims):
        A.check_dims(d, "fc")
    A.check_act(act, "fc")
    if out_dims != (in_dims[0], 1, 1, f_dims[0]) or f_dims[1:3] != (1, 1):
        raise MicrotrainError(f"fc: dims {in_dims}, {f_dims}, {out_dims} do not agree")
    out = A.tensor(bufs[5], out_dims)
    A.check_shifts(A.tensor(bufs[1], (c_out,)), "fc")
    out[...] = fc_s8_fwd(
        act,
        A.tensor(bufs[0], (c_out,)),
        A.tensor(bufs[1], (c_out,)),
        A.tensor(bufs[2], in_dims),
        A.tensor(bufs[3], f_dims),
        A.tensor(bufs[4], (c_out,)),
    ).reshape(out_dims)


OPS = {"mt_fc_s8_fwd": op}
