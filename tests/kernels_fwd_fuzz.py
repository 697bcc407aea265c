# SPDX-License-Identifier: MIT
"""Fuzz the forward ops with hostile args and buffer sizes; run by test_kernels_fwd_fuzz.py in
a subprocess with the library built under AddressSanitizer and UBSan. Every call must return a
status (ok or a refusal), never read or write outside its buffers, never overflow a signed int.

usage: python kernels_fwd_fuzz.py LIB_PATH SEED CALLS_PER_OP
"""

import sys
from pathlib import Path

import numpy as np

from microtrain_tools import hostlib
from microtrain_tools.errors import MicrotrainError

sys.path.insert(0, str(Path(__file__).parent))
from kernels_fwd_cases import add_case, avgpool_case, conv_case, dequant_case, fc_case  # noqa

SPECIAL = [0, 1, -1, 2, 3, 7, 127, 128, -128, -129, 255, 65536, 65537, 1 << 30,
           (1 << 31) - 1, -(1 << 31), 31, 30, -31, -32]
DTYPES = {"b": np.int8, "i": np.int32, "f": np.float32}


def valid(rng, name):
    if name == "mt_dwconv2d_s8_fwd":
        return conv_case(rng, depthwise=True, h=4, w=5, c_in=3)
    if name == "mt_pwconv2d_s8_fwd":
        return conv_case(rng, k=(1, 1), padding="valid", h=3, w=3, c_in=2, c_out=3)
    if name == "mt_conv2d_s8_fwd":
        return conv_case(rng, h=4, w=4, c_in=2, c_out=3, stride=(2, 1))
    return {"mt_fc_s8_fwd": lambda: fc_case(rng, in_shape=(1, 2, 3), c_out=4),
            "mt_add_s8_fwd": lambda: add_case(rng, dims=(1, 2, 2, 3)),
            "mt_avgpool_s8_fwd": lambda: avgpool_case(rng, dims=(1, 3, 2, 4)),
            "mt_dequant_s8_f32": lambda: dequant_case(rng, dims=(1, 1, 2, 5))}[name]()


def mutate(rng, args, bufs, info):
    args = list(args)
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(len(args)))
        args[i] = int(rng.choice(SPECIAL)) if rng.random() < 0.7 else args[i] + int(
            rng.integers(-3, 4))
    bufs = [b.copy() for b in bufs]
    if rng.random() < 0.5:
        i = int(rng.integers(len(bufs)))
        bufs[i] = np.zeros(int(rng.integers(0, bufs[i].size + 3)), DTYPES[info.buf_types[i]])
    return args, bufs


def guarded(bufs):
    """Each buffer as the head of a larger array whose tail must stay untouched."""
    out = []
    for b in bufs:
        whole = np.concatenate([b, np.full(16, 0x5A, b.dtype) if b.dtype != np.float32
                                else np.full(16, 7.0, np.float32)])
        out.append((whole, whole[: b.size]))
    return out


def main():
    lib_path, seed, calls = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    hostlib.LIB_PATH = lib_path
    hostlib.CFLAGS = ("-std=c99", "-O1", "-g", "-shared", "-fPIC", "-fsanitize=address,undefined",
                      "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")
    rng = np.random.default_rng(seed)
    counts = {"ok": 0, "refused": 0}
    for name in ("mt_conv2d_s8_fwd", "mt_pwconv2d_s8_fwd", "mt_dwconv2d_s8_fwd", "mt_fc_s8_fwd",
                 "mt_add_s8_fwd", "mt_avgpool_s8_fwd", "mt_dequant_s8_f32"):
        info = hostlib.op_info(name)
        for _ in range(calls):
            args, bufs = mutate(rng, *valid(rng, name), info)
            pairs = guarded(bufs)
            tails = [whole[b.size:].copy() for whole, b in pairs]
            try:
                hostlib.run_op(name, args, [b for _, b in pairs])
                counts["ok"] += 1
            except MicrotrainError:
                counts["refused"] += 1
            for (whole, b), tail in zip(pairs, tails):
                if not np.array_equal(whole[b.size:].view(np.uint8), tail.view(np.uint8)):
                    raise SystemExit(f"{name} wrote past a buffer: args={args}")
    print(counts["ok"], counts["refused"])


if __name__ == "__main__":
    main()
