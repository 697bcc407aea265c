# SPDX-License-Identifier: MIT
"""A bare-metal image of natmod/kernels + natmod/ops, and one emulated core running it.

    elf = build_image("armv7emsp", out_dir, flags=...)
    core = Core("armv7emsp", elf)
    at = core.place(data)                    # bytes into emulator RAM, 16-byte aligned
    status = core.call("mt_op_run", id, ...) # the C function, its arguments in registers/stack
"""

import shutil
import struct
import subprocess

from elftools.elf.elffile import ELFFile

from ..mpy.arches import get_arch
from ..errors import MicrotrainError
from ..paths import NATMOD_DIR

TEXT = 0x0001_0000
STACK = 0x0080_0000
STACK_SIZE = 0x0001_0000
STOP = 0x0090_0000  # return address of a call: the emulator stops on reaching it
ROM = 0x0100_0000  # read-only memory, as a board's flash: writes fault
RAM = 0x1000_0000
ALIGN = 16  # MicroPython's heap gives 16-byte aligned blocks on 32-bit ports

# Every image holds the op table; the executor of whole programs is in natmod/ops too.
SOURCE_DIRS = ("kernels", "ops")

# Test flags of the single-op images: the module's warnings and optimisation, no -fpic.
# Loops become calls to memcpy/memset otherwise, including inside the harness's own memcpy.
OP_TEST_FLAGS = ("-std=c99", "-Os", "-Wall", "-Wextra", "-ffreestanding",
                 "-fno-tree-loop-distribute-patterns")

# What a board's C library gives any image; gcc may call these for struct copies.
HARNESS_LIBC = """
#include <stddef.h>
void *memcpy(void *d, const void *s, size_t n) {
    unsigned char *dp = d;
    const unsigned char *sp = s;
    while (n--) *dp++ = *sp++;
    return d;
}
void *memset(void *d, int v, size_t n) {
    unsigned char *dp = d;
    while (n--) *dp++ = (unsigned char)v;
    return d;
}
"""


class MissingTool(MicrotrainError):
    """A cross compiler or unicorn is not installed; the message says what to install."""


class EmulatorFault(Exception):
    """The emulated core stopped on a fault: a bad address, a write into read-only memory."""


def find_cc(arch: str) -> str:
    a = get_arch(arch)
    cc = shutil.which(a.cc)
    if cc is None:
        raise MissingTool(f"{a.cc} not found (Debian package {a.package})")
    return cc


def build_image(arch: str, out_dir, *, flags=OP_TEST_FLAGS, libc=None, entry="mt_op_run"):
    """Link natmod/kernels + natmod/ops for `arch` into a bare-metal ELF at TEXT.

    flags: compiler flags (the arch's own -mcpu/-mfloat-abi flags are added unless they are
    already there); libc: a C file giving memcpy/memset (default: a plain one written here)."""
    a = get_arch(arch)
    cc = find_cc(arch)
    sources = [p for d in SOURCE_DIRS for p in sorted((NATMOD_DIR / d).glob("*.c"))]
    if libc is None:
        libc = out_dir / "harness_libc.c"
        libc.write_text(HARNESS_LIBC)
    elf = out_dir / f"{entry}-{arch}.elf"
    arch_flags = [f for f in a.cflags if f not in flags]
    cmd = [cc, *flags, *arch_flags, "-nostdlib", "-nostartfiles", f"-Wl,-e,{entry}",
           f"-Wl,-Ttext={TEXT:#x}", "-o", str(elf), *map(str, sources), str(libc), "-lgcc"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MicrotrainError(f"building the {arch} image failed:\n{' '.join(cmd)}\n"
                              f"{proc.stderr}")
    return elf


def instruction_count(code: bytes, thumb: bool) -> int:
    """How many instructions a straight run of code bytes holds (Thumb-2 or RISC-V C lengths)."""
    n, pos = 0, 0
    while pos < len(code):
        if thumb:
            (half,) = struct.unpack_from("<H", code, pos)
            pos += 4 if half >> 11 in (0b11101, 0b11110, 0b11111) else 2
        else:
            pos += 4 if code[pos] & 3 == 3 else 2
        n += 1
    return n


def import_unicorn():
    try:
        import unicorn
    except ImportError as err:
        raise MissingTool(f"unicorn is not installed ({err}): `pip install unicorn==2.1.4` "
                          "(the `profile` extra of microtrain-tools; `make venv` has it)") from None
    return unicorn


class Core:
    """One emulated core with a bare-metal image loaded; RAM handed out by place()."""

    def __init__(self, arch: str, elf_path, ram_size=0x0010_0000, rom_size=0x1000):
        unicorn = import_unicorn()
        self.unicorn = unicorn
        self.arch = arch
        self.thumb = arch.startswith("arm")
        if self.thumb:
            import unicorn.arm_const as c

            cpu = {"armv6m": c.UC_CPU_ARM_CORTEX_M0, "armv7m": c.UC_CPU_ARM_CORTEX_M3,
                   "armv7emsp": c.UC_CPU_ARM_CORTEX_M4, "armv7emdp": c.UC_CPU_ARM_CORTEX_M7}[arch]
            mode = unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS
            self.uc = unicorn.Uc(unicorn.UC_ARCH_ARM, mode)
            self.uc.ctl_set_cpu_model(cpu)
            self.arg_regs = [c.UC_ARM_REG_R0, c.UC_ARM_REG_R1, c.UC_ARM_REG_R2, c.UC_ARM_REG_R3]
            self.sp, self.ra, self.pc = c.UC_ARM_REG_SP, c.UC_ARM_REG_LR, c.UC_ARM_REG_PC
        else:
            import unicorn.riscv_const as c

            self.uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV32)
            self.arg_regs = [getattr(c, f"UC_RISCV_REG_A{i}") for i in range(8)]
            self.sp, self.ra, self.pc = c.UC_RISCV_REG_SP, c.UC_RISCV_REG_RA, c.UC_RISCV_REG_PC
        self.c = c
        self.symbols = self._load(elf_path)
        uc = self.uc
        for base, size in ((STACK, STACK_SIZE), (STOP, 0x1000)):
            uc.mem_map(base, size)
        uc.mem_map(RAM, _pages(ram_size))
        uc.mem_map(ROM, _pages(rom_size), unicorn.UC_PROT_READ | unicorn.UC_PROT_EXEC)
        self.ram_end, self.rom_end = RAM + _pages(ram_size), ROM + _pages(rom_size)
        self.reset()
        if arch in ("armv7emsp", "armv7emdp"):
            # Enable the FPU (CPACR CP10/CP11 full access), as a board's startup code does.
            uc.mem_map(0xE000_E000, 0x1000)
            uc.mem_write(0xE000_ED88, struct.pack("<I", 0xF << 20))
            uc.reg_write(c.UC_ARM_REG_C1_C0_2, 0xF << 20)
        self.instructions = None  # set by call(count=True)
        self.segments = None  # set by call(split_at=...)

    def _load(self, elf_path) -> dict:
        with open(elf_path, "rb") as f:
            elf = ELFFile(f)
            segments = [(s["p_vaddr"], s.data(), s["p_memsz"]) for s in elf.iter_segments()
                        if s["p_type"] == "PT_LOAD"]
            symbols = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab")
                       .iter_symbols() if s["st_info"]["type"] == "STT_FUNC"}
        lo = min(v for v, _, _ in segments) & ~0xFFF
        hi = max(v + m for v, _, m in segments)
        if hi >= STACK:
            raise MicrotrainError(f"image too large: ends at {hi:#x}")
        self.uc.mem_map(lo, _pages(hi - lo))
        for vaddr, data, memsz in segments:
            self.uc.mem_write(vaddr, data + bytes(memsz - len(data)))
        return symbols

    def reset(self) -> None:
        """Forget every place()d buffer (the memory keeps its bytes)."""
        self.next_ram, self.next_rom = RAM, ROM

    def place(self, data: bytes, read_only=False) -> int:
        """Copy data into RAM (or the read-only ROM); return its address."""
        at = self.next_rom if read_only else self.next_ram
        end = (at + len(data) + ALIGN - 1) & ~(ALIGN - 1)
        if end > (self.rom_end if read_only else self.ram_end):
            raise MemoryError(f"{len(data)} bytes do not fit the emulator's "
                              f"{'ROM' if read_only else 'RAM'}: give Core a larger size")
        if data:
            # ROM is written through unicorn's host-side API, which ignores the protection.
            self.uc.mem_write(at, bytes(data))
        if read_only:
            self.next_rom = end
        else:
            self.next_ram = end
        return at

    def read(self, at: int, n: int) -> bytes:
        return bytes(self.uc.mem_read(at, n))

    def write(self, at: int, data: bytes) -> None:
        self.uc.mem_write(at, bytes(data))

    def function_at(self, pc: int) -> str:
        below = [(at & ~1, name) for name, at in self.symbols.items() if at & ~1 <= pc]
        return max(below)[1] if below else "?"

    def call(self, function: str, *args: int, count=False, split_at=None, timeout_s=600) -> int:
        """Call a C function of the image with word arguments; return its (u32) result.

        count=True counts the instructions it executes into self.instructions (a block hook:
        several times slower). split_at="fn" (implies count) also splits the count at each
        entry into function fn: self.segments[0] is what ran before the first entry,
        self.segments[k] what ran from the k-th entry to the next one."""
        uc = self.uc
        sp = STACK + STACK_SIZE - 256
        stacked = list(args[len(self.arg_regs):])
        uc.mem_write(sp, struct.pack(f"<{len(stacked)}I", *[v & 0xFFFFFFFF for v in stacked]))
        for reg, value in zip(self.arg_regs, args):
            uc.reg_write(reg, value & 0xFFFFFFFF)
        uc.reg_write(self.sp, sp)
        uc.reg_write(self.ra, STOP | self.thumb)
        hook = None
        if count or split_at:
            split = self.symbols[split_at] & ~1 if split_at else None
            segments = [{}]

            def on_block(uc_, address, size, _):
                if address == split:
                    segments.append({})
                blocks = segments[-1]
                key = (address, size)
                blocks[key] = blocks.get(key, 0) + 1

            hook = uc.hook_add(self.unicorn.UC_HOOK_BLOCK, on_block)
            uc.ctl_flush_tb()  # blocks translated before the hook would not call it
        try:
            uc.emu_start(self.symbols[function] | self.thumb, STOP,
                         timeout=int(timeout_s * 1_000_000))
        except self.unicorn.UcError as err:
            pc = uc.reg_read(self.pc) & ~1
            raise EmulatorFault(f"{function} on {self.arch}: {err} in {self.function_at(pc)} "
                                f"(pc {pc:#x})") from None
        finally:
            if hook is not None:
                uc.hook_del(hook)
                uc.ctl_flush_tb()
        pc = uc.reg_read(self.pc) & ~1
        if pc != STOP:
            raise TimeoutError(f"{function} on {self.arch} did not return within {timeout_s} s "
                               f"(pc {pc:#x})")
        if hook is not None:
            sizes = {}  # instructions per distinct block, decoded once

            def total(blocks):
                n = 0
                for key, times in blocks.items():
                    if key not in sizes:
                        sizes[key] = instruction_count(self.read(*key), self.thumb)
                    n += times * sizes[key]
                return n

            self.segments = [total(b) for b in segments]
            self.instructions = sum(self.segments)
        return uc.reg_read(self.arg_regs[0])


def _pages(n: int) -> int:
    return max((n + 0xFFF) & ~0xFFF, 0x1000)
