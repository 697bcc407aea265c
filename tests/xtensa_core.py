# SPDX-License-Identifier: MIT
"""The native module (.mpy) for xtensa (ESP8266) or xtensawin (ESP32, ESP32-S3) loaded as
MicroPython's loader does and run on an emulated Xtensa core: qemu-system-xtensa's `sim`
machine, driven through its gdbstub. unicorn has no Xtensa.

    image = module_image("xtensawin", work_dir)      # the .mpy our linker wrote + its symbols
    core = XtensaCore("xtensawin", image)
    at = core.place(data)
    status = core.call("mt_op_run", op_id, ...)      # up to 6 word arguments

The module's text and rodata are relocated by the .mpy's own relocation stream (the bytes a
board would run, not a separate build). mp_fun_table points at a stub that stops the core: the
kernels and the executor must not call into MicroPython. Cores: `lx106` (ESP8266's, call0
ABI, no FPU) and `de233_fpu` (an LX7 with windowed registers and a single-precision FPU, like
ESP32's LX6 and ESP32-S3's LX7). How the emulation differs from the chips: docs/xtensa.md.

Same interface as bare_metal.Core (place/read/write/call/instructions); missing tools skip
the test outside CI and fail it under CI=true.
"""

import atexit
import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from conftest import skip_or_fail
from gdb_remote import GdbRemote
from microtrain_tools.mpy import natmod_build
from microtrain_tools.mpy.arches import get_arch
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.mpy.mpy_format import K_BSS, K_FUN_TABLE, K_FUN_VALUE, K_QSTR_TABLE
from microtrain_tools.mpy.mpy_format import K_RODATA, K_TEXT
from microtrain_tools.mpy.reader import read_mpy
from xtensa_driver import (MB_ARGS, MB_CCOUNT, MB_EMULATED, MB_EPC1, MB_EXCCAUSE,
                           MB_EXCVADDR, MB_FUNCTION, MB_RESULT, MB_SIZE, MB_STATE, N_ARGS,
                           STATE_DONE, STATE_FAULT, STATE_RUNTIME_CALL, assemble_driver,
                           write_elf)

XTENSA_ARCHES = ("xtensa", "xtensawin")
QEMU = "qemu-system-xtensa"
QEMU_CPU = {"xtensa": "lx106", "xtensawin": "de233_fpu"}
# qemu's sim machine: system RAM of the core configuration (128 MiB at these addresses).
RAM_BASE = {"lx106": 0x6000_0000, "de233_fpu": 0x0000_0000}
RESET_VECTOR = {"lx106": 0x5000_0000, "de233_fpu": 0xFE00_0000}
DRIVER = 0x0001_0000  # offsets from RAM_BASE
MAILBOX = 0x0000_8000
STACK_TOP = 0x0004_0000
MODULE = 0x0004_0000
HEAP = 0x0020_0000
FUN_TABLE_ENTRIES = 87
ICOUNT_SHIFT = 6
# Extra qemu options for a person debugging, e.g. "-d in_asm,int,exec -D /tmp/qemu.log".
DEBUG = os.environ.get("XTENSA_QEMU_DEBUG", "").split()
ALIGN = 16  # MicroPython's heap gives 16-byte aligned blocks
EXCCAUSE_NAMES = {0: "illegal instruction", 3: "load/store error", 6: "divide by zero",
                  9: "unaligned load or store", 20: "instruction fetch prohibited",
                  28: "load prohibited", 29: "store prohibited"}


class EmulatorFault(Exception):
    """The emulated core raised an exception or called into the MicroPython runtime."""


@dataclass
class ModuleImage:
    arch: str
    mpy_path: Path
    symbols: dict  # name -> (region, offset), from the link
    build: object  # natmod_build.BuildResult (conftest's built_module shares it)


_IMAGES: dict = {}


def module_image(arch: str) -> ModuleImage:
    """_microtrain.mpy built for arch by `microtrain natmod build`'s code path, once per
    process (into a temporary folder)."""
    if arch not in _IMAGES:
        try:
            natmod_build.find_compiler(get_arch(arch))
        except MicrotrainError as err:
            skip_or_fail(str(err))
        out = Path(tempfile.mkdtemp(prefix=f"microtrain-{arch}-")) / "_microtrain.mpy"
        atexit.register(shutil.rmtree, out.parent, True)
        result = natmod_build.build_module(arch, out, build_dir=out.parent / "build",
                                           log=lambda _: None)
        symbols = {name: (t.region, t.offset) for name, t in result.link.symbols.items()}
        _IMAGES[arch] = ModuleImage(arch, out, symbols, result)
    return _IMAGES[arch]


def find_tool(command: str, package: str) -> str:
    path = shutil.which(command)
    if path is None:
        skip_or_fail(f"{command} not found (Debian package {package})")
    return path


class XtensaCore:
    """One qemu process with the driver and the relocated module loaded."""

    def __init__(self, arch: str, image: ModuleImage, ram_size=0x0010_0000, rom_size=0x1000,
                 timeout_s=600):
        qemu = find_tool(QEMU, "qemu-system-misc")
        llvm_mc = find_tool("llvm-mc-22", "llvm-22")
        self.arch = arch
        self.cpu = QEMU_CPU[arch]
        self.timeout_s = timeout_s
        base = RAM_BASE[self.cpu]
        self.base = base
        self.work = Path(tempfile.mkdtemp(prefix=f"xtensa-{arch}-"))
        windowed = arch == "xtensawin"
        driver = assemble_driver(llvm_mc, windowed, base + DRIVER, base + MAILBOX,
                                 base + STACK_TOP, self.work)
        self.labels = {k: base + DRIVER + v for k, v in driver.labels.items()}
        self.mailbox = base + MAILBOX
        module, self.module_end = self._load_module(image, base + MODULE)
        self.symbols = {name: self.region_base[region] + offset
                        for name, (region, offset) in image.symbols.items()
                        if region in self.region_base}
        self.heap = (base + HEAP, base + HEAP + _round(ram_size) + _round(rom_size))
        assert self.module_end < self.heap[0], "module overlaps the heap"
        elf = self.work / "image.elf"
        write_elf(elf, self.labels["_start"],
                  [(RESET_VECTOR[self.cpu], driver.reset), (base + DRIVER, driver.code),
                   (base + MODULE, module)])
        gdb_socket = self.work / "gdb.sock"
        # -icount: each instruction advances the virtual clock by 2^6 ns, and CCOUNT follows
        # that clock: counts of executed instructions, not of the host's time.
        cmd = [qemu, "-M", "sim", "-cpu", self.cpu, "-display", "none", "-monitor", "none",
               "-serial", "none", "-icount", f"shift={ICOUNT_SHIFT}", *DEBUG,
               "-kernel", str(elf), "-S",
               "-chardev", f"socket,id=gdb0,path={gdb_socket},server=on,wait=off",
               "-gdb", "chardev:gdb0"]
        self.qemu = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.gdb = GdbRemote(gdb_socket)
        except Exception:
            self.close()
            raise
        self.gdb.breakpoint(self.labels["wait_point"])
        self.gdb.breakpoint(self.labels["fault_stop"])
        self.gdb.resume(10)  # the driver's setup, up to its first wait
        self._check_state("the driver's setup", expect_idle=True)
        self.reset()
        self.instructions = None
        self.counting = False  # True: every call counts, as call(count=True)
        self.emulated = 0
        self._calibrate(windowed)

    def _calibrate(self, windowed: bool) -> None:
        """CCOUNT per instruction, the driver's own instructions around a call, and (windowed)
        what one software-executed mulsh costs, from the driver's calibrate functions."""
        own = 2 if windowed else 1  # entry + retw, or ret
        n1, n2 = 1000, 3000
        d1 = self._run(self.labels["calibrate"], [n1])[1]
        d2 = self._run(self.labels["calibrate"], [n2])[1]
        # CCOUNT = virtual ns x the core's clock: 2^6 ns per instruction at a whole number
        # of MHz (40 on both cores), so the ratio is exact once the clock is known.
        mhz = round((d2 - d1) / (2 * (n2 - n1)) * 1000 / 2**ICOUNT_SHIFT)
        self.ccount_per_instruction = 2**ICOUNT_SHIFT * mhz / 1000
        self.driver_overhead = round(d1 / self.ccount_per_instruction) - 2 * n1 - own
        self.mulsh_cost = 0
        if windowed:
            d3, emulated = self._run(self.labels["calibrate_mulsh"], [n1])[1:]
            assert emulated == 1, "the mulsh handler did not run"
            self.mulsh_cost = round((d3 - d1) / self.ccount_per_instruction)

    # -- loading -----------------------------------------------------------------------
    def _load_module(self, image: ModuleImage, at: int):
        """The module's blobs at `at` as MicroPython lays them out, relocated; returns the
        bytes to load there and the end address."""
        mpy = read_mpy(image.mpy_path.read_bytes())
        text = bytearray(mpy.text)
        text_at = at
        rodata_at = _align(text_at + len(text), ALIGN)
        bss_at = _align(rodata_at + mpy.rodata_size, ALIGN)
        qstr_at = _align(bss_at + mpy.bss_size, ALIGN)
        fun_table_at = _align(qstr_at + 2 * len(mpy.qstrs), ALIGN)
        runtime = self.labels["runtime_call"]
        fun_table = [runtime] * FUN_TABLE_ENTRIES
        self.region_base = {"text": text_at, "rodata": rodata_at, "bss": bss_at}
        rodata = bytearray(mpy.rodata)
        bases = {K_TEXT: text_at, K_RODATA: rodata_at, K_BSS: bss_at, K_QSTR_TABLE: qstr_at,
                 K_FUN_TABLE: fun_table_at}
        for r in mpy.relocs:
            blob = text if r.blob == "text" else rodata
            add = bases.get(r.kind)
            if add is None:  # k = 9 + i: the value of mp_fun_table[i]
                add = fun_table[r.kind - K_FUN_VALUE]
            word = struct.unpack_from("<I", blob, r.offset)[0]
            struct.pack_into("<I", blob, r.offset, (word + add) & 0xFFFFFFFF)
        qstrs = struct.pack(f"<{len(mpy.qstrs)}H", *range(len(mpy.qstrs)))
        end = fun_table_at + 4 * FUN_TABLE_ENTRIES
        image = bytearray(end - at)
        for address, data in ((text_at, text), (rodata_at, rodata), (qstr_at, qstrs),
                              (fun_table_at, struct.pack(f"<{FUN_TABLE_ENTRIES}I", *fun_table))):
            image[address - at : address - at + len(data)] = data
        return bytes(image), end

    # -- the Core interface ------------------------------------------------------------
    def reset(self) -> None:
        """Forget every place()d buffer (the memory keeps its bytes)."""
        self.next_free = self.heap[0]

    def place(self, data: bytes, read_only=False) -> int:
        """Copy data into RAM; return its address. read_only is accepted for the unicorn
        Core's interface, but qemu's sim machine has no flash: the data is writable here."""
        at = self.next_free
        end = _align(at + len(data), ALIGN)
        if end > self.heap[1]:
            raise MemoryError(f"{len(data)} bytes do not fit the emulator's RAM: give "
                              "XtensaCore a larger size")
        if data:
            self.gdb.write(at, bytes(data))
        self.next_free = end
        return at

    def write(self, at: int, data: bytes) -> None:
        self.gdb.write(at, bytes(data))

    def read(self, at: int, n: int) -> bytes:
        return self.gdb.read(at, n)

    def function_at(self, pc: int) -> str:
        below = [(at, name) for name, at in self.symbols.items() if at <= pc]
        return max(below)[1] if below else "?"

    def call(self, function: str, *args: int, count=False, timeout_s=None) -> int:
        """Call a module function with word arguments; return its (u32) result.
        self.instructions: executed instructions of the call (CCOUNT under -icount, less the
        software-executed mulsh/muluh's handler, counted as one instruction each)."""
        if len(args) > N_ARGS:
            raise ValueError(f"the driver passes at most {N_ARGS} arguments")
        if function not in self.symbols:
            raise KeyError(f"{function} is not in the linked module")
        result, ccount, emulated = self._run(self.symbols[function], args, function, timeout_s)
        self.emulated = emulated
        self.instructions = None
        if count or self.counting:
            executed = round(ccount / self.ccount_per_instruction) - self.driver_overhead
            # A software-executed mulsh/muluh is one instruction on the chips.
            self.instructions = executed - emulated * (self.mulsh_cost - 1)
        return result

    def call_driver(self, label: str, *args: int) -> int:
        """Call one of the driver's own functions (calibrate, probe_mulsh, ...)."""
        result, _, self.emulated = self._run(self.labels[label], args, label)
        return result

    def _run(self, address: int, args, what="", timeout_s=None):
        """(result, CCOUNT difference, mulsh/muluh executed in software) of one call."""
        words = [address, *args, *[0] * (N_ARGS - len(args))]
        self.gdb.write(self.mailbox + MB_FUNCTION,
                       struct.pack(f"<{1 + N_ARGS}I", *[w & 0xFFFFFFFF for w in words]))
        self.gdb.write(self.mailbox + MB_STATE, bytes(MB_SIZE - MB_STATE))
        self.gdb.resume(timeout_s or self.timeout_s)
        self._check_state(what or f"the call of {address:#x}")
        box = self.gdb.read(self.mailbox, MB_SIZE)
        return tuple(struct.unpack_from("<I", box, o)[0]
                     for o in (MB_RESULT, MB_CCOUNT, MB_EMULATED))

    def _check_state(self, what: str, expect_idle=False) -> int:
        box = self.gdb.read(self.mailbox, MB_SIZE)
        state, cause, epc, vaddr = (struct.unpack_from("<I", box, o)[0]
                                    for o in (MB_STATE, MB_EXCCAUSE, MB_EPC1, MB_EXCVADDR))
        if state in (STATE_FAULT, STATE_RUNTIME_CALL):
            self.gdb.resume(10)  # the driver starts over and waits: the core stays usable
        if state == STATE_FAULT:
            name = EXCCAUSE_NAMES.get(cause, f"EXCCAUSE {cause}")
            raise EmulatorFault(f"{what} on {self.arch} ({self.cpu}): {name} at pc {epc:#x} "
                                f"in {self.function_at(epc)}, address {vaddr:#x}")
        if state == STATE_RUNTIME_CALL:
            raise EmulatorFault(f"{what} on {self.arch} called into the MicroPython runtime "
                                "(mp_fun_table), which the kernels must not need")
        if expect_idle:
            return state
        if state != STATE_DONE:
            raise EmulatorFault(f"{what} on {self.arch}: the core stopped in state {state}")
        return state

    def close(self) -> None:
        if getattr(self, "gdb", None) is not None:
            self.gdb.close()
        if self.qemu.poll() is None:
            self.qemu.kill()
        self.qemu.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def _align(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def _round(n: int) -> int:
    return _align(max(n, 1), 0x1000)
