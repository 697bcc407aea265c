# SPDX-License-Identifier: MIT
"""Reference of the loss kernels mt_xent_s8_grad_in and mt_mse_s8_grad_in, bit for bit: the
same float32 operations in the order written in their C headers (sums over classes and over
the batch are sequential)."""

import numpy as np

from ..errors import MicrotrainError
from . import args as A
from .fmath import expf, logf

F = np.float32


def xent(logits, labels, input_offset, scale) -> tuple[np.float32, np.ndarray]:
    """(mean loss, grad at the logits) for int8 logits {n, c} and int labels {n}."""
    n, c = logits.shape
    labels = np.asarray(labels)
    if np.any(labels < 0) or np.any(labels >= c):
        raise MicrotrainError(f"xent: labels must be in [0, {c}), got {labels}")
    s = F(scale)
    z = s * (logits.astype(np.int32) + input_offset).astype(F)
    m = s * (logits.max(axis=1).astype(np.int32) + input_offset).astype(F)
    e = expf(z - m[:, None])
    total = np.zeros(n, F)
    for i in range(c):
        total = total + e[:, i]
    rows = np.arange(n)
    per_sample = logf(total) - (z[rows, labels] - m)
    loss = F(0.0)
    for b in range(n):
        loss = F(loss + per_sample[b])
    onehot = np.zeros((n, c), F)
    onehot[rows, labels] = F(1.0)
    grad = (e / total[:, None] - onehot) / F(n)
    return F(loss / F(n)), grad.astype(F)


def mse(outputs, targets, input_offset, scale) -> tuple[np.float32, np.ndarray]:
    if not np.all(np.isfinite(targets)):
        raise MicrotrainError("input or target is NaN or infinite")
    count = outputs.size
    d = F(scale) * (outputs.astype(np.int32).ravel() + input_offset).astype(F) - targets.ravel()
    loss = F(0.0)
    for v in d * d:
        loss = F(loss + v)
    k = F(2.0) / F(count)
    return F(loss / F(count)), (d * k).reshape(outputs.shape).astype(F)


def _op(fn):
    def op(args, bufs):
        n, c, offset, scale = int(args[0]), int(args[1]), int(args[2]), A.bits_f32(args[3])
        if not (scale > 0 and np.isfinite(scale)):
            raise MicrotrainError(f"loss: scale must be positive, got {scale}")
        logits = A.tensor(bufs[0], (n, c))
        target = A.tensor(bufs[1], (n,) if fn is xent else (n, c))
        loss, grad = fn(logits, target, offset, scale)
        A.tensor(bufs[2], (1,))[0] = loss
        A.tensor(bufs[3], (n, c))[...] = grad

    return op


OPS = {"mt_xent_s8_grad_in": _op(xent), "mt_mse_s8_grad_in": _op(mse)}
