# SPDX-License-Identifier: MIT
"""Reference of mt_quant_f32_s8: float32 input -> int8, q = clamp(round(x * (1/s)) + z).

The same float32 steps as the C: one product, then +-0.5 and truncation toward zero (rounding
half away from zero), values beyond +-512 clamped first; NaN or infinite inputs refused.
"""

import numpy as np

from ..errors import MicrotrainError
from . import args as A


def quant_f32_s8(output_offset: int, inverse_scale, x) -> np.ndarray:
    if not np.all(np.isfinite(x)):
        raise MicrotrainError("input or target is NaN or infinite")
    v = x.astype(np.float32) * np.float32(inverse_scale)
    v = np.clip(v, np.float32(-512), np.float32(512))
    half = np.where(v >= 0, np.float32(0.5), np.float32(-0.5))
    q = np.trunc((v + half).astype(np.float32)).astype(np.int32) + output_offset
    return np.clip(q, -128, 127).astype(np.int8)


def op(args, bufs):
    dims = A.dims(args[2:6])
    A.check_dims(dims, "quant")
    inverse = A.bits_f32(int(args[1]))
    if not (np.isfinite(inverse) and inverse > 0):
        raise MicrotrainError(f"quant: inverse scale must be finite and > 0, got {inverse}")
    if not -128 <= int(args[0]) <= 127:
        raise MicrotrainError(f"quant: zero point outside int8 ({int(args[0])})")
    out = A.tensor(bufs[1], dims)
    out[...] = quant_f32_s8(int(args[0]), inverse, A.tensor(bufs[0], dims))


OPS = {"mt_quant_f32_s8": op}
