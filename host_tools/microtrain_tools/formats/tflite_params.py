# SPDX-License-Identifier: MIT
"""Kernel parameters computed from tensor scales the way TFLite's Prepare computes them.

Scales arrive as float32 (as a .tflite stores them); TFLite forms effective scales in double
from those float32 values and quantizes them with QuantizeMultiplier. Doing the same here is
what makes an imported TFLite layer give TFLite's outputs bit for bit.
"""

import numpy as np

from .quant import LEFT_SHIFT, AddParams, quantize_multiplier, quantize_multipliers


def _f32(x) -> float:
    """A scale as the float32 TFLite holds, widened to double."""
    return float(np.float32(x))


def conv_multipliers(input_scale, filter_scales, output_scale):
    """Per-channel (multiplier, shift) of conv / depthwise / fc: s_in * s_w[c] / s_out."""
    s_in, s_out = _f32(input_scale), _f32(output_scale)
    scales = [s_in * _f32(s_w) / s_out for s_w in np.atleast_1d(filter_scales)]
    return quantize_multipliers(scales)


def mean_multiplier(input_scale, output_scale, window: int) -> tuple[int, int]:
    """TFLite's int8 MEAN (QuantizedMeanOrSum): s_in / s_out as (multiplier, shift), then 1/window
    folded in: the multiplier shifted up by floor(log2(window)) (at most 32, and at most
    31 + shift) and divided by window with truncation, the shift lowered as much."""
    multiplier, shift = quantize_multiplier(_f32(input_scale) / _f32(output_scale))
    up = min(window.bit_length() - 1, 32, 31 + shift)
    return (multiplier << up) // window, shift - up


def add_params(s1, zp1, s2, zp2, s_out, zp_out, act_min=-128, act_max=127) -> AddParams:
    """TFLite's int8 ADD Prepare: both inputs to 2 * max(s1, s2) at 2^20, then to s_out."""
    s1, s2, s_out = _f32(s1), _f32(s2), _f32(s_out)
    twice_max = 2.0 * max(s1, s2)
    m1, e1 = quantize_multiplier(s1 / twice_max)
    m2, e2 = quantize_multiplier(s2 / twice_max)
    mo, eo = quantize_multiplier(twice_max / (float(1 << LEFT_SHIFT) * s_out))
    return AddParams(-zp1, m1, e1, -zp2, m2, e2, mo, eo, zp_out, act_min, act_max)


def conv_output_and_padding(size: int, k: int, stride: int, padding: str) -> tuple[int, int]:
    """(output size, top/left pad) of one conv axis for TFLite's "same" or "valid" padding
    (dilation 1): SAME pads (out - 1) * stride + k - size in total, the smaller half first."""
    if padding == "same":
        out = -(-size // stride)
        return out, max((out - 1) * stride + k - size, 0) // 2
    if padding == "valid":
        return (size - k) // stride + 1, 0
    raise ValueError(f"unknown padding {padding!r}; known: same, valid")


def activation_range(activation: str, scale, zero_point) -> tuple[int, int]:
    """The int8 clamp of a fused activation ("none", "relu", "relu6"), as TFLite computes it."""

    def quantize(x):
        q = np.float32(x) / np.float32(scale)  # float32 division, as TFLite
        return int(zero_point) + int(np.sign(q) * np.floor(np.abs(q) + 0.5))

    lo, hi = -128, 127
    if activation == "none":
        return lo, hi
    if activation == "relu":
        return max(lo, quantize(0.0)), hi
    if activation == "relu6":
        return max(lo, quantize(0.0)), min(hi, quantize(6.0))
    raise ValueError(f"unknown fused activation {activation!r}; known: none, relu, relu6")
