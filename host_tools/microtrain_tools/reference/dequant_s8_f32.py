# SPDX-License-Identifier: MIT
"""Reference of mt_dequant_s8_f32: int8 -> float32, scale * (q + input_offset) in float32."""

import numpy as np

from ..errors import MicrotrainError
from . import args as A


def dequant_s8_f32(input_offset: int, scale, x):
    return (x.astype(np.int32) + input_offset).astype(np.float32) * np.float32(scale)


def op(args, bufs):
    dims = A.dims(args[2:6])
    A.check_dims(dims, "dequant")
    scale = A.bits_f32(int(args[1]))
    if not (np.isfinite(scale) and scale > 0):
        raise MicrotrainError(f"dequant: scale must be finite and > 0, got {scale}")
    if not -127 <= int(args[0]) <= 128:
        raise MicrotrainError(f"dequant: zero point outside int8 ({-int(args[0])})")
    out = A.tensor(bufs[1], dims)
    out[...] = dequant_s8_f32(int(args[0]), A.bits_f32(int(args[1])), A.tensor(bufs[0], dims))


OPS = {"mt_dequant_s8_f32": op}
