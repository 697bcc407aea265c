# SPDX-License-Identifier: MIT
"""The forward kernels and their adapters compile warning-free for x64 and Cortex-M0/M3/M4 with
the natmod flags, and hold no writable data (a .mpy cannot carry .data or .bss)."""

import shutil
import subprocess

import pytest
from elftools.elf.elffile import ELFFile

from conftest import ROOT, skip_or_fail
from microtrain_tools.mpy.arches import COMMON_CFLAGS, get_arch

KERNELS = ROOT / "natmod" / "kernels"
OPS = ROOT / "natmod" / "ops"
SOURCES = [
    KERNELS / "mt_check.c",
    KERNELS / "mt_dot_sum_s8.c",
    *(KERNELS / f"mt_{op}_s8_fwd.c" for op in ("conv2d", "pwconv2d", "dwconv2d", "fc", "add",
                                                "avgpool")),
    KERNELS / "mt_dequant_s8_f32.c",
    OPS / "mt_op_args.c",
    *(OPS / f"mt_op_{op}.c" for op in ("conv2d", "pwconv2d", "dwconv2d", "fc", "add", "avgpool",
                                       "dequant")),
]


def undefined_and_writable(path):
    with open(path, "rb") as f:
        elf = ELFFile(f)
        writable = [
            s.name
            for s in elf.iter_sections()
            if s.name.startswith((".data", ".bss")) and s["sh_size"] > 0
        ]
        symtab = elf.get_section_by_name(".symtab")
        undefined = {
            s.name for s in symtab.iter_symbols() if s["st_shndx"] == "SHN_UNDEF" and s.name
        }
    return undefined, writable


@pytest.mark.parametrize("arch", ["x64", "armv6m", "armv7m", "armv7emsp"])
def test_forward_kernels_compile_clean_without_writable_data(arch, tmp_path):
    a = get_arch(arch)
    if shutil.which(a.cc) is None:
        skip_or_fail(f"{a.cc} not found (Debian package {a.package})")
    # One compiler run for all files (-c writes one object per source into cwd).
    cmd = [a.cc, *COMMON_CFLAGS, *a.cflags, "-Werror", "-c", *map(str, SOURCES)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
    for src in SOURCES:
        undefined, writable = undefined_and_writable(tmp_path / (src.stem + ".o"))
        assert not writable, f"{src.name} for {arch} has writable data: {writable}"
        # Only our own functions and the compiler's arithmetic helpers; no libc (memcpy, ...).
        foreign = {s for s in undefined if not s.startswith(("mt_", "__aeabi_", "_GLOBAL_"))}
        assert not foreign, f"{src.name} for {arch} calls {sorted(foreign)}"
