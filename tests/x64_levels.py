# SPDX-License-Identifier: MIT
"""The x64 SIMD levels of the kernels (natmod/kernels/mt_x64.h): build flags that cap a build at
a level, whether this CPU has it, and a fixture that runs a test once per level on the host
library (hostlib rebuilt with -DMT_X64_SIMD_MAX=N, then put back).

unicorn (QEMU 5 TCG) emulates no AVX2, so every level runs natively here: a build capped at a
level takes exactly that level's path on a CPU that has it (mt_x64_level() says which).
"""

import platform
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import skip_or_fail

LEVELS = {"portable": 0, "sse4.1": 1, "avx2": 2}
CPU_FLAGS = {"portable": None, "sse4.1": "sse4_1", "avx2": "avx2"}


def level_flags(name: str) -> tuple:
    return (f"-DMT_X64_SIMD_MAX={LEVELS[name]}",)


def cpu_has(name: str) -> bool:
    if platform.machine() != "x86_64":
        return False
    flag = CPU_FLAGS[name]
    if flag is None:
        return True
    text = Path("/proc/cpuinfo").read_text()
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                  if line.startswith("flags")), [])
    return flag in flags


def require_level(name: str) -> None:
    if not cpu_has(name):
        skip_or_fail(f"this CPU ({platform.machine()}) has no {name}: that x64 path cannot run")


@contextmanager
def host_library_at(name: str):
    """hostlib built and loaded at level `name`; the default build is loaded again after."""
    from microtrain_tools.sim import hostlib

    require_level(name)
    saved = hostlib.EXTRA_CFLAGS
    hostlib.EXTRA_CFLAGS = level_flags(name)
    try:
        lib = hostlib.library(reload=True)
        assert lib.mt_x64_level() == LEVELS[name], f"the {name} build took another path"
        yield lib
    finally:
        hostlib.EXTRA_CFLAGS = saved
        hostlib.library(reload=True)


@pytest.fixture(params=list(LEVELS))
def x64_level(request):
    """Runs the test with the host library at each x64 level; the level's name."""
    with host_library_at(request.param):
        yield request.param
