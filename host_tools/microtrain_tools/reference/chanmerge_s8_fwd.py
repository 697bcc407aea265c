# SPDX-License-Identifier: MIT
"""Reference of mt_chanmerge_s8_fwd: a whole tensor from a base with k channels replaced."""

import numpy as np

from ..errors import MicrotrainError
from . import args as A


def chanmerge(base, compact, channels, k) -> np.ndarray:
    channels = np.arange(k) if channels is None else np.asarray(channels)
    c = base.shape[-1]
    if not 1 <= k <= c or len(channels) != k or np.any(channels < 0) or np.any(channels >= c):
        raise MicrotrainError(f"chanmerge: bad channel selection {channels} of {c}")
    out = base.copy()
    out[..., channels] = compact
    return out


def op(args, bufs):
    dims = A.dims(args[:4])
    A.check_dims(dims, "chanmerge")
    k = int(args[4])
    compact = A.tensor(bufs[1], dims[:3] + (k,))
    channels = None if bufs[2].size == 0 else A.tensor(bufs[2], (k,))
    A.tensor(bufs[3], dims)[...] = chanmerge(A.tensor(bufs[0], dims), compact, channels, k)


OPS = {"mt_chanmerge_s8_fwd": op}
