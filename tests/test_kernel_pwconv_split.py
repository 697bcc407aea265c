# SPDX-License-Identifier: MIT
"""The split pointwise ops (a layer learning k input channels, run from its frozen filter and
the learned columns without a whole copy of the filter): C equals the numpy reference, and both
equal the plain pointwise ops on the merged filter, byte for byte; the scratch is left zero.
The same cases run on the emulated cores in test_kernels_bwd_cortex_m.py and
test_kernels_xtensa.py, whole programs in test_programs_per_arch.py."""

import numpy as np
import pytest

from kernels_bwd_cases import SPLIT_POINTWISE_SHAPES, split_pointwise_case
from kernels_fwd_cases import assert_same, copy_bufs
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.reference.grad_q8 import quantize
from microtrain_tools.sim import hostlib


def q8(values):
    q, s = quantize(values)
    return [q.ravel(), np.array([s], np.float32)]


@pytest.mark.parametrize("shape", range(len(SPLIT_POINTWISE_SHAPES)))
def test_split_ops_equal_numpy_and_the_merged_filter(shape):
    rng = np.random.default_rng(100 + shape)
    fwd, grad, merged = split_pointwise_case(rng, q8, **SPLIT_POINTWISE_SHAPES[shape])
    name, args, bufs = fwd
    out = assert_same(name, args, bufs)
    plain = copy_bufs(bufs[:6])
    plain[3] = merged
    hostlib.run_op("mt_pwconv2d_s8_fwd", args[:20], plain)
    assert np.array_equal(out[5], plain[5])
    row = args[15] + int(np.prod(args[16:19]))  # a filter row and its output channel
    used = min(args[12], bufs[8].size // row) * row
    assert not out[8][:used].any() and np.array_equal(out[8][used:], bufs[8][used:])
    assert np.array_equal(out[3], bufs[3])  # the frozen filter is read, never written

    name, args, bufs = grad
    out = assert_same(name, args, bufs)
    plain = copy_bufs(bufs[:7])
    plain[3] = merged
    hostlib.run_op("mt_pwconv2d_q8_grad_in", args[:21], plain)
    assert np.array_equal(out[1], plain[1]) and out[2][0] == plain[2][0]
    assert not out[6].any()


def run_fwd(args, bufs):
    hostlib.run_op("mt_pwconv2d_split_s8_fwd", args, copy_bufs(bufs))


def test_bad_channels_k_and_scratch_are_refused():
    rng = np.random.default_rng(5)
    (_, args, bufs), (_, gargs, gbufs), _ = split_pointwise_case(rng, q8, c_in=8, c_out=4, k=3)
    for channels in ([2, 1, 5], [0, 0, 5], [0, 3, 8], [-1, 2, 3]):
        bad = copy_bufs(bufs)
        bad[7] = np.array(channels, np.int32)
        with pytest.raises(MicrotrainError, match="parameter out of range"):
            run_fwd(args, bad)
        bad = copy_bufs(gbufs)
        bad[8] = np.array(channels, np.int32)
        with pytest.raises(MicrotrainError, match="parameter out of range"):
            hostlib.run_op("mt_pwconv2d_split_q8_grad_in", gargs, bad)
    for k in (0, 9):
        with pytest.raises(MicrotrainError, match="parameter out of range"):
            run_fwd(args[:20] + [k], bufs)
    small = copy_bufs(bufs)
    small[8] = small[8][:8 + 9 - 1]  # one byte short of one row and its 9 output pixels
    with pytest.raises(MicrotrainError):
        run_fwd(args, small)
    short = copy_bufs(gbufs)
    short[7] = short[7][:-1]  # the learned columns one byte short
    with pytest.raises(MicrotrainError):
        hostlib.run_op("mt_pwconv2d_split_q8_grad_in", gargs, short)
