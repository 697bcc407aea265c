# SPDX-License-Identifier: MIT
"""Reference of mt_clampmask_s8_fwd and mt_clampmask_{f32,q8}_grad_in: the activation clamp's
gradient from a 1-bit mask saved in the forward (bit i = 1 where the output is strictly inside
(act_min, act_max), least significant bit first)."""

import numpy as np

from . import args as A


def mask_bytes(count: int) -> int:
    return (count + 7) // 8


def pack(output, act_min, act_max) -> np.ndarray:
    inside = (output.ravel() > act_min) & (output.ravel() < act_max)
    return np.packbits(inside, bitorder="little")


def unpack(mask, count) -> np.ndarray:
    return np.unpackbits(mask, count=count, bitorder="little").astype(bool)


def _op_pack(args, bufs):
    dims = A.dims(args[2:6])
    count = int(np.prod(dims))
    out = bufs[1].view(np.uint8)
    out[: mask_bytes(count)] = pack(A.tensor(bufs[0], dims), int(args[0]), int(args[1]))


def _op_grad_in(args, bufs):
    dims = A.dims(args[:4])
    count = int(np.prod(dims))
    keep = unpack(bufs[0][: mask_bytes(count)].view(np.uint8), count)
    grad = A.tensor(bufs[1], dims).reshape(-1)
    grad[~keep] = 0


OPS = {
    "mt_clampmask_s8_fwd": _op_pack,
    "mt_clampmask_f32_grad_in": _op_grad_in,
    "mt_clampmask_q8_grad_in": _op_grad_in,
}
