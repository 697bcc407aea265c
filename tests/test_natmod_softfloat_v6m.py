# SPDX-License-Identifier: MIT
"""armv6m's single-precision helpers (natmod/kernels/mt_softfloat_v6m.c: __aeabi_fmul, fdiv,
i2f, f2iz and the fcmp family, in place of libgcc's) give libgcc's bits:

- built for the host, against the host's hardware on random and edge operands (subnormals,
  infinities, NaNs, overflow, underflow, ties; NaNs by being NaNs, the host's NaN rules differ);
- built for a Cortex-M0 and run in the emulator beside libgcc's own functions (the compiler's
  float operations in the same image), bit for bit, NaN payloads and signs included."""

import ctypes
import subprocess

import numpy as np
import pytest
from bare_metal import Core, build_driver_image
from conftest import ROOT
from test_natmod_softfloat import assert_same_floats, float_operands, ptr

SOURCES = [ROOT / "natmod" / "kernels" / n for n in ("mt_softfloat.c", "mt_softfloat_v6m.c")]
OPS = ("fmul", "fdiv", "i2f", "f2iz", "fcmp")
EMULATED_N = 60_000  # operands per op on the emulated core (the host takes all of them)

# run_mine: the helpers under test (their MT_SOFTFLOAT_TEST names); run_native: the compiler's
# own float operations, the hardware on the host and libgcc's helpers on a Cortex-M0. The
# comparisons come back as one bit each: eq, lt, le, gt, ge.
DRIVER = r"""
#include <stdint.h>
uint32_t mt_test_aeabi_fmul(uint32_t, uint32_t);
uint32_t mt_test_aeabi_fdiv(uint32_t, uint32_t);
uint32_t mt_test_aeabi_i2f(int32_t);
int32_t mt_test_aeabi_f2iz(uint32_t);
int mt_test_aeabi_fcmpeq(uint32_t, uint32_t);
int mt_test_aeabi_fcmplt(uint32_t, uint32_t);
int mt_test_aeabi_fcmple(uint32_t, uint32_t);
int mt_test_aeabi_fcmpgt(uint32_t, uint32_t);
int mt_test_aeabi_fcmpge(uint32_t, uint32_t);

typedef union {
    float f;
    uint32_t u;
} word;

static float F(uint32_t u) {
    word w;
    w.u = u;
    return w.f;
}

static uint32_t U(float f) {
    word w;
    w.f = f;
    return w.u;
}

void run_mine(int32_t op, const uint32_t *a, const uint32_t *b, uint32_t *out, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        const uint32_t x = a[i], y = b[i];
        uint32_t r = 0;
        switch (op) {
            case 0: r = mt_test_aeabi_fmul(x, y); break;
            case 1: r = mt_test_aeabi_fdiv(x, y); break;
            case 2: r = mt_test_aeabi_i2f((int32_t)x); break;
            case 3: r = (uint32_t)mt_test_aeabi_f2iz(x); break;
            default:
                r = (uint32_t)(mt_test_aeabi_fcmpeq(x, y) | mt_test_aeabi_fcmplt(x, y) << 1 |
                               mt_test_aeabi_fcmple(x, y) << 2 | mt_test_aeabi_fcmpgt(x, y) << 3 |
                               mt_test_aeabi_fcmpge(x, y) << 4);
        }
        out[i] = r;
    }
}

void run_native(int32_t op, const uint32_t *a, const uint32_t *b, uint32_t *out, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        const float x = F(a[i]), y = F(b[i]);
        uint32_t r = 0;
        switch (op) {
            case 0: r = U(x * y); break;
            case 1: r = U(x / y); break;
            case 2: r = U((float)(int32_t)a[i]); break;
            case 3: r = (uint32_t)(int32_t)x; break;  /* the host: only |x| < 2^31 is compared */
            default:
                r = (uint32_t)((x == y) | (x < y) << 1 | (x <= y) << 2 | (x > y) << 3 |
                               (x >= y) << 4);
        }
        out[i] = r;
    }
}
"""


def rounding_edges(rng, n=3000):
    """Products at the rounding edges: significands of few bits (exact ties: ties to even), and
    pairs whose product is just below 2^47 (in units of the last place of both), which rounds
    up to the next power of two."""
    exps = rng.integers(100, 150, (2, n)).astype(np.uint32) << np.uint32(23)
    signs = rng.integers(0, 2, (2, n)).astype(np.uint32) << np.uint32(31)
    short = rng.integers(0, 1 << 12, (2, n)).astype(np.uint32) << np.uint32(11)
    ties = (short | exps | signs).astype(np.uint32)
    ma = rng.integers(1 << 23, 1 << 24, n)
    mb = np.array([(2**47 - 1) // int(m) for m in ma])  # ma * mb just below 2^47
    keep = mb >= 1 << 23
    carry = [(ma[keep] & 0x7FFFFF).astype(np.uint32) | exps[0][keep],
             (mb[keep] & 0x7FFFFF).astype(np.uint32) | exps[1][keep]]
    return ([ties[0], carry[0]], [ties[1], carry[1]])


def operands(op: str, rng):
    a, b = (v.view(np.uint32) for v in float_operands(rng))
    if op == "i2f":
        # Integers of every magnitude, the ends and around the rounding ties.
        a = a.copy()
        a[: a.size // 2] >>= rng.integers(0, 32, a.size // 2).astype(np.uint32)
        ends = [0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x80000001, 0x1000001, 0x1000003,
                0xFFFFFF80, 0xFFFFFF7F, 0x7FFFFFC0, 0x7FFFFFBF]
        a = np.concatenate([np.array(ends, np.uint32), a])
        b = np.zeros_like(a)
    if op == "f2iz":
        # Around every power of two up to 2^32 and both signs, besides the random patterns.
        e = rng.integers(120, 160, a.size // 2).astype(np.uint32)
        a = a.copy()
        a[: a.size // 2] = (a[: a.size // 2] & np.uint32(0x807FFFFF)) | (e << np.uint32(23))
    if op in ("fmul", "fdiv"):
        edges_a, edges_b = rounding_edges(rng)
        a, b = np.concatenate([*edges_a, a]), np.concatenate([*edges_b, b])  # kept first
    nans = np.array([0x7FC00000, 0x7F800001, 0xFFC00001, 0xFF800003, 0x7FFFFFFF, 0x3F800000,
                     0x7F800000, 0], np.uint32)  # quiet and signalling NaNs of both signs
    a = np.concatenate([np.repeat(nans, nans.size), a])
    b = np.concatenate([np.tile(nans, nans.size), b])
    return a, b


@pytest.fixture(scope="module")
def host_lib(tmp_path_factory):
    d = tmp_path_factory.mktemp("softfloat_v6m")
    (d / "driver.c").write_text(DRIVER)
    so = d / "softfloat_v6m.so"
    cmd = ["gcc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-fpic", "-shared",
           "-DMT_SOFTFLOAT_TEST", *map(str, SOURCES), str(d / "driver.c"), "-o", str(so)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return ctypes.CDLL(str(so))


def run_host(lib, fn: str, op: str, a, b):
    out = np.empty_like(a)
    getattr(lib, fn)(OPS.index(op), ptr(a), ptr(b), ptr(out), ctypes.c_int32(a.size))
    return out


@pytest.mark.parametrize("op", OPS)
def test_v6m_helpers_match_the_hosts_hardware(host_lib, op):
    a, b = operands(op, np.random.default_rng(OPS.index(op)))
    got, want = run_host(host_lib, "run_mine", op, a, b), run_host(host_lib, "run_native", op,
                                                                     a, b)
    if op == "f2iz":
        # |a| < 2^31 only: C leaves the rest undefined (x86 gives INT32_MIN; libgcc saturates,
        # which the emulated test checks).
        keep = (a & np.uint32(0x7FFFFFFF)) < np.uint32(0x4F000000)
        assert np.array_equal(got[keep], want[keep])
    elif op == "fcmp":
        assert np.array_equal(got, want)
    else:
        assert_same_floats(got.view(np.float32), want.view(np.float32), a.view(np.float32),
                           b.view(np.float32), op)


@pytest.fixture(scope="module")
def m0(tmp_path_factory):
    elf = build_driver_image("armv6m", tmp_path_factory.mktemp("softfloat_m0"), SOURCES, DRIVER,
                             ["-DMT_SOFTFLOAT_TEST"])
    return Core("armv6m", elf, ram_size=0x0020_0000)


def run_m0(core, fn: str, op: str, a, b):
    core.reset()
    at_a, at_b = core.place(a.tobytes()), core.place(b.tobytes())
    at_out = core.place(bytes(a.nbytes))
    core.call(fn, OPS.index(op), at_a, at_b, at_out, a.size)
    return np.frombuffer(core.read(at_out, a.nbytes), np.uint32)


@pytest.mark.parametrize("op", OPS)
def test_v6m_helpers_equal_libgcc_on_a_cortex_m0(m0, op):
    a, b = operands(op, np.random.default_rng(100 + OPS.index(op)))
    a, b = a[:EMULATED_N], b[:EMULATED_N]
    got, want = run_m0(m0, "run_mine", op, a, b), run_m0(m0, "run_native", op, a, b)
    bad = np.flatnonzero(got != want)
    first = [(hex(a[i]), hex(b[i]), hex(got[i]), hex(want[i])) for i in bad[:5]]
    assert bad.size == 0, f"{op}: {bad.size} differ from libgcc, first (a, b, got, want): {first}"
