# SPDX-License-Identifier: MIT
"""In-place convolutions: where a conv's output may overlap its dying input.

A depthwise conv reads a few rows above each output and a pointwise conv reads one pixel; if
the output is written a little behind (or, for an expansion, ahead of) the input, it never
overwrites a value still to be read, and input and output need little more than the larger of
the two (TinyEngine's in-place depthwise, generalised). Which relative offsets are safe depends
on the kernel's loop order, so it is not derived by hand: each candidate is tried on the real C
kernel (the host library), with the output overlapping the input in one buffer, on random data,
and accepted only if the result equals the same op run on separate buffers. The kernels take
plain (not `restrict`) pointers, so every compiler keeps the C order of their reads and writes.
"""

from functools import lru_cache

import numpy as np

from .. import hostlib

CONV_OPS = ("mt_conv2d_s8_fwd", "mt_pwconv2d_s8_fwd", "mt_dwconv2d_s8_fwd")
TRIALS = 2


def _buffers(args, seed):
    """Random tensors of the op's shapes; weights and requantization stay out of the test."""
    rng = np.random.default_rng(seed)
    in_dims, f_dims, out_dims = args[8:12], args[12:16], args[16:20]
    c_out = out_dims[3]
    mult = np.full(c_out, 1 << 30, np.int32)
    shift = np.full(c_out, -10, np.int32)  # outputs mostly inside int8: hazards show
    x = rng.integers(-128, 128, int(np.prod(in_dims))).astype(np.int8)
    w = rng.integers(-127, 128, int(np.prod(f_dims))).astype(np.int8)
    bias = rng.integers(-1000, 1000, c_out).astype(np.int32)
    return mult, shift, x, w, bias, int(np.prod(out_dims))


def _test_args(args):
    # The clamp and zero points do not change which bytes are read when, so keep them wide
    # open: every output then depends on its inputs and a hazard shows as a different byte.
    return list(args[:4]) + [0, 0, -128, 127] + list(args[8:])


def _safe(name, args, delta) -> bool:
    for seed in range(TRIALS):
        mult, shift, x, w, bias, n_out = _buffers(args, seed)
        expected = np.zeros(n_out, np.int8)
        hostlib.run_op(name, args, [mult, shift, x, w, bias, expected])
        lo = min(0, delta)
        size = max(x.size, delta + n_out) - lo
        arena = np.zeros(size, np.int8)
        x_view = arena[-lo : -lo + x.size]
        out_view = arena[delta - lo : delta - lo + n_out]
        x_view[:] = x
        hostlib.run_op(name, args, [mult, shift, x_view, w, bias, out_view])
        if not np.array_equal(out_view, expected):
            return False
    return True


def _candidates(args):
    """Offsets of the output relative to the input, smallest footprint first."""
    in_dims, out_dims = args[8:12], args[16:20]
    n_in, n_out = int(np.prod(in_dims)), int(np.prod(out_dims))
    c_in, w_in, c_out = in_dims[3], in_dims[2], out_dims[3]
    row = w_in * c_in
    margins = sorted({0, c_in, c_out, row, row + c_in, 2 * (row + c_in), 3 * (row + c_in)})
    cands = []
    for m in margins:
        cands.append((max(n_in, n_out) + m, -(max(n_out - n_in, 0) + m)))  # output behind
        cands.append((max(n_in, n_out) + m, max(n_in - n_out, 0) + m))  # output ahead
    return [delta for footprint, delta in sorted(cands) if footprint < n_in + n_out]


@lru_cache(maxsize=None)
def safe_deltas(name: str, args: tuple) -> tuple:
    """The safe offsets of the output relative to the input that save the most: the best with
    the output behind the input and the best with it ahead (neighbours in a chain of in-place
    ops may need either). Empty when none is safe."""
    if name not in CONV_OPS:
        return ()
    test_args = _test_args(args)
    found = {}
    for delta in _candidates(test_args):
        side = delta < 0
        if side not in found and _safe(name, test_args, delta):
            found[side] = delta
        if len(found) == 2:
            break
    return tuple(found.values())
