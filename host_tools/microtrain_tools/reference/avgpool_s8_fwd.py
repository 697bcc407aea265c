# SPDX-License-Identifier: MIT
"""Reference of mt_avgpool_s8_fwd: global average pool with TFLite's int8 rounding."""

import numpy as np

from ..errors import MicrotrainError
from . import args as A


def avgpool_s8_fwd(act: A.Act, x):
    """x {n, h, w, c} int8 -> {n, 1, 1, c}: sum / (h*w) rounded half away from zero, clamped."""
    if act.input_offset != -act.output_offset:
        raise MicrotrainError("avgpool: input and output must share their zero point")
    n, h, w, c = x.shape
    window = h * w
    acc = x.astype(np.int64).sum(axis=(1, 2), keepdims=True)
    half = window // 2
    # Division truncating toward zero, as C's, of acc +- half.
    rounded = np.where(acc > 0, (acc + half) // window, -((half - acc) // window))
    return np.clip(rounded, act.act_min, act.act_max).astype(np.int8)


def op(args, bufs):
    act = A.act(args[:4])
    in_dims, out_dims = A.dims(args[4:8]), A.dims(args[8:12])
    A.check_dims(in_dims, "avgpool")
    A.check_act(act, "avgpool")
    if out_dims != (in_dims[0], 1, 1, in_dims[3]):
        raise MicrotrainError(f"avgpool: output dims {out_dims} for input {in_dims}")
    out = A.tensor(bufs[1], out_dims)
    out[...] = avgpool_s8_fwd(act, A.tensor(bufs[0], in_dims))


OPS = {"mt_avgpool_s8_fwd": op}
