# SPDX-License-Identifier: MIT
"""Fuzz the forward ops with hostile args and buffer sizes; run by test_kernels_fwd_fuzz.py in
a subprocess with the library built under AddressSanitizer and UBSan. Every call must return a
status (ok or a refusal), never read or write outside its buffers, never overflow a signed int.

usage: python kernels_fwd_fuzz.py LIB_PATH SEED CALLS_PER_OP
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from fuzz_ops import fuzz, mutate  # noqa: E402
from kernels_fwd_cases import add_case, avgpool_case, conv_case, dequant_case, fc_case  # noqa


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


def main():
    names = ("mt_conv2d_s8_fwd", "mt_pwconv2d_s8_fwd", "mt_dwconv2d_s8_fwd", "mt_fc_s8_fwd",
             "mt_add_s8_fwd", "mt_avgpool_s8_fwd", "mt_dequant_s8_f32")
    counts = fuzz("address,undefined", names,
                  lambda rng, name, info: mutate(rng, *valid(rng, name), info))
    print(counts["ok"], counts["refused"])


if __name__ == "__main__":
    main()
