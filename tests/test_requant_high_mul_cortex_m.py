# SPDX-License-Identifier: MIT
"""mt_sat_rounding_doubling_high_mul (natmod/kernels/mt_requant.h), every forward kernel's
requantizing multiply, on the emulated Cortex-M0 (its 16-bit partial products: Thumb-1 has no
long multiply) and M3 (a 64-bit product) equals the exact floor((a b + 2^30) / 2^31), saturated
at INT32_MIN * INT32_MIN, on random words of every magnitude and the edges."""

import numpy as np
import pytest
from bare_metal import Core, build_driver_image

DRIVER = r"""
#include <stdint.h>
#include "mt_requant.h"

void run_high_mul(const int32_t *a, const int32_t *b, int32_t *out, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        out[i] = mt_sat_rounding_doubling_high_mul(a[i], b[i]);
    }
}
"""
N = 50_000


def operands(rng):
    a = rng.integers(-(2**31), 2**31, N, dtype=np.int64)
    b = rng.integers(-(2**31), 2**31, N, dtype=np.int64)
    a[: N // 2] >>= rng.integers(0, 32, N // 2)  # every magnitude, both signs
    b[N // 4: 3 * N // 4] >>= rng.integers(0, 32, N // 2)
    edges = np.array([0, 1, -1, 2**15, -(2**15), 2**16 - 1, 2**16, -(2**16), 2**30, -(2**30),
                      2**31 - 1, -(2**31), -(2**31) + 1, 0x7FFF8000, -0x7FFF8000], np.int64)
    a = np.concatenate([np.repeat(edges, edges.size), a])
    b = np.concatenate([np.tile(edges, edges.size), b])
    return a.astype(np.int32), b.astype(np.int32)


def exact(a, b):
    out = []
    for x, y in zip(a.tolist(), b.tolist()):
        if x == y == -(2**31):
            out.append(2**31 - 1)
        else:
            out.append((x * y + 2**30) >> 31)  # Python's >> is a floor
    return np.array(out, np.int64).astype(np.int32)


@pytest.mark.parametrize("arch", ["armv6m", "armv7m"])
def test_high_mul_equals_the_exact_product(arch, tmp_path):
    core = Core(arch, build_driver_image(arch, tmp_path, [], DRIVER), ram_size=0x0010_0000)
    a, b = operands(np.random.default_rng(3))
    at_a, at_b, at_out = core.place(a.tobytes()), core.place(b.tobytes()), core.place(a.tobytes())
    core.call("run_high_mul", at_a, at_b, at_out, a.size)
    got = np.frombuffer(core.read(at_out, a.nbytes), np.int32)
    want = exact(a, b)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(int(a[i]), int(b[i]), int(got[i]), int(want[i])) for i in bad[:5]]
