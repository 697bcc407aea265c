# SPDX-License-Identifier: MIT
"""Reference of the QAS update kernels (mt_qas_s8_update, mt_qas_s32_update) and their state
initialisers, bit for bit: the float32 steps of natmod/kernels/mt_qas.h, vectorised over the
elements, with the xorshift32 draws made one by one in element order as the C loop makes them.
"""

from enum import IntEnum

import numpy as np

from ..errors import MicrotrainError
from . import args as A

F = np.float32
STEP_LIMIT = F(2.0**30)
WEIGHT_RANGE = (-127, 127)
BIAS_RANGE = (-2147483520, 2147483520)


class Rounding(IntEnum):
    """mt_rounding"""

    TRUNCATE = 0
    NEAREST = 1
    STOCHASTIC = 2
    MASTER = 3


def xorshift32(state: int) -> int:
    x = state
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    return x


def uniforms(state: int, count: int) -> tuple[np.ndarray, int]:
    """count draws of mt_qas_uniform from `state`; returns them and the new state."""
    out = np.empty(count, np.uint32)
    for i in range(count):
        state = xorshift32(state)
        out[i] = state
    return (out >> 8).astype(F) * (F(1.0) / F(16777216.0)), state


def check_scales(scale):
    scale = np.asarray(scale, F)
    ok = (scale > 0) & (scale < F(1e30))
    with np.errstate(over="ignore", divide="ignore"):
        ok &= (F(1.0) / (scale * scale)) < F(1e38)
    if not np.all(ok):
        raise MicrotrainError(f"qas: every scale must be positive and not tiny, got {scale}")


def steps(grad, scale, lr, momentum, qas, velocity):
    """The step in quantized units of each element; updates velocity in place (momentum)."""
    g = grad.astype(F) * scale
    if qas:
        g = g * (F(1.0) / (scale * scale))
    if momentum != 0:
        velocity[...] = F(momentum) * velocity + g
        g = velocity.copy()
    step = F(lr) * g
    return np.where(np.isnan(step), F(0.0), np.clip(step, -STEP_LIMIT, STEP_LIMIT)).astype(F)


def _round_nearest(x):
    return (x + np.where(x >= 0, F(0.5), F(-0.5))).astype(np.int64)


def apply(rounding, values, step, master, rng, lo, hi) -> np.ndarray:
    """New integer values (int64 array); master and rng ([1] uint32 view) updated in place."""
    values = values.astype(np.int64)
    if rounding == Rounding.TRUNCATE:
        new = values - step.astype(np.int64)
    elif rounding == Rounding.NEAREST:
        new = values - _round_nearest(step)
    elif rounding == Rounding.STOCHASTIC:
        u, rng[0] = uniforms(int(rng[0]), step.size)
        t = u - step
        i = t.astype(np.int64)
        new = values + i - (i.astype(F) > t)
    else:
        m = master - step
        m = np.where(np.isnan(m), values.astype(F), m)  # a NaN master restarts from the value
        m = np.clip(m, F(lo), F(hi))
        master[...] = m
        new = _round_nearest(m)
    return np.clip(new, lo, hi)


def check(lr, momentum, qas, rounding, momentum_buf, master, rng):
    if not (0 <= lr < 1e30) or not (0 <= momentum < 1):
        raise MicrotrainError(f"qas: lr {lr} or momentum {momentum} out of range")
    if qas not in (0, 1) or rounding not in range(4):
        raise MicrotrainError(f"qas: qas {qas} or rounding {rounding} out of range")
    if momentum != 0 and momentum_buf is None:
        raise MicrotrainError("qas: momentum needs a momentum buffer")
    if rounding == Rounding.MASTER and master is None:
        raise MicrotrainError("qas: master rounding needs a master buffer")
    if rounding == Rounding.STOCHASTIC and (rng is None or int(rng[0]) == 0):
        raise MicrotrainError("qas: stochastic rounding needs a non-zero rng state")


def weight_index(outer, inner, c_total, k, channels):
    """Flat weight index of each gradient element (order outer, inner, j) and its channel."""
    ch = np.arange(k) if channels is None else np.asarray(channels, np.int64)
    if len(ch) != k or not 1 <= k <= c_total or np.any(ch < 0) or np.any(ch >= c_total):
        raise MicrotrainError(f"qas: bad channel selection {ch} of {c_total}")
    rows = np.arange(outer * inner)[:, None] * c_total
    return (rows + ch[None, :]).ravel(), np.tile(ch, outer * inner)


def s8_update(weights, grad, scale, layout, lr, momentum, qas, rounding, state):
    """mt_qas_s8_update on flat int8 weights in place. layout: (outer, inner, c_total, k,
    scale_on_channel, channels or None); state: dict of momentum, master, rng (or None)."""
    outer, inner, c_total, k, on_channel, channels = layout
    check(lr, momentum, qas, rounding, state.get("momentum"), state.get("master"),
          state.get("rng"))
    check_scales(scale[: c_total if on_channel else outer])
    idx, ch = weight_index(outer, inner, c_total, k, channels)
    s = scale[ch] if on_channel else np.repeat(scale[:outer], inner * k)
    count = idx.size
    vel = state["momentum"][:count] if momentum != 0 else None
    step = steps(grad[:count], s.astype(F), lr, momentum, qas, vel)
    master = state["master"][:count] if rounding == Rounding.MASTER else None
    rng = state.get("rng")
    weights[idx] = apply(rounding, weights[idx], step, master, rng, *WEIGHT_RANGE)


def s32_update(bias, grad, scale, lr, momentum, qas, rounding, state):
    count = bias.size
    check(lr, momentum, qas, rounding, state.get("momentum"), state.get("master"),
          state.get("rng"))
    check_scales(scale[:count])
    vel = state["momentum"][:count] if momentum != 0 else None
    step = steps(grad[:count], scale[:count].astype(F), lr, momentum, qas, vel)
    master = state["master"][:count] if rounding == Rounding.MASTER else None
    bias[...] = apply(rounding, bias, step, master, state.get("rng"), *BIAS_RANGE)


def _optional(buf, dtype=None):
    if buf.size == 0:
        return None
    return buf.view(np.uint32) if dtype == "rng" else buf


def _op_s8_update(args, bufs):
    outer, inner, c_total, k, on_channel, qas, rounding = (int(a) for a in args[:7])
    lr, momentum = float(A.bits_f32(args[7])), float(A.bits_f32(args[8]))
    channels = _optional(bufs[3])
    state = {"momentum": _optional(bufs[4]), "master": _optional(bufs[5]),
             "rng": _optional(bufs[6], "rng")}
    layout = (outer, inner, c_total, k, on_channel, None if channels is None else channels[:k])
    s8_update(bufs[0].reshape(-1), bufs[1].reshape(-1), bufs[2].reshape(-1), layout, lr,
              momentum, qas, rounding, state)


def _op_s32_update(args, bufs):
    count, qas, rounding = (int(a) for a in args[:3])
    lr, momentum = float(A.bits_f32(args[3])), float(A.bits_f32(args[4]))
    state = {"momentum": _optional(bufs[3]), "master": _optional(bufs[4]),
             "rng": _optional(bufs[5], "rng")}
    s32_update(A.tensor(bufs[0], (count,)), bufs[1].reshape(-1), bufs[2].reshape(-1), lr,
               momentum, qas, rounding, state)


def _op_s8_init(args, bufs):
    outer, inner, c_total, k, _ = (int(a) for a in args[:5])
    channels = _optional(bufs[1])
    idx, _ = weight_index(outer, inner, c_total, k, None if channels is None else channels[:k])
    for buf, value in ((bufs[2], 0.0), (bufs[3], None)):
        if buf.size:
            buf.reshape(-1)[: idx.size] = value if value is not None else bufs[0].reshape(-1)[idx]


def _op_s32_init(args, bufs):
    count = int(args[0])
    if bufs[1].size:
        bufs[1].reshape(-1)[:count] = 0.0
    if bufs[2].size:
        bufs[2].reshape(-1)[:count] = bufs[0].reshape(-1)[:count].astype(F)


OPS = {
    "mt_qas_s8_update": _op_s8_update,
    "mt_qas_s32_update": _op_s32_update,
    "mt_qas_s8_init": _op_s8_init,
    "mt_qas_s32_init": _op_s32_init,
}
