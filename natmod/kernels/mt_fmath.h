// SPDX-License-Identifier: MIT
// float32 exp and log without libm, so every arch (and numpy, in microtrain_tools.reference.fmath)
// computes the same bits: each step is one float32 operation in a fixed order.
#ifndef MT_FMATH_H
#define MT_FMATH_H

// e^x for x in about [-87.3, 88.7]; 0 below, clamped above. Relative error
// below 2.5e-7 (tests/test_kernels_bwd_misc.py).
float mt_expf(float x);

// Natural log of a positive normal float; returns -1e30f for x <= 0 (callers never pass it).
float mt_logf(float x);

#endif
