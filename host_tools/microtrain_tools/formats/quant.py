# SPDX-License-Identifier: MIT
"""Fixed-point requantization, written once: TFLite's int8 arithmetic in numpy.

A real scale s in (0, 1) (or any positive value) is stored as a Q31 multiplier m and a shift e
with s ~= m * 2^(e - 31). Applying it to an int32 accumulator x is TFLite's
MultiplyByQuantizedMultiplier (double rounding): a saturating rounding doubling high multiply by m,
then a rounding right shift (round half away from zero) by -e when e < 0, or a left shift by e
first when e > 0. The C kernels implement the same three steps (natmod/kernels/mt_requant.h) and
tests compare them bit for bit.

TFLite's FULLY_CONNECTED rounds once instead (LiteRT's reference kernel, measured on converter-made
and published models: tests/test_kernel_fc_rounding.py): x * m / 2^(31 - e), ties toward
+infinity. multiply_by_quantized_multiplier_once is that, and the fc kernels use it
(natmod/kernels/mt_requant_once.h).
"""

import math
from dataclasses import dataclass

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def quantize_multiplier(scale: float) -> tuple[int, int]:
    """Return (multiplier, shift) with scale ~= multiplier * 2**(shift - 31), as TFLite does."""
    if not math.isfinite(scale) or scale < 0:
        raise ValueError(f"scale must be finite and non-negative, got {scale}")
    if scale == 0.0:
        return 0, 0
    mantissa, shift = math.frexp(scale)  # scale = mantissa * 2**shift, mantissa in [0.5, 1)
    q = int(math.floor(mantissa * (1 << 31) + 0.5))  # std::round: ties away from zero
    if q == (1 << 31):
        q //= 2
        shift += 1
    if shift < -31:  # too small to represent: flush to zero, as TFLite does
        return 0, 0
    if shift > 30:
        raise ValueError(f"scale {scale} is too large for a fixed-point multiplier")
    return q, shift


def quantize_multipliers(scales) -> tuple[np.ndarray, np.ndarray]:
    """Vector form: int32 multipliers and int32 shifts for per-channel scales."""
    pairs = [quantize_multiplier(float(s)) for s in np.asarray(scales, dtype=np.float64).ravel()]
    mult = np.array([p[0] for p in pairs], dtype=np.int32)
    shift = np.array([p[1] for p in pairs], dtype=np.int32)
    return mult, shift


def saturating_rounding_doubling_high_mul(a, b):
    """(a * b * 2 + 2^31) >> 32 with rounding as gemmlowp; a, b int32 arrays (broadcast)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    # Division truncating toward zero, as C's int64 division does.
    num = ab + nudge
    high = np.where(num >= 0, num >> 31, -((-num) >> 31))
    return np.where(overflow, INT32_MAX, high).astype(np.int64)


def rounding_divide_by_pot(x, exponent):
    """x / 2^exponent rounded to nearest, ties away from zero (gemmlowp RoundingDivideByPOT)."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    """TFLite's MultiplyByQuantizedMultiplier on int32 values; returns int64 (fits int32)."""
    x = np.asarray(x, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    # TFLite wraps here in int32 (only reachable for scales > 1); we saturate instead.
    shifted = np.clip(x * (np.int64(1) << left), INT32_MIN, INT32_MAX)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right)


def multiply_by_quantized_multiplier_once(x, multiplier, shift):
    """x * multiplier * 2^(shift - 31) with one rounding, half toward +infinity, saturated to
    int32 (TFLite's single-rounding MultiplyByQuantizedMultiplier); returns int64."""
    x = np.asarray(x, dtype=np.int64)
    total = 31 - np.asarray(shift, dtype=np.int64)  # in [1, 62] for shifts in [-31, 30]
    # |x * m| <= 2^62 and the rounding term <= 2^61: the sum fits int64.
    p = x * np.asarray(multiplier, dtype=np.int64) + (np.int64(1) << (total - 1))
    return np.clip(p >> total, INT32_MIN, INT32_MAX)


def requantize(acc, multiplier, shift, out_zero_point, act_min=-128, act_max=127,
               once=False) -> np.ndarray:
    """int32 accumulator -> int8 output: scale, add the zero point, clamp (fused activation).
    once: round once (TFLite's FULLY_CONNECTED) rather than twice."""
    scale = multiply_by_quantized_multiplier_once if once else multiply_by_quantized_multiplier
    y = scale(acc, multiplier, shift) + int(out_zero_point)
    return np.clip(y, act_min, act_max).astype(np.int8)


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
