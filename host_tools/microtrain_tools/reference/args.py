# SPDX-License-Identifier: MIT
"""The argument groups of the op adapters (natmod/ops/mt_op_args.h), unpacked and packed.

    dims         4 args: n, h, w, c
    act params   4 args: input_offset, output_offset, act_min, act_max
    conv params  8 args: stride_h, stride_w, pad_h, pad_w, then act params
"""

from dataclasses import astuple, dataclass

import numpy as np

from ..errors import MicrotrainError
from ..formats.model import conv_axis_ok  # noqa: F401 (the checks below and callers)


@dataclass(frozen=True)
class Act:
    input_offset: int  # -input zero point
    output_offset: int  # +output zero point
    act_min: int = -128
    act_max: int = 127


@dataclass(frozen=True)
class Conv:
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    act: Act


def dims(args) -> tuple:
    return tuple(int(a) for a in args[:4])


def act(args) -> Act:
    return Act(*(int(a) for a in args[:4]))


def conv(args) -> Conv:
    a = [int(x) for x in args[:4]]
    return Conv(*a, act(args[4:8]))


def pack_act(a: Act) -> list:
    return list(astuple(a))


def pack_conv(c: Conv) -> list:
    return [c.stride_h, c.stride_w, c.pad_h, c.pad_w, *pack_act(c.act)]


def f32_bits(x: float) -> int:
    """A float32 argument as the int32 that carries its bits."""
    return int(np.array(x, dtype=np.float32).view(np.int32))


def bits_f32(bits: int) -> np.float32:
    return np.array(bits, dtype=np.int32).view(np.float32)[()]


def tensor(buf, shape) -> np.ndarray:
    """The first prod(shape) elements of a flat buffer, viewed with `shape` (writes go through)."""
    count = int(np.prod(shape))
    if buf.size < count:
        raise MicrotrainError(f"buffer of {buf.size} elements too small for shape {shape}")
    return buf.reshape(-1)[:count].reshape(shape)


def check_act(act: Act, what: str) -> None:
    """The rule of mt_act_check: int8 zero points and -128 <= act_min <= act_max <= 127."""
    if not -127 <= act.input_offset <= 128 or not -128 <= act.output_offset <= 127:
        raise MicrotrainError(f"{what}: zero point outside int8 ({act})")
    if not -128 <= act.act_min <= act.act_max <= 127:
        raise MicrotrainError(f"{what}: activation clamp outside int8 or empty ({act})")


def check_shifts(shift, what: str) -> None:
    """The rule of mt_quant_check: every shift within [-31, 30]."""
    shift = np.asarray(shift)
    if shift.size and (shift.min() < -31 or shift.max() > 30):
        raise MicrotrainError(f"{what}: requantization shift outside [-31, 30]")


def check_dims(dims_: tuple, what: str) -> None:
    """The rule of mt_dims_count: every dim >= 1 and the element count fits int32."""
    if min(dims_) < 1 or int(np.prod(dims_, dtype=object)) > (1 << 31) - 1:
        raise MicrotrainError(f"{what}: bad dims {dims_}")
