# SPDX-License-Identifier: MIT
"""Fuzz the forward ops with hostile args and buffer sizes; run by test_kernels_fwd_fuzz.py in
a subprocess with the library built under AddressSanitizer and UBSan. Every call must return a
status (ok or a refusal), never read or write outside its buffers, never overflow a signed int.

usage: python kernels_fwd_fuzz.py LIB_PATH SEED CALLS_PER_OP
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from fuzz_ops import fuzz, mutate  # noqa: E402
from kernels_fwd_cases import add_case, avgpool_case, conv_case, dequant_case, fc_case  # noqa
from kernels_bwd_cases import split_pointwise_case  # noqa: E402
from microtrain_tools.reference.grad_q8 import quantize  # noqa: E402


def q8(v):
    q, s = quantize(v)
    return q.ravel(), np.array([s], np.float32)


def valid(rng, name):
    if name == "mt_dwconv2d_s8_fwd":
        return conv_case(rng, depthwise=True, h=4, w=5, c_in=3)
    if name == "mt_pwconv2d_s8_fwd":
        return conv_case(rng, k=(1, 1), padding="valid", h=3, w=3, c_in=2, c_out=3)
    if name == "mt_conv2d_s8_fwd":
        return conv_case(rng, h=4, w=4, c_in=2, c_out=3, stride=(2, 1))
    if name == "mt_pwconv2d_split_s8_fwd":
        (_, args, bufs), _, _ = split_pointwise_case(rng, q8, c_in=5, c_out=3, k=2, h=2, w=3,
                                                     group_rows=2)
        return args, bufs
    if name == "mt_chanmerge_s8_fwd":
        return [1, 2, 3, 4, 2], [rng.integers(-128, 128, 24, dtype=np.int8),
                                 rng.integers(-128, 128, 12, dtype=np.int8),
                                 np.array([3, 1], np.int32), np.zeros(24, np.int8)]
    return {"mt_fc_s8_fwd": lambda: fc_case(rng, in_shape=(1, 2, 3), c_out=4),
            "mt_add_s8_fwd": lambda: add_case(rng, dims=(1, 2, 2, 3)),
            "mt_avgpool_s8_fwd": lambda: avgpool_case(rng, dims=(1, 3, 2, 4)),
            "mt_dequant_s8_f32": lambda: dequant_case(rng, dims=(1, 1, 2, 5))}[name]()


def main():
    names = ("mt_conv2d_s8_fwd", "mt_pwconv2d_s8_fwd", "mt_dwconv2d_s8_fwd", "mt_fc_s8_fwd",
             "mt_add_s8_fwd", "mt_avgpool_s8_fwd", "mt_dequant_s8_f32",
             "mt_pwconv2d_split_s8_fwd", "mt_chanmerge_s8_fwd")
    counts = fuzz("address,undefined", names,
                  lambda rng, name, info: mutate(rng, *valid(rng, name), info))
    print(counts["ok"], counts["refused"])


if __name__ == "__main__":
    main()
