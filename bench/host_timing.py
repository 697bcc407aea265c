# SPDX-License-Identifier: MIT
"""Wall-clock timing on the host: the C kernels of the host library (one ctypes call per op
call, arguments marshalled once outside the loop) and any Python callable (numpy).

A measurement is the best of `rounds` rounds of `calls` calls, with `calls` chosen so a round
lasts about `round_s` seconds: the best round is the one least disturbed by the other work on
a shared machine. run_bench takes the best of several such measurements made seconds apart.
"""

import ctypes
import time

import numpy as np

from microtrain_tools.sim import hostlib
from microtrain_tools.errors import MicrotrainError


class _Buf(ctypes.Structure):  # mt_buf of natmod/ops/mt_ops.h
    _fields_ = [("data", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def _library():
    lib = ctypes.CDLL(str(hostlib.build()))
    lib.mt_op_run.restype = ctypes.c_int
    lib.mt_op_run.argtypes = [ctypes.c_uint32, ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t,
                              ctypes.POINTER(_Buf), ctypes.c_size_t]
    return lib


def op_call(op: str, args, bufs):
    """A no-argument callable that runs `op` once through mt_op_run on `bufs`."""
    lib = _library()
    op_id = hostlib.op_info(op).op_id
    c_args = (ctypes.c_int32 * max(len(args), 1))(*[int(a) for a in args])
    c_bufs = (_Buf * max(len(bufs), 1))()
    keep = [np.ascontiguousarray(b) for b in bufs]
    for i, b in enumerate(keep):
        c_bufs[i].data, c_bufs[i].len = b.ctypes.data, b.nbytes
    n_args, n_bufs, run = len(args), len(bufs), lib.mt_op_run

    def call():
        status = run(op_id, c_args, n_args, c_bufs, n_bufs)
        if status:
            raise MicrotrainError(f"{op}: {hostlib.status_message(status)}")

    call.keep = keep  # the buffers live as long as the callable
    return call


def seconds_per_call(fn, *, round_s: float = 0.04, rounds: int = 3) -> float:
    """Best-of-rounds time of one fn() call."""
    fn()  # warm caches and lazy initialisation
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    calls = max(1, int(round_s / once))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best
