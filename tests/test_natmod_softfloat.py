# SPDX-License-Identifier: MIT
"""The soft-float helpers of natmod/kernels/mt_softfloat.c (xtensa's compiler helpers, armv6m's
general paths), built for the host, equal
the host's hardware bit for bit (IEEE 754 binary32, round to nearest even) on random and edge
operands; integer helpers equal C semantics."""

import ctypes
import subprocess

import numpy as np
import pytest
from conftest import ROOT

SOURCE = ROOT / "natmod" / "kernels" / "mt_softfloat.c"
N = 400_000

# Loops over arrays, so a million cases cost one ctypes call.
DRIVER = r"""
#include <stddef.h>
#include <stdint.h>
float mt_test_addsf3(float, float);
float mt_test_subsf3(float, float);
float mt_test_mulsf3(float, float);
float mt_test_divsf3(float, float);
float mt_test_floatsisf(int32_t);
float mt_test_floatunsisf(uint32_t);
uint32_t mt_test_udivsi3(uint32_t, uint32_t);
uint32_t mt_test_umodsi3(uint32_t, uint32_t);
int32_t mt_test_divsi3(int32_t, int32_t);
int64_t mt_test_muldi3(int64_t, int64_t);

void run_f2(int op, const float *a, const float *b, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        out[i] = op == 0 ? mt_test_addsf3(a[i], b[i])
               : op == 1 ? mt_test_subsf3(a[i], b[i])
               : op == 2 ? mt_test_mulsf3(a[i], b[i]) : mt_test_divsf3(a[i], b[i]);
    }
}
void run_itof(int is_signed, const uint32_t *a, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        out[i] = is_signed ? mt_test_floatsisf((int32_t)a[i]) : mt_test_floatunsisf(a[i]);
    }
}
void run_div(const uint32_t *a, const uint32_t *b, uint32_t *out, size_t n, int op) {
    for (size_t i = 0; i < n; i++) {
        out[i] = op == 0 ? mt_test_udivsi3(a[i], b[i])
               : op == 1 ? mt_test_umodsi3(a[i], b[i])
               : (uint32_t)mt_test_divsi3((int32_t)a[i], (int32_t)b[i]);
    }
}
void run_muldi3(const int64_t *a, const int64_t *b, int64_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        out[i] = mt_test_muldi3(a[i], b[i]);
    }
}
"""


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    d = tmp_path_factory.mktemp("softfloat")
    (d / "driver.c").write_text(DRIVER)
    so = d / "softfloat.so"
    cmd = [
        "gcc",
        "-std=c99",
        "-O1",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-fpic",
        "-shared",
        "-DMT_SOFTFLOAT_TEST",
        str(SOURCE),
        str(d / "driver.c"),
        "-o",
        str(so),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return ctypes.CDLL(str(so))


def ptr(array):
    return array.ctypes.data_as(ctypes.c_void_p)


def float_operands(rng):
    """Pairs that reach every path: any bit pattern, near exponents (cancellation, carries),
    subnormals, ties, and the special values against everything."""
    bits = rng.integers(0, 1 << 32, (2, N), dtype=np.uint64).astype(np.uint32)
    close = bits[:, : N // 4]
    close[1] = (close[0] & 0x807FFFFF) | ((close[0] & 0x7F800000) ^ (close[1] & 0x01800000))
    bits[1, N // 4 : N // 2] = bits[0, N // 4 : N // 2] ^ 0x80000000  # x + (-x)
    bits[1, N // 4 : N // 2] ^= rng.integers(0, 4, N // 4).astype(np.uint32)  # and neighbours
    sub = bits[:, N // 2 : 5 * N // 8]
    sub &= np.uint32(0x80FFFFFF)  # exponents 0 and 1: subnormals and the smallest normals
    small = bits[:, 5 * N // 8 : 6 * N // 8]
    small &= np.uint32(0x8FFFFFFF)
    small |= np.uint32(0x10000000)  # exponents 32..63: products that underflow to subnormals
    specials = np.array(
        [
            0,
            0x80000000,
            0x7F800000,
            0xFF800000,
            0x7FC00000,
            0x7F800001,
            1,
            0x80000001,
            0x007FFFFF,
            0x00800000,
            0x7F7FFFFF,
            0xFF7FFFFF,
            0x3F800000,
            0xBF800000,
            0x33800000,
            0x4B800000,
        ],
        dtype=np.uint32,
    )
    a = np.concatenate([bits[0], np.repeat(specials, len(specials))])
    b = np.concatenate([bits[1], np.tile(specials, len(specials))])
    return a.view(np.float32), b.view(np.float32)


def assert_same_floats(got, want, a, b, what):
    same = (got.view(np.uint32) == want.view(np.uint32)) | (np.isnan(got) & np.isnan(want))
    bad = np.flatnonzero(~same)
    first = [tuple(hex(x.view(np.uint32)[i]) for x in (a, b, got, want)) for i in bad[:5]]
    assert bad.size == 0, f"{what}: {bad.size} wrong, first (a, b, got, want): {first}"


@pytest.mark.parametrize("op,name", [(0, "add"), (1, "sub"), (2, "mul"), (3, "div")])
def test_float_arithmetic_matches_hardware(lib, op, name):
    a, b = float_operands(np.random.default_rng(op))
    got = np.empty_like(a)
    lib.run_f2(op, ptr(a), ptr(b), ptr(got), ctypes.c_size_t(a.size))
    with np.errstate(all="ignore"):
        want = {0: a + b, 1: a - b, 2: a * b, 3: a / b}[op]
    assert_same_floats(got, want, a, b, name)


def test_int_to_float_matches_hardware(lib):
    rng = np.random.default_rng(5)
    u = rng.integers(0, 1 << 32, N, dtype=np.uint64).astype(np.uint32)
    u[: N // 2] >>= rng.integers(0, 32, N // 2).astype(np.uint32)  # every magnitude
    u = np.concatenate(
        [
            u,
            np.array(
                [
                    0,
                    1,
                    0x7FFFFFFF,
                    0x80000000,
                    0xFFFFFFFF,
                    0x1000001,
                    0x1000003,
                    0xFFFFFF80,
                    0xFFFFFF7F,
                ],
                dtype=np.uint32,
            ),
        ]
    )
    for is_signed, want in ((0, u.astype(np.float32)), (1, u.view(np.int32).astype(np.float32))):
        got = np.empty(u.size, np.float32)
        lib.run_itof(is_signed, ptr(u), ptr(got), ctypes.c_size_t(u.size))
        assert_same_floats(got, want, u.view(np.float32), u.view(np.float32), "itof")


def test_division_matches_c(lib):
    rng = np.random.default_rng(6)
    n = rng.integers(0, 1 << 32, N, dtype=np.uint64).astype(np.uint32)
    d = rng.integers(1, 1 << 32, N, dtype=np.uint64).astype(np.uint32)
    d[: N // 2] >>= rng.integers(0, 32, N // 2).astype(np.uint32)
    d[d == 0] = 1
    d[:8] = [1, 2, 3, 0xFFFFFFFF, 0x80000000, 7, 10, 0xFFFFFFFE]
    out = np.empty_like(n)
    for op, want in ((0, n // d), (1, n % d)):
        lib.run_div(ptr(n), ptr(d), ptr(out), ctypes.c_size_t(N), op)
        assert np.array_equal(out, want), op
    sn, sd = n.view(np.int32).astype(np.int64), d.view(np.int32).astype(np.int64)
    keep = ~((sn == -(2**31)) & (sd == -1))  # the one overflowing quotient is undefined in C
    q = np.abs(sn) // np.abs(sd) * np.sign(sn) * np.sign(sd)  # C rounds toward zero
    lib.run_div(ptr(n), ptr(d), ptr(out), ctypes.c_size_t(N), 2)
    assert np.array_equal(out.view(np.int32)[keep], q[keep].astype(np.int32))


def test_muldi3_matches_c(lib):
    rng = np.random.default_rng(7)
    a = rng.integers(-(2**63), 2**63, N, dtype=np.int64)
    b = rng.integers(-(2**63), 2**63, N, dtype=np.int64)
    b[: N // 2] >>= rng.integers(0, 64, N // 2)
    out = np.empty_like(a)
    lib.run_muldi3(ptr(a), ptr(b), ptr(out), ctypes.c_size_t(N))
    with np.errstate(over="ignore"):
        assert np.array_equal(out, a * b)  # numpy int64 products wrap like C's
