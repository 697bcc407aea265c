# SPDX-License-Identifier: MIT
"""Whole training programs on the boards' code paths, emulated (microtrain_tools/emulator/
programs.py: its docstring says what runs where), plus

- the ESP8266 and ESP32 modules themselves on qemu's Xtensa cores (tests/xtensa_core.py: the
  built .mpy relocated as MicroPython loads it; no flash there, the weights and programs are in
  writable RAM);
- x64 once per SIMD level of the kernels, natively: "x64" takes the CPU's best (AVX2 here),
  "x64-sse41" and "x64-portable" are builds capped at that level (tests/x64_levels.py; unicorn
  emulates no AVX2).

A missing tool skips outside CI and fails in it.
"""

from bare_metal import missing_tool_skips
from microtrain_tools.emulator import programs as _programs
from microtrain_tools.emulator.programs import (
    N_REGIONS,
    BoardModel,
    NativeModel,
    ProgramFailed,
    module_flags,
)
from x64_levels import level_flags, require_level
from xtensa_core import XTENSA_ARCHES, XtensaCore, module_image

CORES = (*_programs.CORES, *XTENSA_ARCHES)  # emulated
# The native x64 builds: arch name -> the SIMD level it is capped at (None: the CPU's best).
X64_BUILDS = {"x64": None, "x64-sse41": "sse4.1", "x64-portable": "portable"}


def build_program_image(arch: str, out_dir, opt: str = "size"):
    if arch in XTENSA_ARCHES:
        return module_image(arch)
    with missing_tool_skips():
        if arch in X64_BUILDS and X64_BUILDS[arch] is not None:
            level = X64_BUILDS[arch]
            require_level(level)
            return _programs._build_x64_library(out_dir, opt, level_flags(level), arch)
        return _programs.build_program_image(arch, out_dir, opt)


class EmulatedModel(_programs.EmulatedModel):
    def __init__(self, arch, elf, compiled):
        with missing_tool_skips():
            if arch in XTENSA_ARCHES:
                super().__init__(arch, elf, compiled, core_class=XtensaCore)
            else:
                super().__init__(arch, elf, compiled)


def board_model(arch: str, image, compiled):
    if arch in XTENSA_ARCHES:
        return EmulatedModel(arch, image, compiled)
    if arch in X64_BUILDS:
        return NativeModel(image, compiled)
    with missing_tool_skips():
        return _programs.board_model(arch, image, compiled)
