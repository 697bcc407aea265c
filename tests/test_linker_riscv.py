# SPDX-License-Identifier: MIT
"""rv32imc: link the fixture module with libgcc, check its words and run it in the emulator."""

import pytest
from linker_fixtures.build import build_fixture_module, require_unicorn
from linker_fixtures.checks import check_linked_words, run_expected
from linker_fixtures.emulator import Machine
from microtrain_tools.mpy.reader import read_mpy


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    result, objects = build_fixture_module("rv32imc", tmp_path_factory.mktemp("rv32imc"))
    return result, objects


def test_words_and_entry(linked):
    result, _ = linked
    check_linked_words(result, 4)
    assert any("divdi3" in m for m in result.members)
    assert any("mulsf3" in m for m in result.members)


def test_switch_table_uses_label_differences(linked):
    # gcc writes the dense switch as ADD32/SUB32 pairs: resolved at link time, no loader word.
    from elftools.elf.elffile import ELFFile

    _, objects = linked
    with open(objects[0], "rb") as f:
        rela = ELFFile(f).get_section_by_name(".rela.rodata")
        types = {r["r_info_type"] for r in rela.iter_relocations()}
    assert types == {35, 39}


def test_runs_in_emulator(linked):
    require_unicorn()
    result, _ = linked
    run_expected(Machine("rv32imc", read_mpy(result.out_path.read_bytes())))
