# SPDX-License-Identifier: MIT
"""Whole training programs on the boards' code paths: the executor (natmod/ops/mt_program.c) and
the op table built for an arch with the native module's own compiler flags (-Os or -O2, -fpic,
the arch's -mcpu/-mfloat-abi: natmod_build.compile_flags) and its own memset/memcpy, run

- on an emulated core (unicorn: Cortex-M0, M4, M7, RV32) as a bare-metal image, the regions
  placed in emulator memory, the frozen weights and the programs in read-only memory (flash);
- on x64 as a shared library loaded with ctypes (the unix port's code path; the host
  simulation's library, hostlib, is built at -O2).

    image = build_program_image(arch, work_dir)
    board = board_model(arch, image, compiled)      # like simulate.HostModel
    board.predict(x); board.learn(x, y)
    board.out, board.params, board.arena            # bytes read back after each step

Each run calls mt_program_check (as the module does when a model loads), then mt_program_run.
unicorn's Cortex-M7 has no double-precision VFP: the armv7emdp image holds no f64 instruction
today (the module computes in float32); one would stop the core with "Invalid instruction".
"""

import ctypes
import subprocess

import numpy as np

from ..sim import hostlib
from ..mpy.arches import DEFAULT_OPT, OPT_FLAGS, check_opt, get_arch
from ..errors import MicrotrainError
from ..mpy.natmod_build import compile_flags
from ..paths import NATMOD_DIR
from ..formats.program import Region
from ..sim.simulate import GUARD, GUARD_BYTE, HostModel
from .core import ALIGN, Core, build_image, find_cc

CORES = ("armv6m", "armv7emsp", "armv7emdp", "rv32imc")  # emulated; "x64" runs natively
MODULE_LIBC = NATMOD_DIR / "sdk" / "mt_libc.c"
N_REGIONS = len(Region)


def module_flags(arch: str, opt: str = DEFAULT_OPT) -> list:
    """The flags `microtrain pack` builds the module with (opt "size": -Os, "speed": -O2)."""
    return [*compile_flags(get_arch(arch)), *OPT_FLAGS[check_opt(opt)]]


def build_program_image(arch: str, out_dir, opt: str = DEFAULT_OPT):
    """The executor + op table as a bare-metal ELF (a core) or a shared library (x64)."""
    if arch == "x64":
        return _build_x64_library(out_dir, opt)
    return build_image(arch, out_dir, flags=module_flags(arch, opt), libc=MODULE_LIBC,
                       entry="mt_program_run")


def _build_x64_library(out_dir, opt, extra_flags=(), tag="best"):
    """extra_flags: e.g. a cap on the SIMD level the kernels may pick at run time (tag names it)."""
    cc = find_cc("x64")
    lib = out_dir / f"libmt_program-x64-{opt}-{tag}.so"
    sources = [p for d in ("kernels", "ops") for p in sorted((NATMOD_DIR / d).glob("*.c"))]
    # The host's C library gives memcpy/memset here, as the unix port's process does.
    cmd = [cc, *module_flags("x64", opt), *extra_flags, "-shared", "-o", str(lib),
           *map(str, sources)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MicrotrainError(f"building the x64 library failed:\n{' '.join(cmd)}\n"
                              f"{proc.stderr}")
    return lib


class ProgramFailed(Exception):
    """mt_program_check or mt_program_run returned an error status."""


class BoardModel:
    """A compiled model on one arch: the same programs and starting regions as a HostModel."""

    def __init__(self, arch: str, compiled):
        host = HostModel(compiled)  # the programs, encoded for this op table, and the regions
        self.arch = arch
        self.compiled = compiled
        self.programs = {"predict": host.predict_program, "learn": host.learn_program}
        self.x_dtype = host.x_dtype
        self.x_size = int(np.prod(compiled.graph.input.shape)) * np.dtype(self.x_dtype).itemsize
        self.initial = {"weights": host.weights.tobytes(), "params": host.params.tobytes(),
                        "out": host.out.tobytes()}

    def predict(self, x) -> None:
        self._step("predict", x, np.zeros(1, np.int32))

    def learn(self, x, y) -> None:
        if self.compiled.loss == "softmax_ce":
            target = np.array([int(y)], np.int32)
        else:
            target = np.ascontiguousarray(y, dtype=np.float32)
        self._step("learn", x, target)

    def _step(self, which: str, x, target) -> None:
        x = np.ascontiguousarray(x, dtype=self.x_dtype).ravel()
        status, failed = self.run(which, x.tobytes(), target.tobytes())
        if status != 0:
            ops = getattr(self.compiled, which)
            op = ops[failed] if failed < len(ops) else None
            raise ProgramFailed(f"{which} on {self.arch}: status {status} "
                                f"({hostlib.status_message(status)}) at op {failed} "
                                f"({op.comment if op else '?'})")

    def _arena_init(self) -> bytes:
        # Guard bytes around the arena, as HostModel has: a kernel writing outside shows.
        return bytes([GUARD_BYTE]) * (self.compiled.arena_size + 2 * GUARD)


class EmulatedModel(BoardModel):
    """The programs run by mt_program_run on an emulated core.

    count=True: self.instructions[program] after each run; profile=True also gives
    self.op_instructions[program]: [before the first op (the program's check walk), op 0, ...],
    each op's count with the decoding of the op after it (a few dozen instructions)."""

    def __init__(self, arch: str, elf, compiled, core_class=Core):
        """core_class: Core (unicorn) or another core with the same place/write/read/call."""
        super().__init__(arch, compiled)
        target_size = 4 * max(1, compiled.n_outputs)  # a label, or a float32 target
        ram = [len(self._arena_init()), len(self.initial["params"]), len(self.initial["out"]),
               self.x_size, target_size, 8 * N_REGIONS, 4]
        rom = [len(p) for p in self.programs.values()] + [len(self.initial["weights"])]
        self.core = core = core_class(arch, elf, ram_size=sum(ram) + ALIGN * len(ram),
                                      rom_size=sum(rom) + ALIGN * len(rom))
        self.program_at = {k: (core.place(p, read_only=True), len(p))
                           for k, p in self.programs.items()}
        self.weights_at = core.place(self.initial["weights"], read_only=True)
        self.arena_at = core.place(self._arena_init()) + GUARD
        self.params_at = core.place(self.initial["params"])
        self.out_at = core.place(self.initial["out"])
        self.x_at = core.place(bytes(self.x_size))
        self.target_at = core.place(bytes(target_size))
        self.regions_at = core.place(bytes(8 * N_REGIONS))
        self.failed_at = core.place(bytes(4))
        self.instructions = {}  # program -> instructions of its last run (count=True)
        self.op_instructions = {}  # program -> per-op instructions of its last run (profile)
        self.count = False
        self.profile = False

    def run(self, which: str, x: bytes, target: bytes):
        core = self.core
        core.write(self.x_at, x)
        core.write(self.target_at, target)
        regions = [(self.arena_at, self.compiled.arena_size),
                   (self.weights_at, len(self.initial["weights"])),
                   (self.params_at, len(self.initial["params"])), (self.x_at, len(x)),
                   (self.target_at, len(target)), (self.out_at, len(self.initial["out"]))]
        core.write(self.regions_at, b"".join(
            np.array(r, "<u4").tobytes() for r in regions))
        # Written each run, so a test may change self.programs (up to the size placed first).
        program, (at, capacity) = self.programs[which], self.program_at[which]
        if len(program) > capacity:
            raise MicrotrainError(f"{which} program grew beyond its {capacity} bytes")
        core.write(at, program)
        status = core.call("mt_program_check", at, len(program), self.regions_at, N_REGIONS)
        if status != 0:
            return status, 0
        split = {"split_at": "mt_op_run"} if self.profile else {}  # unicorn cores only
        status = core.call("mt_program_run", at, len(program), self.regions_at, N_REGIONS,
                           self.failed_at, count=self.count, **split)
        if self.count or self.profile:
            self.instructions[which] = core.instructions
        if self.profile:
            self.op_instructions[which] = core.segments
        failed = int(np.frombuffer(core.read(self.failed_at, 4), "<u4")[0])
        return status, failed

    @property
    def out(self) -> bytes:
        return self.core.read(self.out_at, len(self.initial["out"]))

    @property
    def params(self) -> bytes:
        return self.core.read(self.params_at, len(self.initial["params"]))

    @property
    def arena(self) -> bytes:
        return self.core.read(self.arena_at, self.compiled.arena_size)

    def guards_intact(self) -> bool:
        n = self.compiled.arena_size
        guard = bytes([GUARD_BYTE]) * GUARD
        return (self.core.read(self.arena_at - GUARD, GUARD) == guard
                and self.core.read(self.arena_at + n, GUARD) == guard)


class _Buf(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class NativeModel(BoardModel):
    """The programs run by mt_program_run of the x64 module-flags library, in this process."""

    def __init__(self, library_path, compiled):
        super().__init__("x64", compiled)
        lib = ctypes.CDLL(str(library_path))
        for name in ("mt_program_check", "mt_program_run"):
            getattr(lib, name).restype = ctypes.c_int
        self.lib = lib
        self.weights = np.frombuffer(self.initial["weights"], np.uint8).copy()
        self.params_buf = np.frombuffer(self.initial["params"], np.uint8).copy()
        self.out_buf = np.frombuffer(self.initial["out"], np.uint8).copy()
        self.arena_guarded = np.frombuffer(self._arena_init(), np.uint8).copy()

    def run(self, which: str, x: bytes, target: bytes):
        x_buf = np.frombuffer(x, np.uint8).copy()
        t_buf = np.frombuffer(target, np.uint8).copy()
        arena = self.arena_guarded[GUARD: GUARD + self.compiled.arena_size]
        regions = [arena, self.weights, self.params_buf, x_buf, t_buf, self.out_buf]
        bufs = (_Buf * N_REGIONS)(*[(r.ctypes.data if r.nbytes else None, r.nbytes)
                                    for r in regions])
        program = self.programs[which]
        status = self.lib.mt_program_check(program, ctypes.c_size_t(len(program)), bufs,
                                           ctypes.c_size_t(N_REGIONS))
        if status != 0:
            return status, 0
        failed = ctypes.c_uint32(0)
        status = self.lib.mt_program_run(program, ctypes.c_size_t(len(program)), bufs,
                                         ctypes.c_size_t(N_REGIONS), ctypes.byref(failed))
        return status, failed.value

    @property
    def out(self) -> bytes:
        return self.out_buf.tobytes()

    @property
    def params(self) -> bytes:
        return self.params_buf.tobytes()

    @property
    def arena(self) -> bytes:
        return self.arena_guarded[GUARD: GUARD + self.compiled.arena_size].tobytes()

    def guards_intact(self) -> bool:
        g = self.arena_guarded
        return bool(np.all(g[:GUARD] == GUARD_BYTE) and np.all(g[-GUARD:] == GUARD_BYTE))


def board_model(arch: str, image, compiled) -> BoardModel:
    if arch == "x64":
        return NativeModel(image, compiled)
    return EmulatedModel(arch, image, compiled)
