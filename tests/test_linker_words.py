# SPDX-License-Identifier: MIT
"""Every absolute data word of the fixture objects, on every arch, checked against the ELF:
the symbol is looked up in the objects' own symbol tables (not through the linker), placed
by the linker's section map, and must give the stored value and the loader kind."""

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from linker_fixtures.build import build_fixture_module, compile_c, libgcc
from microtrain_tools.mpy.arches import get_arch
from microtrain_tools.mpy.linker import link
from microtrain_tools.mpy.mpy_format import FUN_TABLE_DATA_SYMBOLS
from microtrain_tools.mpy.reader import read_mpy

# Absolute pointer-sized relocation types, per ELF machine.
ABSOLUTE = {"EM_X86_64": {1}, "EM_ARM": {2}, "EM_RISCV": {1}, "EM_XTENSA": {1, 6}}
REL_MACHINES = {"EM_ARM"}  # addend stored in the field
ROM_NAMES = [
    "__floatsisf",
    "__floatsidf",
    "__mulsf3",
    "__addsf3",
    "__divdf3",
    "__muldf3",
    "__fixdfsi",
    "__muldi3",
    "__divdi3",
    "__udivsi3",
    "__umodsi3",
]
ROM = {n: 0x40000000 + 0x100 * i for i, n in enumerate(ROM_NAMES)}
ARCHES = ["x64", "armv6m", "armv7m", "armv7emsp", "armv7emdp", "rv32imc", "xtensa"]


def build(arch, out):
    if arch != "xtensa":
        return build_fixture_module(arch, out)
    # xtensa's soft helpers live in the ESP8266 ROM: made-up addresses stand in for them.
    objects = [compile_c(arch, s, out) for s in ("fx_main.c", "fx_other.c")]
    result = link(objects, arch, out / "fx.mpy", libs=[libgcc(arch)], externs=ROM)
    return result, objects


def global_definitions(objects):
    """name -> (object name, section name, value, is_bss), from the objects' symtabs."""
    found = {}
    for path in objects:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            for s in elf.get_section_by_name(".symtab").iter_symbols():
                if s["st_info"]["bind"] != "STB_LOCAL" and isinstance(s["st_shndx"], int):
                    sec = elf.get_section(s["st_shndx"])
                    found[s.name] = (
                        path.name,
                        sec.name,
                        s["st_value"],
                        sec["sh_type"] == "SHT_NOBITS",
                    )
    return found


@pytest.mark.parametrize("arch", ARCHES)
def test_every_absolute_word(arch, tmp_path):
    result, objects = build(arch, tmp_path)
    mpy = read_mpy(result.out_path.read_bytes())
    kinds = {r.offset: r.kind for r in mpy.relocs}
    machine = get_arch(arch).elf_machine
    defs = global_definitions(objects)
    checked = 0
    for path in objects:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            symtab = elf.get_section_by_name(".symtab")
            for rel in elf.iter_sections():
                if not isinstance(rel, RelocationSection):
                    continue
                target = elf.get_section(rel["sh_info"])
                base = result.sections.get(f"{path.name}:{target.name}")
                if base is None:
                    continue  # not kept: unreachable from mpy_init
                data = target.data()
                for r in rel.iter_relocations():
                    if r["r_info_type"] not in ABSOLUTE[machine]:
                        continue
                    sym = symtab.get_symbol(r["r_info_sym"])
                    in_place = int.from_bytes(
                        data[r["r_offset"] : r["r_offset"] + 4], "little", signed=True
                    )
                    if machine in REL_MACHINES:
                        addend = in_place
                    elif machine == "EM_XTENSA":
                        # GNU as keeps the addend in the word, r_addend 0 (partial_inplace
                        # howtos); llvm-mc the other way round: the value is S + both.
                        addend = r["r_addend"] + in_place
                    else:
                        addend = r["r_addend"]
                    place = base + r["r_offset"]
                    want = expected(sym, addend, path.name, elf, defs, result, mpy)
                    assert (mpy.word_at("text", place), kinds.get(place)) == want, (
                        f"{path.name} {target.name}+{r['r_offset']:#x} -> {sym.name}"
                    )
                    checked += 1
    assert checked >= 29  # the function objects and the pointer tables at least


def expected(sym, addend, obj_name, elf, defs, result, mpy):
    name = sym.name
    if sym["st_shndx"] == "SHN_UNDEF":
        if name == "mp_fun_table":
            return addend, 8
        if name.startswith("mt_qstr_"):
            return 2 * mpy.qstrs.index(name[len("mt_qstr_") :]) + addend, 6
        if name in FUN_TABLE_DATA_SYMBOLS:
            return 0, 9 + FUN_TABLE_DATA_SYMBOLS[name]
        if name in defs:
            obj, sec, value, bss = defs[name]
            return result.sections[f"{obj}:{sec}"] + value + addend, 4 if bss else 0
        if name in ROM:
            return ROM[name] + addend, None  # the ROM address itself, nothing for the loader
        target = result.symbols[name]  # a library member's function
        assert target.region == "text", name
        return target.offset + addend, 0
    sec = elf.get_section(sym["st_shndx"])
    value = 0 if sym["st_info"]["type"] == "STT_SECTION" else sym["st_value"]
    bss = sec["sh_type"] == "SHT_NOBITS"
    return result.sections[f"{obj_name}:{sec.name}"] + value + addend, 4 if bss else 0
