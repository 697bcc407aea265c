# SPDX-License-Identifier: MIT
"""Every natmod C file compiles without a warning (-Wall -Wextra) for every buildable arch."""

import pytest
from microtrain_tools.mpy.arches import COMMON_CFLAGS


def test_flags_ask_for_warnings():
    assert "-Wall" in COMMON_CFLAGS and "-Wextra" in COMMON_CFLAGS


@pytest.mark.parametrize(
    "arch", ["armv6m", "armv7m", "armv7emsp", "armv7emdp", "rv32imc", "xtensa", "xtensawin", "x64"]
)
def test_no_compiler_warnings(built_module, arch):
    built_module(arch)
    warnings = built_module.results[arch].warnings
    assert not warnings, "\n".join(f"{src}:\n{text}" for src, text in warnings.items())
    assert len(built_module.results[arch].objects) > 10
