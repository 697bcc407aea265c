# SPDX-License-Identifier: MIT
"""Reference of mt_mean_s8_fwd: global mean over h and w that requantizes, TFLite's int8 MEAN.

TFLite's MEAN (QuantizedMeanOrSum) sums the raw int8 values of each channel, subtracts n times
the input zero point and applies the input-to-output scale with 1/n folded into its multiplier
(tflite_params.mean_multiplier), rounding as MultiplyByQuantizedMultiplier (twice), then adds
the output zero point and clamps. The kernel takes the folded multiplier and shift.
"""

import numpy as np

from ..errors import MicrotrainError
from ..formats.quant import requantize
from . import args as A

MAX_WINDOW = 1 << 22  # |sum + n * offset| < 2^22 * 383: int32 with room


def mean_s8_fwd(act: A.Act, multiplier: int, shift: int, x):
    """x {n, h, w, c} int8 -> {n, 1, 1, c}."""
    n, h, w, c = x.shape
    acc = x.astype(np.int64).sum(axis=(1, 2), keepdims=True) + act.input_offset * h * w
    return requantize(acc, multiplier, shift, act.output_offset, act.act_min, act.act_max)


def op(args, bufs):
    act = A.act(args[:4])
    multiplier, shift = int(args[4]), int(args[5])
    in_dims, out_dims = A.dims(args[6:10]), A.dims(args[10:14])
    A.check_dims(in_dims, "mean")
    A.check_act(act, "mean")
    if out_dims != (in_dims[0], 1, 1, in_dims[3]):
        raise MicrotrainError(f"mean: output dims {out_dims} for input {in_dims}")
    if in_dims[1] * in_dims[2] > MAX_WINDOW:
        raise MicrotrainError(f"mean: window {in_dims[1]}x{in_dims[2]} is over {MAX_WINDOW}")
    A.check_shifts(np.array([shift], np.int32), "mean")
    if multiplier < 0:
        raise MicrotrainError(f"mean: negative multiplier {multiplier}")
    out = A.tensor(bufs[1], out_dims)
    out[...] = mean_s8_fwd(act, multiplier, shift, A.tensor(bufs[0], in_dims))


OPS = {"mt_mean_s8_fwd": op}
