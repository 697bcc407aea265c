# SPDX-License-Identifier: MIT
"""Reference of mt_add_s8_fwd: TFLite's int8 ADD (left shift 20, per-input multipliers)."""

from dataclasses import dataclass

import numpy as np

from ..formats.quant import INT32_MAX, INT32_MIN, multiply_by_quantized_multiplier, requantize
from . import args as A

LEFT_SHIFT = 20  # MT_ADD_LEFT_SHIFT, TFLite's for int8


@dataclass(frozen=True)
class AddParams:
    """The 11 int32 args of the add adapter, in order."""

    input1_offset: int
    input1_multiplier: int
    input1_shift: int
    input2_offset: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    output_offset: int
    act_min: int = -128
    act_max: int = 127

    def pack(self) -> list:
        return [int(v) for v in self.__dict__.values()]


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
