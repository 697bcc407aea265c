# SPDX-License-Identifier: MIT
"""Run one op of the table with its output overlapping its input at a given offset, on the host
library or on an emulated core (Cortex-M0, Cortex-M4 with DSP, RV32): how an in-place op runs
in a bundle's arena, checked on every code path the boards take.

The emulated cores run the bare-metal op-table image of test_kernels_fwd_cortex_m (build_image;
RV32 with the same flags), mt_op_run called directly; here the input buffer is placed at a
fixed address and the output `delta` bytes from it, in the same memory.
"""

import struct

import numpy as np

from conftest import skip_or_fail
from test_kernels_fwd_cortex_m import (DATA, DATA_SIZE, STACK, STACK_SIZE, STOP, CortexM,
                                       build_image, load_image)

X, Y = 2, 5  # a conv op's input and output buffer indices


def overlapping_views(x: np.ndarray, n_out: int, delta: int):
    """(arena, input view holding x, output view `delta` bytes from the input)."""
    lo = min(0, delta)
    arena = np.zeros(max(x.size, delta + n_out) - lo, np.int8)
    x_view = arena[-lo : -lo + x.size]
    x_view[:] = x
    return arena, x_view, arena[delta - lo : delta - lo + n_out]


def run_host(name: str, args, bufs, delta=None) -> np.ndarray:
    """The op on the host library (x64); the output, computed in place when delta is given."""
    from microtrain_tools import hostlib

    bufs = [b.copy() for b in bufs]
    if delta is not None:
        _, bufs[X], bufs[Y] = overlapping_views(bufs[X], bufs[Y].size, delta)
    hostlib.run_op(name, args, bufs)
    return bufs[Y].copy()


class Rv32:
    """An RV32 in unicorn with the op-table image loaded (a0..a4 carry mt_op_run's args)."""

    def __init__(self, elf_path):
        try:
            import unicorn
            import unicorn.riscv_const as c
        except ImportError as err:
            skip_or_fail(f"unicorn is not installed ({err}): run `make venv`")
        self.uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV32)
        self.entry = load_image(self.uc, elf_path)
        self.arg_regs = [getattr(c, f"UC_RISCV_REG_A{i}") for i in range(5)]
        self.sp, self.ra, self.ret = c.UC_RISCV_REG_SP, c.UC_RISCV_REG_RA, c.UC_RISCV_REG_A0

    def call(self, args5) -> int:
        for reg, value in zip(self.arg_regs, args5):
            self.uc.reg_write(reg, value)
        self.uc.reg_write(self.sp, STACK + STACK_SIZE - 64)
        self.uc.reg_write(self.ra, STOP)
        self.uc.emu_start(self.entry, STOP, count=200_000_000)
        return self.uc.reg_read(self.ret)


class Thumb:
    """A Cortex-M of test_kernels_fwd_cortex_m (r0..r3 and the stack carry the args)."""

    def __init__(self, arch, elf_path):
        self.machine = CortexM(arch, elf_path)
        self.uc = self.machine.uc

    def call(self, args5) -> int:
        c, uc = self.machine.c, self.uc
        sp = STACK + STACK_SIZE - 64
        uc.mem_write(sp, struct.pack("<I", args5[4]))  # fifth argument on the stack
        for reg, value in zip((c.UC_ARM_REG_R0, c.UC_ARM_REG_R1, c.UC_ARM_REG_R2,
                               c.UC_ARM_REG_R3), args5[:4]):
            uc.reg_write(reg, value)
        uc.reg_write(c.UC_ARM_REG_SP, sp)
        uc.reg_write(c.UC_ARM_REG_LR, STOP | 1)
        uc.emu_start(self.machine.entry | 1, STOP, count=200_000_000)
        return uc.reg_read(c.UC_ARM_REG_R0)


class EmulatedCore:
    """The op table on one emulated core; run() places the output over the input."""

    def __init__(self, arch: str, tmp_path):
        elf = build_image(arch, tmp_path)
        self.arch = arch
        self.cpu = Rv32(elf) if arch.startswith("rv32") else Thumb(arch, elf)

    def run(self, name: str, args, bufs, delta=None) -> np.ndarray:
        """mt_op_run of the op; returns its output (computed in place when delta is given).
        A status other than MT_OK fails."""
        from microtrain_tools import hostlib

        uc, addr, layout = self.cpu.uc, DATA, []

        def reserve(n: int) -> int:
            nonlocal addr
            at = addr
            addr = (addr + max(n, 1) + 7) & ~7
            return at

        def place(data: bytes) -> int:
            at = reserve(len(data))
            uc.mem_write(at, data or b"\0")
            return at

        args_at = place(np.asarray(args, np.int32).tobytes())
        for i, b in enumerate(bufs):
            if delta is not None and i == X:
                lo = min(0, delta)
                base = reserve(max(b.nbytes, delta + bufs[Y].nbytes) - lo)
                at = base - lo
                uc.mem_write(at, b.tobytes())
            elif delta is not None and i == Y:
                at = layout[X][0] + delta  # not written: it would clobber the input
            else:
                at = place(b.tobytes())
            layout.append((at, b.nbytes))
        if addr >= DATA + DATA_SIZE:
            raise ValueError(f"{name}: buffers need {addr - DATA} bytes, the harness has "
                             f"{DATA_SIZE}")
        bufs_at = place(b"".join(struct.pack("<II", at, n) for at, n in layout))
        status = self.cpu.call([hostlib.op_ids()[name], args_at, len(args), bufs_at, len(bufs)])
        assert status == 0, f"{name} on {self.arch}: status {status}"
        at, n = layout[Y]
        return np.frombuffer(uc.mem_read(at, n), np.int8).copy()
