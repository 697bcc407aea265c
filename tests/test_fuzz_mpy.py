# SPDX-License-Identifier: MIT
"""Damaged .mpy files to the reader behind `microtrain inspect` and `deploy`, and damaged ELF
objects to `microtrain link`: each is read or refused with a MicrotrainError (MpyFormatError,
LinkError), never another exception (issue 8 D9). FUZZ_CASES scales both (make fuzz)."""

import io
import random

import pytest
from elftools.elf.elffile import ELFFile
from fuzzing import EXTREME_INTS, damaged, fuzz_cases, run_reader
from linker_fixtures.build import compile_c
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.mpy.describe import describe
from microtrain_tools.mpy.errors import LinkError
from microtrain_tools.mpy.linker import link
from microtrain_tools.mpy.reader import read_mpy


def objects(tmp_path):
    return compile_c("x64", "fx_main.c", tmp_path), compile_c("x64", "fx_other.c", tmp_path)


def test_fuzz_mpy_reader(tmp_path):
    main, other = objects(tmp_path)
    seed = link([main, other], "x64", tmp_path / "seed.mpy").out_path.read_bytes()

    def read(data):
        describe(read_mpy(data), "damaged.mpy", len(data))

    run_reader(".mpy reader (inspect, deploy)", read, damaged([seed], fuzz_cases(400), 11),
               MicrotrainError).check()


def test_fuzz_linker_objects(tmp_path):
    main, other = objects(tmp_path)
    target = tmp_path / "damaged.o"

    def read(data):
        target.write_bytes(data)
        link([target, other], "x64", tmp_path / "out.mpy")

    n = fuzz_cases(300)
    seeds = [main.read_bytes(), other.read_bytes()]
    cases = [c for pair in zip(damaged(seeds, n // 2, 12), header_fields(seeds, n // 2, 13))
             for c in pair]
    run_reader("linker ELF objects (link)", read, cases, MicrotrainError).check()


def header_fields(seeds, n, seed):
    """Extreme values in the ELF's section headers and symbol table, where a parser trusts
    sizes, offsets, flags (compressed) and indices."""
    rng = random.Random(seed)
    for i in range(n):
        data = bytearray(rng.choice(seeds))
        elf = ELFFile(io.BytesIO(bytes(data)))
        table = elf["e_shoff"] + elf["e_shentsize"] * rng.randrange(elf.num_sections())
        symtab = elf.get_section_by_name(".symtab")
        where = rng.choice([table, table, symtab["sh_offset"] + 24 * rng.randrange(
            max(1, symtab["sh_size"] // 24))])
        field = where + 4 * rng.randrange(elf["e_shentsize"] // 4)
        size = rng.choice((4, 8)) if field + 8 <= len(data) else 4
        value = rng.choice(EXTREME_INTS + [0x800, (1 << 64) - 1, 1 << 63]) % (1 << 8 * size)
        data[field:field + size] = value.to_bytes(size, "little")
        yield f"header case {i} (offset {field}, {size} bytes = {value:#x})", bytes(data)


def test_a_symbol_past_its_section_is_refused(tmp_path):
    """Found by the header fuzz: an entry symbol moved far past its section gave an
    OverflowError while the linker wrote the entry stub."""
    main, other = objects(tmp_path)
    data = bytearray(main.read_bytes())
    elf = ELFFile(io.BytesIO(bytes(data)))
    symtab = elf.get_section_by_name(".symtab")
    index = next(i for i, s in enumerate(symtab.iter_symbols()) if s.name == "mpy_init")
    value_at = symtab["sh_offset"] + 24 * index + 8  # Elf64_Sym: name, info, other, shndx, value
    data[value_at:value_at + 8] = (1 << 40).to_bytes(8, "little")
    target = tmp_path / "far.o"
    target.write_bytes(bytes(data))
    with pytest.raises(LinkError, match="far.o: damaged ELF object .*mpy_init.* past the end"):
        link([target, other], "x64", tmp_path / "out.mpy")
