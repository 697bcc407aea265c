# SPDX-License-Identifier: MIT
"""Every zero-overhead loop in the xtensawin module starts its body word-aligned.

The Xtensa ISA requires the first instruction of a `loop`/`loopnez`/`loopgtz` body not to cross
an instruction-fetch boundary (4 bytes on ESP32 and ESP32-S3: XCHAL_INST_FETCH_WIDTH in their
core-isa.h). GNU as pads for it; llvm-mc, which assembles this module, does not, and qemu runs a
misaligned loop correctly, so the kernel tests cannot see it. The MAC16 kernels
(natmod/kernels/mt_xtensa_dot.c) place their loop bodies at 0 mod 4 of their sections; this
test checks that in the linked module: each object of the build is disassembled, each loop's
section is found in the text blob by the link's section map (its bytes there compared), and
the body's offset in the blob must be a multiple of 4 (MicroPython places the blob word-aligned).
"""

import re
import shutil
import subprocess

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from conftest import skip_or_fail
from microtrain_tools.mpy.reader import read_mpy
from xtensa_core import module_image

LOOPS = ("loop", "loopnez", "loopgtz")
SECTION = re.compile(r"^Disassembly of section (\S+):$")
INSTRUCTION = re.compile(r"^\s*([0-9a-f]+):\s+((?:[0-9a-f]{2} )+)\s*(\S+)")


def code_sections(obj_path) -> list[str]:
    """The object's instruction sections: executable, less the literal pools (data that
    llvm-objdump 22 crashes on when it decodes it as code)."""
    with open(obj_path, "rb") as f:
        return [s.name for s in ELFFile(f).iter_sections()
                if s["sh_flags"] & SH_FLAGS.SHF_EXECINSTR and s["sh_size"]
                and not s.name.startswith(".literal")]


def loops_in(objdump: str, obj_path):
    """(section, offset in section, the instruction's bytes) of each loop instruction."""
    sections = code_sections(obj_path)
    if not sections:
        return
    out = subprocess.run([objdump, "--mcpu=esp32", "-d", str(obj_path),
                          *(f"--section={name}" for name in sections)],
                         capture_output=True, text=True, check=True).stdout
    section = None
    for line in out.splitlines():
        m = SECTION.match(line)
        if m:
            section = m.group(1)
            continue
        m = INSTRUCTION.match(line)
        if m and m.group(3) in LOOPS:
            yield section, int(m.group(1), 16), bytes.fromhex(m.group(2))


def misaligned_loops(image) -> tuple[list, int]:
    objdump = shutil.which("llvm-objdump-22")
    if objdump is None:
        skip_or_fail("llvm-objdump-22 not found (Debian package llvm-22)")
    text = read_mpy(image.mpy_path.read_bytes()).text
    placed = image.build.link.sections
    bad, found = [], 0
    for obj in image.build.objects:
        for section, at, code in loops_in(objdump, obj):
            key = f"{obj.name}:{section}"
            if key not in placed:  # a section the link dropped
                continue
            found += 1
            where = placed[key] + at
            assert text[where:where + len(code)] == code, f"{key}+{at:#x} is not at {where:#x}"
            body = where + len(code)
            if body % 4:
                bad.append(f"{key}+{at:#x}: body at text offset {body:#x}")
    return bad, found


def test_loop_bodies_start_word_aligned():
    bad, found = misaligned_loops(module_image("xtensawin"))
    assert found >= 3, f"only {found} zero-overhead loops in the module (the MAC16 kernels have 3)"
    assert not bad, "zero-overhead loop bodies not word-aligned:\n" + "\n".join(bad)
