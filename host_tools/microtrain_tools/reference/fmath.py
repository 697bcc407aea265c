# SPDX-License-Identifier: MIT
"""Mirror of natmod/kernels/mt_fmath.c: float32 exp and log, the same operations in the same
order, so they give the C kernels' bits on every element. Constants are the C hex floats."""

import numpy as np

F = np.float32
LOG2E = F(float.fromhex("0x1.715476p+0"))
LN2_HI = F(float.fromhex("0x1.63p-1"))
LN2_LO = F(float.fromhex("-0x1.bd0106p-13"))
SQRT2 = F(float.fromhex("0x1.6a09e6p+0"))
LN2 = F(float.fromhex("0x1.62e43p-1"))


def expf(x) -> np.ndarray:
    """mt_expf elementwise on a float32 array."""
    x = np.asarray(x, dtype=F)
    under = x < F(-87.0)
    x = np.minimum(x, F(88.0))
    kf = x * LOG2E
    k = (kf + np.where(kf >= F(0), F(0.5), F(-0.5))).astype(np.int32)  # C cast: truncation
    kx = k.astype(F)
    r = (x - kx * LN2_HI) - kx * LN2_LO
    p = F(1.0) / F(720.0)
    for c in (F(1.0) / F(120.0), F(1.0) / F(24.0), F(1.0) / F(6.0), F(0.5), F(1.0), F(1.0)):
        p = p * r + c
    two_k = ((np.where(under, 0, k) + 127).astype(np.int32) << 23).view(F)
    return np.where(under, F(0.0), p * two_k).astype(F)


def logf(x) -> np.ndarray:
    """mt_logf elementwise on a float32 array (positive normal inputs)."""
    x = np.asarray(x, dtype=F)
    bad = ~(x > F(0))
    bits = np.where(bad, F(1.0), x).view(np.int32)
    e = ((bits >> 23) & 0xFF) - 127
    m = ((bits & 0x007FFFFF) | 0x3F800000).astype(np.int32).view(F)
    big = m > SQRT2
    m = np.where(big, m * F(0.5), m)
    e = e + big
    s = (m - F(1.0)) / (m + F(1.0))
    s2 = s * s
    p = F(2.0) / F(9.0)
    for c in (F(2.0) / F(7.0), F(2.0) / F(5.0), F(2.0) / F(3.0), F(2.0)):
        p = p * s2 + c
    return np.where(bad, F(-1e30), e.astype(F) * LN2 + p * s).astype(F)
