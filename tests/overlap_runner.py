# SPDX-License-Identifier: MIT
"""Run one op of the table with its output overlapping its input at a given offset, on the host
library or on an emulated core (Cortex-M0, Cortex-M4 with DSP, RV32): how an in-place op runs
in a bundle's arena, checked on every code path the boards take.

The emulated cores run the bare-metal op-table image of bare_metal.build_image, mt_op_run called
directly; here the input buffer is placed in emulator RAM and the output `delta` bytes from it.
"""

import struct

import numpy as np

from bare_metal import Core, build_image

X, Y = 2, 5  # a conv op's input and output buffer indices


def overlapping_views(x: np.ndarray, n_out: int, delta: int):
    """(arena, input view holding x, output view `delta` bytes from the input)."""
    lo = min(0, delta)
    arena = np.zeros(max(x.size, delta + n_out) - lo, np.int8)
    x_view = arena[-lo : -lo + x.size]
    x_view[:] = x
    return arena, x_view, arena[delta - lo : delta - lo + n_out]


def run_host(name: str, args, bufs, delta=None, io=(X, Y)) -> np.ndarray:
    """The op on the host library (x64); the output, computed in place when delta is given.
    io: the input and output buffers' indices (a conv op's by default)."""
    from microtrain_tools.sim import hostlib

    x, y = io
    bufs = [b.copy() for b in bufs]
    if delta is not None:
        _, bufs[x], bufs[y] = overlapping_views(bufs[x], bufs[y].size, delta)
    hostlib.run_op(name, args, bufs)
    return bufs[y].copy()


class EmulatedCore:
    """The op table on one emulated core; run() places the output over the input."""

    def __init__(self, arch: str, tmp_path):
        self.arch = arch
        self.core = Core(arch, build_image(arch, tmp_path))

    def run(self, name: str, args, bufs, delta=None, io=(X, Y)) -> np.ndarray:
        """mt_op_run of the op; returns its output (computed in place when delta is given).
        A status other than MT_OK fails. io: the input and output buffers' indices."""
        from microtrain_tools.sim import hostlib

        X, Y = io  # noqa: N806 (the module's names, for this op)
        core = self.core
        core.reset()
        args_at = core.place(np.asarray(args, np.int32).tobytes() or b"\0\0\0\0")
        layout = []
        for i, b in enumerate(bufs):
            if delta is not None and i == X:
                lo = min(0, delta)
                at = core.place(bytes(max(b.nbytes, delta + bufs[Y].nbytes) - lo)) - lo
                core.uc.mem_write(at, b.tobytes())
            elif delta is not None and i == Y:
                at = layout[X][0] + delta  # not written: it would clobber the input
            else:
                at = core.place(b.tobytes() or b"\0")
            layout.append((at, b.nbytes))
        bufs_at = core.place(b"".join(struct.pack("<II", at, n) for at, n in layout))
        status = core.call("mt_op_run", hostlib.op_ids()[name], args_at, len(args), bufs_at,
                           len(bufs))
        assert status == 0, f"{name} on {self.arch}: status {status}"
        at, n = layout[Y]
        return np.frombuffer(core.read(at, n), np.int8).copy()
