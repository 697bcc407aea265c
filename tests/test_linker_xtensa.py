# SPDX-License-Identifier: MIT
"""xtensa (ESP8266): link the fixture module with ROM externs and check, with objdump's own
decoding, that the entry jump and every l32r land where the ELF relocations say."""

import re
import subprocess

import pytest
from elftools.elf.elffile import ELFFile
from linker_fixtures.build import compile_c, libgcc, require_tool
from linker_fixtures.checks import check_linked_words
from microtrain_tools.mpy.errors import LinkError
from microtrain_tools.mpy.linker import link
from microtrain_tools.mpy.mpy_format import K_FUN_TABLE, K_QSTR_TABLE

# Made-up ROM addresses: the real ones come from the ESP8266 SDK's eagle.rom.addr.v6.ld.
ROM = {
    "__floatsisf": 0x4000E2AC,
    "__floatsidf": 0x4000E2F0,
    "__mulsf3": 0x4000E0A0,
    "__addsf3": 0x4000C180,
    "__divdf3": 0x4000CB94,
    "__muldf3": 0x4000C8F0,
    "__fixdfsi": 0x4000E358,
    "__muldi3": 0x40000650,
    "__divdi3": 0x4000CE60,
    "__udivsi3": 0x4000E21C,
    "__umodsi3": 0x4000E268,
}
R_XTENSA_32, R_XTENSA_PLT, R_XTENSA_SLOT0_OP = 1, 6, 20


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    out = tmp_path_factory.mktemp("xtensa")
    rom = out / "rom.ld"
    rom.write_text("".join(f"PROVIDE ( {n} = {a:#x} );\n" for n, a in ROM.items()))
    objects = [compile_c("xtensa", s, out) for s in ("fx_main.c", "fx_other.c")]
    result = link(objects, "xtensa", out / "fx.mpy", libs=[libgcc("xtensa")], externs=rom)
    return result, objects, out


def objdump_listing(blob, tmp_path):
    objdump = require_tool("xtensa-lx106-elf-objdump", "binutils-xtensa-lx106")
    path = tmp_path / "text.bin"
    path.write_bytes(blob)
    return subprocess.run(
        [objdump, "-D", "-b", "binary", "-mxtensa", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def l32r_target(text: bytes, place: int) -> int:
    # Xtensa ISA: L32R loads from ((PC + 3) & ~3) + (ones(14) || imm16 || 00).
    insn = int.from_bytes(text[place : place + 3], "little")
    assert insn & 0xF == 1, f"no l32r at {place:#x}"
    return ((place + 3) & ~3) + (((insn >> 8) - 0x10000) << 2)


def test_words(linked):
    result, _, _ = linked
    mpy = check_linked_words(result, 4, entry_at_zero=False)
    assert result.got_size == 0  # literal words are fixed by the loader directly
    assert "hello_world" in mpy.qstrs


def test_entry_jump_and_l32r_targets(linked, tmp_path):
    result, objects, _ = linked
    from microtrain_tools.mpy.reader import read_mpy

    mpy = read_mpy(result.out_path.read_bytes())
    listing = objdump_listing(mpy.text, tmp_path)
    first = re.search(r"^\s+0:\s+\w+\s+j\s+0x([0-9a-f]+)", listing, re.M)
    assert first and int(first.group(1), 16) == result.symbols["mpy_init"].offset
    checked = 0
    for path in objects:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            symtab = elf.get_section_by_name(".symtab")
            for rel in elf.iter_sections():
                if not rel.name.startswith(".rela.text"):
                    continue
                code = f"{path.name}:{rel.name[5:]}"
                if code not in result.sections:
                    continue
                for r in rel.iter_relocations():
                    sym = symtab.get_symbol(r["r_info_sym"])
                    literal = f"{path.name}:{elf.get_section(sym['st_shndx']).name}"
                    if r["r_info_type"] != R_XTENSA_SLOT0_OP or ".literal" not in literal:
                        continue
                    place = result.sections[code] + r["r_offset"]
                    target = l32r_target(mpy.text, place)
                    assert target == result.sections[literal] + r["r_addend"], code
                    assert target < place
                    checked += 1
    assert checked > 40


def test_literal_words(linked):
    result, objects, _ = linked
    from microtrain_tools.mpy.reader import read_mpy

    mpy = read_mpy(result.out_path.read_bytes())
    kinds = {r.offset: r.kind for r in mpy.relocs}
    seen = set()
    with open(objects[0], "rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        for rel in elf.iter_sections():
            if not rel.name.startswith(".rela.literal"):
                continue
            base = result.sections.get(f"{objects[0].name}:{rel.name[5:]}")
            if base is None:
                continue
            for r in rel.iter_relocations():
                name = symtab.get_symbol(r["r_info_sym"]).name
                place = base + r["r_offset"]
                word = mpy.word_at("text", place)
                if name in ROM:  # ROM helpers: the address itself, nothing for the loader
                    assert word == ROM[name] and place not in kinds, name
                elif name == "mp_fun_table":
                    assert kinds[place] == K_FUN_TABLE and word == 0
                elif name.startswith("mt_qstr_"):
                    assert kinds[place] == K_QSTR_TABLE
                    assert word == 2 * mpy.qstrs.index(name[len("mt_qstr_") :])
                seen.add(name.split("_")[0] if name.startswith("mt_qstr") else name)
    assert {"__mulsf3", "__divdi3", "mp_fun_table", "mt"} <= seen


def test_missing_rom_helpers_point_at_externs(tmp_path):
    objects = [compile_c("xtensa", s, tmp_path) for s in ("fx_main.c", "fx_other.c")]
    with pytest.raises(LinkError, match=r"`__mulsf3`.*--externs"):
        link(objects, "xtensa", tmp_path / "x.mpy", libs=[libgcc("xtensa")])


def test_pointer_tables_keep_the_in_place_addend(linked):
    """GNU as writes `.long .rodata.str1.1 + 6` as r_addend 0 with 6 in the word (binutils'
    Xtensa relocations are partial_inplace): each pointer of fx_names must reach its own
    string, not the first one (the ESP8266 module's op names all read "mt_dot_s8" before)."""
    result, objects, _ = linked
    from microtrain_tools.mpy.reader import read_mpy

    mpy = read_mpy(result.out_path.read_bytes())
    strings = set()
    with open(objects[0], "rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        for rel in elf.iter_sections():
            if not rel.name.startswith(".rela.data.rel.ro"):
                continue
            base = result.sections[f"{objects[0].name}:{rel.name[5:]}"]
            for r in rel.iter_relocations():
                shndx = symtab.get_symbol(r["r_info_sym"])["st_shndx"]
                if isinstance(shndx, str) or not elf.get_section(shndx).name.startswith(
                        ".rodata.str"):
                    continue
                at = mpy.word_at("text", base + r["r_offset"])
                strings.add(mpy.text[at : mpy.text.index(b"\0", at)])
    assert {b"alpha", b"be", b"gamma!", b"delta-long"} <= strings
