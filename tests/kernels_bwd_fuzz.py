# SPDX-License-Identifier: MIT
"""Fuzz the backward, loss and update ops with hostile args, buffer sizes and float values
(NaN, inf, huge); run by test_kernels_bwd_fuzz.py in a subprocess with the library built under
AddressSanitizer and UBSan (float-cast-overflow included). Every call must return a status,
stay inside its buffers, and never convert an out-of-range float to an int.

usage: python kernels_bwd_fuzz.py LIB_PATH SEED CALLS_PER_OP
"""

import sys
from pathlib import Path

import numpy as np

from microtrain_tools.sim import hostlib

sys.path.insert(0, str(Path(__file__).parent))
from fuzz_ops import fuzz, mutate  # noqa: E402
from kernels_bwd_cases import (  # noqa: E402
    conv_grad_in_case,
    conv_grad_w_case,
    fc_grad_in_case,
    q8_grad_in_bufs,
    random_grad,
    random_scales,
    split_pointwise_case,
)
from microtrain_tools.reference import args as A

FLOATS = [np.nan, np.inf, -np.inf, 1e38, -1e38, 1e-45, 0.0, -0.0]


def q8(v):
    return [np.clip(np.round(v * 30), -127, 127).astype(np.int8).ravel(),
            np.array([0.01], np.float32)]


def state(rng, count):
    return [rng.standard_normal(count).astype(np.float32),
            rng.uniform(-100, 100, count).astype(np.float32), np.array([77], np.int32)]


def valid(rng, name):
    small = dict(h=4, w=4, c_in=3, c_out=2)
    if name == "mt_pwconv2d_split_q8_grad_in":
        _, (_, args, bufs), _ = split_pointwise_case(rng, q8, c_in=5, c_out=3, k=2, h=2, w=3,
                                                     accumulate=1)
        return args, bufs
    if name.endswith("grad_in") and ("conv2d" in name):
        dw, pw = name.startswith("mt_dwconv2d"), name.startswith("mt_pwconv2d")
        case = dict(small, k=(1, 1), padding="valid") if pw else small
        args, b = conv_grad_in_case(rng, depthwise=dw, accumulate=1, **case)
        op = name[3:].split("_")[0]
        return args, (b if "_s8_" in name else q8_grad_in_bufs(op, args, b, q8))
    if name.startswith("mt_fc") and name.endswith("grad_in"):
        args, b = fc_grad_in_case(rng, in_shape=(1, 2, 3), c_out=3, accumulate=1)
        return args, (b if "_s8_" in name else q8_grad_in_bufs("fc", args, b, q8))
    if name.endswith("s8_grad_w"):
        dw, pw = name.startswith("mt_dwconv2d"), name.startswith("mt_pwconv2d")
        case = dict(small, k=(1, 1), padding="valid") if pw else small
        return conv_grad_w_case(rng, depthwise=dw, k_sel=2, **case)
    if name.endswith("q8_update") and name != "mt_bias_q8_update":
        dw = name.startswith("mt_dwconv2d")
        args, b = conv_grad_w_case(rng, depthwise=dw, k_sel=2, **small)
        x, gout = b[0], b[-1]
        whole = [1, 3, 3, 3] if dw else [2, 3, 3, 3]
        count = 9 * 2 if dw else 2 * 9 * 2
        upd = [1, int(rng.integers(0, 4)), A.f32_bits(0.1), A.f32_bits(0.5)]
        bufs = [x, np.array([2, 0], np.int32), rng.integers(-127, 128, 27 * (1 if dw else 2),
                                                            dtype=np.int8),
                random_scales(rng, 3 if dw else 2), *q8(gout), *state(rng, count)]
        if name.startswith("mt_fc"):
            act = [1, 2, -128, 127]
            args = act + [1, 1, 1, 2, 2, 1, 1, 5, 1, 1, 1, 2, A.f32_bits(0.1)] + upd
            bufs = [x[:2], np.array([4, 1], np.int32), rng.integers(-127, 128, 10, dtype=np.int8),
                    random_scales(rng, 2), *q8(random_grad(rng, 2)), *state(rng, 4)]
            return args, bufs
        if name.startswith("mt_pwconv2d"):
            args, b = conv_grad_w_case(rng, k=(1, 1), padding="valid", k_sel=2, **small)
            whole = [2, 1, 1, 3]
            bufs = [b[0], np.array([2, 0], np.int32), rng.integers(-127, 128, 6, dtype=np.int8),
                    random_scales(rng, 2), *q8(b[2]), *state(rng, 4)]
        return args[:12] + whole + args[16:21] + upd, bufs
    rows = (1, 2, 2, 3)
    g = random_grad(rng, rows)
    upd = [1, int(rng.integers(0, 4)), A.f32_bits(0.1), A.f32_bits(0.5)]
    logits = rng.integers(-128, 128, 8, dtype=np.int8)
    return {
        "mt_bias_f32_grad_b": lambda: ([*rows], [g.ravel(), np.zeros(3, np.float32)]),
        "mt_bias_q8_update": lambda: ([*rows, *upd], [np.zeros(3, np.int32),
                                                      random_scales(rng, 3, 1e-6, 1e-3),
                                                      *q8(g), *state(rng, 3)]),
        "mt_clamp_s8_grad_in": lambda: ([-5, 100, *rows], [logits[:4].repeat(3), g.ravel()]),
        "mt_clamp_q8_grad_in": lambda: ([-5, 100, *rows], [logits[:4].repeat(3), q8(g)[0]]),
        "mt_clampmask_s8_fwd": lambda: ([-5, 100, *rows], [logits[:4].repeat(3),
                                                         np.zeros(2, np.int8)]),
        "mt_clampmask_f32_grad_in": lambda: ([*rows], [logits[:2].copy(), g.ravel()]),
        "mt_clampmask_q8_grad_in": lambda: ([*rows], [logits[:2].copy(), q8(g)[0]]),
        "mt_add_f32_grad_in": lambda: ([*rows, 1], [g.ravel(), g.ravel().copy()]),
        "mt_add_q8_grad_in": lambda: ([*rows, 1], [*q8(g), *q8(g)]),
        "mt_avgpool_f32_grad_in": lambda: ([*rows, 1], [g.ravel()[:3], g.ravel().copy()]),
        "mt_avgpool_q8_grad_in": lambda: ([*rows, 1], [*q8(g.ravel()[:3]), *q8(g)]),
        "mt_xent_s8_grad_in": lambda: ([2, 4, 3, A.f32_bits(0.3)], [
            logits, np.array([1, 3], np.int32), np.zeros(1, np.float32),
            np.zeros(8, np.float32)]),
        "mt_xent_q8_grad_in": lambda: ([2, 4, 3, A.f32_bits(0.3)], [
            logits, np.array([1, 3], np.int32), np.zeros(1, np.float32), np.zeros(8, np.int8),
            np.zeros(1, np.float32)]),
        "mt_mse_s8_grad_in": lambda: ([2, 4, 3, A.f32_bits(0.3)], [
            logits, random_grad(rng, 8), np.zeros(1, np.float32), np.zeros(8, np.float32)]),
        "mt_mse_q8_grad_in": lambda: ([2, 4, 3, A.f32_bits(0.3)], [
            logits, random_grad(rng, 8), np.zeros(1, np.float32), np.zeros(8, np.int8),
            np.zeros(1, np.float32)]),
        "mt_chansel_s8_fwd": lambda: ([*rows, 2], [logits[:4].repeat(3),
                                                  np.array([2, 0], np.int32),
                                                  np.zeros(8, np.int8)]),
        "mt_qas_s8_update": lambda: ([2, 3, 4, 2, 0, 1, int(rng.integers(0, 4)),
                                      A.f32_bits(0.1), A.f32_bits(0.5)], [
            rng.integers(-127, 128, 24, dtype=np.int8), random_grad(rng, 12),
            random_scales(rng, 2), np.array([3, 1], np.int32), *state(rng, 12)]),
        "mt_qas_s32_update": lambda: ([3, 1, int(rng.integers(0, 4)), A.f32_bits(0.1),
                                       A.f32_bits(0.5)], [
            rng.integers(-9999, 9999, 3).astype(np.int32), random_grad(rng, 3),
            random_scales(rng, 3, 1e-6, 1e-3), *state(rng, 3)]),
        "mt_qas_s8_init": lambda: ([2, 3, 4, 2, 0], [
            rng.integers(-127, 128, 24, dtype=np.int8), np.array([3, 1], np.int32),
            np.zeros(12, np.float32), np.zeros(12, np.float32)]),
        "mt_qas_s32_init": lambda: ([3], [np.zeros(3, np.int32), np.zeros(3, np.float32),
                                         np.zeros(3, np.float32)]),
    }[name]()


def poison_floats(rng, bufs):
    """Sometimes put NaN, inf or extreme values into a float buffer (scales, gradients, state)."""
    for b in bufs:
        if b.dtype == np.float32 and b.size and rng.random() < 0.3:
            b[int(rng.integers(b.size))] = rng.choice(FLOATS)
    return bufs


def case(rng, name, info):
    args, bufs = valid(rng, name)
    return mutate(rng, args, poison_floats(rng, [b.copy() for b in bufs]), info)


def names():
    """The backward, loss and update ops (read from the library fuzz has built)."""
    return [n for n in hostlib.ops() if ("grad" in n or "update" in n or "qas" in n
                                         or "xent" in n or "mse" in n or "chansel" in n
                                         or "clampmask" in n)]


def main():
    counts = fuzz("address,undefined,float-cast-overflow", names, case)
    print(counts["ok"], counts["refused"], len(names()))


if __name__ == "__main__":
    main()
