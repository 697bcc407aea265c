# SPDX-License-Identifier: MIT
"""Reference of mt_add_s8_fwd: TFLite's int8 ADD (left shift 20, per-input multipliers)."""

import numpy as np

from ..formats.quant import (
    INT32_MAX,
    INT32_MIN,
    LEFT_SHIFT,
    AddParams,
    multiply_by_quantized_multiplier,
    requantize,
)
from . import args as A


def _scaled(x, offset, multiplier, shift):
    shifted = (x.astype(np.int64) + offset) * (1 << LEFT_SHIFT)
    return multiply_by_quantized_multiplier(shifted, multiplier, shift)


def add_s8_fwd(p: AddParams, x1, x2):
    total = _scaled(x1, p.input1_offset, p.input1_multiplier, p.input1_shift) + _scaled(
        x2, p.input2_offset, p.input2_multiplier, p.input2_shift
    )
    total = np.clip(total, INT32_MIN, INT32_MAX)
    return requantize(total, p.output_multiplier, p.output_shift, p.output_offset, p.act_min,
                      p.act_max)


def op(args, bufs):
    p = AddParams(*(int(a) for a in args[:11]))
    dims = A.dims(args[11:15])
    A.check_dims(dims, "add")
    A.check_act(A.Act(p.input1_offset, p.output_offset, p.act_min, p.act_max), "add")
    A.check_act(A.Act(p.input2_offset, p.output_offset, p.act_min, p.act_max), "add")
    A.check_shifts([p.input1_shift, p.input2_shift, p.output_shift], "add")
    out = A.tensor(bufs[2], dims)
    out[...] = add_s8_fwd(p, A.tensor(bufs[0], dims), A.tensor(bufs[1], dims))


OPS = {"mt_add_s8_fwd": op}
