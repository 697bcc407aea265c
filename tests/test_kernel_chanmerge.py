# SPDX-License-Identifier: MIT
"""mt_chanmerge_s8_fwd: C equals the reference, and it inverts mt_chansel_s8_fwd."""

import numpy as np
import pytest

from microtrain_tools.sim import hostlib
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.reference import REFERENCE_OPS


def merge(run, base, compact, channels, k):
    out = np.zeros_like(base)
    ch = np.array([] if channels is None else channels, np.int32)
    run("mt_chanmerge_s8_fwd", [1, 1, base.size // base.shape[-1], base.shape[-1], k],
        [base.ravel(), compact.ravel(), ch, out.ravel()])
    return out


def ref_run(name, args, bufs):
    REFERENCE_OPS[name](args, bufs)


@pytest.mark.parametrize("seed", range(4))
def test_c_equals_reference_and_inverts_chansel(seed):
    rng = np.random.default_rng(seed)
    rows, c = int(rng.integers(1, 40)), int(rng.integers(1, 17))
    k = int(rng.integers(1, c + 1))
    channels = sorted(rng.choice(c, k, replace=False).tolist()) if seed % 2 else None
    base = rng.integers(-128, 128, (rows, c)).astype(np.int8)
    compact = rng.integers(-128, 128, (rows, k)).astype(np.int8)
    out_c = merge(hostlib.run_op, base, compact, channels, k)
    out_ref = merge(ref_run, base, compact, channels, k)
    assert np.array_equal(out_c, out_ref)
    picked = list(range(k)) if channels is None else channels
    assert np.array_equal(out_c[:, picked], compact)
    others = [i for i in range(c) if i not in picked]
    assert np.array_equal(out_c[:, others], base[:, others])
    back = np.zeros((rows, k), np.int8)
    hostlib.run_op("mt_chansel_s8_fwd", [1, 1, rows, c, k],
                   [out_c.ravel(), np.array(picked if channels else [], np.int32), back.ravel()])
    assert np.array_equal(back, compact)


def test_bad_selection_is_refused():
    base = np.zeros((2, 4), np.int8)
    with pytest.raises(MicrotrainError, match="parameter out of range"):
        merge(hostlib.run_op, base, np.zeros((2, 2), np.int8), [0, 9], 2)
    with pytest.raises(MicrotrainError, match="parameter out of range"):
        merge(hostlib.run_op, base, np.zeros((2, 5), np.int8), None, 5)
