# SPDX-License-Identifier: MIT
"""ARM Thumb arches: link the fixture module with libgcc, check its words, branch targets,
and run every export in the emulator (Cortex-M0/M3/M4; A15 in Thumb state for doubles)."""

import re
import subprocess

import pytest
from linker_fixtures.build import build_fixture_module, require_tool, require_unicorn
from linker_fixtures.checks import check_linked_words, run_expected
from linker_fixtures.emulator import Machine

ARM_ARCHES = ["armv6m", "armv7m", "armv7emsp", "armv7emdp"]


@pytest.fixture(scope="module", params=ARM_ARCHES)
def linked(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    result, _ = build_fixture_module(request.param, out)
    return request.param, result


def test_words_and_entry(linked):
    _, result = linked
    check_linked_words(result, 4)


def test_libgcc_members_pulled_only_as_needed(linked):
    arch, result = linked
    members = " ".join(result.members)
    assert "ldivmod" in members  # 64-bit division
    if arch == "armv6m":
        assert "_thumb1_case_" in members and "udivsi3" in members
    if arch == "armv7emdp":
        assert "addsf3" not in members and "muldf3" not in members  # hardware FPU


def test_every_bl_lands_on_a_function(linked, tmp_path):
    _, result = linked
    objdump = require_tool("arm-none-eabi-objdump", "binutils-arm-none-eabi")
    from microtrain_tools.mpy.reader import read_mpy

    blob = tmp_path / "text.bin"
    blob.write_bytes(read_mpy(result.out_path.read_bytes()).text)
    starts = {t.offset & ~1 for t in result.symbols.values() if t.region == "text"}
    listing = subprocess.run(
        [objdump, "-D", "-b", "binary", "-marm", "-Mforce-thumb", str(blob)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    targets = [int(m, 16) for m in re.findall(r"\tbl\t0x([0-9a-f]+)", listing)]
    assert len(targets) >= 8  # -O2 inlines more calls than -Os: fewer, but still several
    # Data words disassembled as code can look like bl; real calls all hit function starts.
    hits = sum(t in starts for t in targets)
    assert hits >= 8 and hits / len(targets) > 0.9, (hits, len(targets))


def test_runs_in_emulator(linked):
    require_unicorn()
    arch, result = linked
    from microtrain_tools.mpy.reader import read_mpy

    run_expected(Machine(arch, read_mpy(result.out_path.read_bytes())))
