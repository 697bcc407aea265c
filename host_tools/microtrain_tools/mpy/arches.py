# SPDX-License-Identifier: MIT
"""The one table of target architectures: .mpy arch code, word size, compiler and its flags.

Everything that builds or links for an arch (the natmod build, the linker, the packer, the
board files) reads this table, so there is no second list to keep in step.
Facts from ../shared/NATMOD_FACTS.md sections 1.2 and 4.
"""

from dataclasses import dataclass, field

from ..errors import MicrotrainError

# Flags every natmod object is compiled with: position independent, no common symbols,
# no unwind tables, and each function in its own section so that mpy_init can go first.
COMMON_CFLAGS = (
    "-std=c99",
    # Size over speed: on bare-metal ports the module's code is copied into RAM at import.
    # -O2 runs the kernels 1.25-2.2x faster on a Cortex-M4 for about 4 KB more (docs/bench.md).
    "-Os",
    "-Wall",
    "-Wextra",
    "-fpic",
    "-fno-common",
    "-ffunction-sections",
    "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables",
    "-U_FORTIFY_SOURCE",
    "-ffreestanding",
    "-fno-builtin-printf",
)

# Optimisation levels a module can be built at (`microtrain natmod build --opt`, a board's
# `opt`): flags added after COMMON_CFLAGS (gcc takes the last -O). "size" is the default;
# "speed" costs a few KB of RAM on bare-metal ports for 1.25-2.2x faster kernels on a Cortex-M4.
OPT_FLAGS = {"size": (), "speed": ("-O2",)}
DEFAULT_OPT = "size"


def check_opt(opt: str) -> str:
    if opt not in OPT_FLAGS:
        raise MicrotrainError(f"unknown optimisation level {opt!r}; known: {', '.join(OPT_FLAGS)}")
    return opt


def build_name(arch_name: str, opt: str) -> str:
    """The folder name of a build: the arch, with -speed for an -O2 build (build/, dist/)."""
    return arch_name if opt == DEFAULT_OPT else f"{arch_name}-{opt}"


@dataclass(frozen=True)
class Arch:
    name: str
    mpy_code: int  # bits 5..2 of header byte 2
    word_size: int
    elf_machine: str  # pyelftools' e_machine name
    cc: str  # compiler command (Debian package names in `package`)
    cflags: tuple = field(default_factory=tuple)
    package: str = ""  # Debian package that provides cc
    float_abi: str = "soft"  # how floats cross the runtime's function table
    needs_libgcc: bool = False  # soft helpers (division, float) come from libgcc
    mp_float_double: bool = False  # what MICROPY_FLOAT_IMPL defaults to on such firmware
    note: str = ""
    # LLVM arches: cc (clang) writes LLVM IR, `llc` with llc_flags compiles it to assembly and
    # `llvm_mc` with mc_flags assembles that (llvm_compile.py says why three steps).
    llc: str = ""
    llc_flags: tuple = ()
    llvm_mc: str = ""
    mc_flags: tuple = ()
    pic: bool = True  # -fpic (LLVM's Xtensa backend has no PIC: literals hold addresses)
    separate_rodata: bool = False  # rodata is its own blob (code memory is word-access only)

    @property
    def header_byte2(self) -> int:
        return (self.mpy_code << 2) | 3


ARCHES = {
    a.name: a
    for a in (
        Arch(
            "x64",
            2,
            8,
            "EM_X86_64",
            "gcc",
            ("-fno-stack-protector",),
            package="gcc",
            float_abi="sse",
            mp_float_double=True,
        ),
        Arch(
            "armv6m",
            4,
            4,
            "EM_ARM",
            "arm-none-eabi-gcc",
            ("-mthumb", "-mcpu=cortex-m0", "-mfloat-abi=soft"),
            package="gcc-arm-none-eabi",
            needs_libgcc=True,
        ),
        Arch(
            "armv7m",
            5,
            4,
            "EM_ARM",
            "arm-none-eabi-gcc",
            ("-mthumb", "-mcpu=cortex-m3", "-mfloat-abi=soft"),
            package="gcc-arm-none-eabi",
            needs_libgcc=True,
        ),
        Arch(
            "armv7emsp",
            7,
            4,
            "EM_ARM",
            "arm-none-eabi-gcc",
            ("-mthumb", "-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"),
            package="gcc-arm-none-eabi",
            float_abi="hard",
            needs_libgcc=True,
        ),
        Arch(
            "armv7emdp",
            8,
            4,
            "EM_ARM",
            "arm-none-eabi-gcc",
            ("-mthumb", "-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard"),
            package="gcc-arm-none-eabi",
            float_abi="hard",
            needs_libgcc=True,
            mp_float_double=True,
        ),
        Arch(
            "xtensa",
            9,
            4,
            "EM_XTENSA",
            "xtensa-lx106-elf-gcc",
            ("-mforce-l32", "-mlongcalls"),
            package="gcc-xtensa-lx106",
            needs_libgcc=True,
        ),
        Arch(
            "xtensawin",
            10,
            4,
            "EM_XTENSA",
            "clang-22",
            # No fused multiply-add (madd.s): the host computes every float op rounded.
            # clang's bare xtensa target defines no ABI macro (llc picks the CPU): define the
            # one Espressif's gcc defines for these cores (the kernels' MT_XTENSA_MAC16 paths).
            ("--target=xtensa", "-ffp-contract=off", "-fomit-frame-pointer",
             "-D__XTENSA_WINDOWED_ABI__=1"),
            package="clang-22 llvm-22",
            float_abi="soft",  # the Xtensa ABI passes floats in address registers
            llc="llc-22",
            llc_flags=("-march=xtensa", "-mcpu=esp32", "-relocation-model=static",
                       "-function-sections"),
            llvm_mc="llvm-mc-22",
            mc_flags=("-arch=xtensa", "-mcpu=esp32"),
            pic=False,
            separate_rodata=True,
        ),
        Arch(
            "rv32imc",
            11,
            4,
            "EM_RISCV",
            "riscv64-unknown-elf-gcc",
            ("-march=rv32imac", "-mabi=ilp32", "-mno-relax"),
            package="gcc-riscv64-unknown-elf",
            needs_libgcc=True,
        ),
    )
}


def get_arch(name: str) -> Arch:
    try:
        return ARCHES[name]
    except KeyError:
        known = ", ".join(ARCHES)
        raise MicrotrainError(f"unknown arch {name!r}; known arches: {known}") from None


def arch_by_code(code: int) -> Arch | None:
    for a in ARCHES.values():
        if a.mpy_code == code:
            return a
    return None
