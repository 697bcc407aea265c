# SPDX-License-Identifier: MIT
"""The op table (and the program executor) linked into a bare-metal image and run in the unicorn
CPU emulator: Cortex-M0, M3, M4, M7 (Thumb) and RV32 cores, no firmware, no MicroPython
(microtrain_tools/emulator/core.py, which `microtrain profile` uses too).

    elf = build_image("armv7emsp", out_dir, flags=module_flags("armv7emsp"))
    core = Core("armv7emsp", elf)
    at = core.place(data)                    # bytes into emulator RAM, 16-byte aligned
    status = core.call("mt_op_run", id, ...) # the C function, its arguments in registers/stack

Missing tools (a cross compiler, unicorn) skip the test outside CI and fail it under CI=true.
"""

from contextlib import contextmanager

from conftest import skip_or_fail
from microtrain_tools.emulator import core as _core
from microtrain_tools.emulator.core import (
    ALIGN,
    OP_TEST_FLAGS,
    RAM,
    ROM,
    EmulatorFault,
    MissingTool,
)


@contextmanager
def missing_tool_skips():
    try:
        yield
    except MissingTool as err:
        skip_or_fail(str(err))


def find_cc(arch: str) -> str:
    with missing_tool_skips():
        return _core.find_cc(arch)


def build_image(arch: str, out_dir, **kwargs):
    with missing_tool_skips():
        return _core.build_image(arch, out_dir, **kwargs)


class Core(_core.Core):
    def __init__(self, *args, **kwargs):
        with missing_tool_skips():
            super().__init__(*args, **kwargs)


def build_driver_image(arch: str, out_dir, sources, driver: str, defines=()):
    """A small image of a test's own C driver (text) and sources, linked with libgcc: the
    driver's functions are called with Core.call (the first one named is the entry)."""
    import subprocess

    from microtrain_tools.emulator.core import TEXT
    from microtrain_tools.mpy.arches import get_arch

    (out_dir / "driver.c").write_text(driver)
    elf = out_dir / f"driver-{arch}.elf"
    cmd = [find_cc(arch), *OP_TEST_FLAGS, "-Werror", *get_arch(arch).cflags, *defines,
           f"-I{_core.NATMOD_DIR / 'kernels'}", "-nostdlib", "-nostartfiles",
           f"-Wl,-Ttext={TEXT:#x}", "-o", str(elf), *map(str, sources),
           str(out_dir / "driver.c"), "-lgcc"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return elf
