# SPDX-License-Identifier: MIT
"""Whole training programs on the boards' code paths, emulated (microtrain_tools/emulator/
programs.py: its docstring says what runs where); a missing tool skips outside CI, fails in it.
"""

from bare_metal import missing_tool_skips
from microtrain_tools.emulator import programs as _programs
from microtrain_tools.emulator.programs import (  # noqa: F401  (the tests' names)
    CORES, N_REGIONS, BoardModel, NativeModel, ProgramFailed, module_flags)


def build_program_image(arch: str, out_dir, opt: str = "size"):
    with missing_tool_skips():
        return _programs.build_program_image(arch, out_dir, opt)


class EmulatedModel(_programs.EmulatedModel):
    def __init__(self, *args, **kwargs):
        with missing_tool_skips():
            super().__init__(*args, **kwargs)


def board_model(arch: str, image, compiled):
    with missing_tool_skips():
        return _programs.board_model(arch, image, compiled)
