# SPDX-License-Identifier: MIT
"""ELF relocatable objects read into plain records (sections, symbols, relocations).

pyelftools does the parsing; the linker only sees these records, so it never depends on
pyelftools' object model.
"""

import io
import struct
import zlib
from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from .errors import LinkError

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4
SHF_TLS = 0x400


@dataclass
class Section:
    index: int
    name: str
    kind: str  # pyelftools sh_type name, e.g. SHT_PROGBITS, SHT_NOBITS
    flags: int
    size: int
    align: int
    data: bytes

    @property
    def alloc(self) -> bool:
        return bool(self.flags & SHF_ALLOC)


@dataclass
class Symbol:
    index: int
    name: str
    value: int
    shndx: object  # int section index, or "SHN_UNDEF" / "SHN_ABS" / "SHN_COMMON"
    size: int
    bind: str  # STB_LOCAL / STB_GLOBAL / STB_WEAK
    type: str  # STT_FUNC / STT_OBJECT / STT_SECTION / ...
    visibility: str

    @property
    def defined(self) -> bool:
        return isinstance(self.shndx, int)


@dataclass
class Relocation:
    offset: int
    type: int
    symbol: Symbol
    addend: int | None  # None for REL: the addend is stored in the field itself


@dataclass
class ElfObject:
    name: str  # for messages: "a.o" or "libgcc.a(_udivsi3.o)"
    machine: str
    word_size: int
    sections: dict[int, Section]
    symbols: list[Symbol]
    relocs: dict[int, list[Relocation]] = field(default_factory=dict)  # by target section
    attributes: dict[str, object] = field(default_factory=dict)  # ARM build attributes
    flags: int = 0  # e_flags (RISC-V: float ABI)

    def section_of(self, symbol: Symbol) -> Section | None:
        return self.sections.get(symbol.shndx) if symbol.defined else None

    def defined_globals(self):
        for s in self.symbols:
            if s.bind != "STB_LOCAL" and (s.defined or s.shndx == "SHN_COMMON") and s.name:
                yield s


def _symbol_at(symbols: list, index: int, name: str):
    if not 0 <= index < len(symbols):
        raise LinkError(f"{name}: damaged ELF object (relocation names symbol {index})")
    return symbols[index]


def _symbol_name_for(sym: Symbol, sections: dict[int, Section]) -> str:
    if sym.type == "STT_SECTION" and sym.defined and sym.shndx in sections:
        return sections[sym.shndx].name
    return sym.name


def load_object(data: bytes, name: str, arch) -> ElfObject:
    try:
        elf = ELFFile(io.BytesIO(data))
        _check_extents(elf, len(data), name)
        obj = _convert(elf, name, arch)
    except LinkError:
        raise
    except (ELFError, ValueError, IndexError, KeyError, AttributeError, struct.error,
            OverflowError, NotImplementedError, zlib.error) as err:
        # pyelftools reports damage in many ways; all of them mean the same to the user.
        raise LinkError(f"{name}: damaged or unreadable ELF object ({err})") from None
    _check_consistency(obj)
    return obj


def _check_extents(elf: ELFFile, size: int, name: str) -> None:
    # Before reading any section: a damaged size must not allocate gigabytes.
    for i in range(elf.num_sections()):
        header = elf._get_section_header(i)
        if header["sh_type"] != "SHT_NOBITS" and header["sh_offset"] + header["sh_size"] > size:
            raise LinkError(f"{name}: damaged ELF object (section {i} lies past the file end)")


def _check_consistency(obj: ElfObject) -> None:
    for sym in obj.symbols:
        if isinstance(sym.shndx, int) and sym.shndx and sym.shndx not in obj.sections:
            raise LinkError(
                f"{obj.name}: damaged ELF object (symbol {sym.index} names section "
                f"{sym.shndx}, which does not exist)"
            )
        if isinstance(sym.shndx, int) and sym.shndx and sym.value > obj.sections[sym.shndx].size:
            # a symbol past its section's end would place code or data outside the module
            raise LinkError(
                f"{obj.name}: damaged ELF object (symbol {sym.name or sym.index} at "
                f"{sym.value:#x} lies past the end of its section)"
            )
    for index, relocs in obj.relocs.items():
        section = obj.sections[index]
        for r in relocs:
            if r.offset >= section.size:
                raise LinkError(
                    f"{obj.name}: damaged ELF object (relocation at "
                    f"{section.name}+{r.offset:#x} lies outside the section)"
                )


def _convert(elf: ELFFile, name: str, arch) -> ElfObject:
    if elf["e_type"] != "ET_REL":
        raise LinkError(f"{name}: is {elf['e_type']}, expected a relocatable object (gcc -c)")
    if elf["e_machine"] != arch.elf_machine:
        raise LinkError(
            f"{name}: built for {elf['e_machine']}, but arch {arch.name} needs {arch.elf_machine}"
        )
    if elf.elfclass != 8 * arch.word_size:
        raise LinkError(
            f"{name}: ELF{elf.elfclass} object, arch {arch.name} needs ELF{8 * arch.word_size}"
        )
    if not elf.little_endian:
        raise LinkError(f"{name}: big-endian object; all natmod arches are little-endian")
    sections = {}
    for index, sec in enumerate(elf.iter_sections()):
        if index == 0:
            continue
        kind = sec["sh_type"]
        nobits = kind == "SHT_NOBITS"
        sections[index] = Section(
            index=index,
            name=sec.name,
            kind=kind,
            flags=sec["sh_flags"],
            size=sec["sh_size"],
            align=max(1, sec["sh_addralign"]),
            data=b"" if nobits else (sec.data() if sec["sh_flags"] & SHF_ALLOC else b""),
        )
    symbols = []
    symtab = elf.get_section_by_name(".symtab")
    if symtab is not None:
        for i, s in enumerate(symtab.iter_symbols()):
            symbols.append(
                Symbol(
                    index=i,
                    name=s.name,
                    value=s["st_value"],
                    size=s["st_size"],
                    shndx=s["st_shndx"],
                    bind=s["st_info"]["bind"],
                    type=s["st_info"]["type"],
                    visibility=s["st_other"]["visibility"],
                )
            )
        for s in symbols:
            if not s.name:
                s.name = _symbol_name_for(s, sections)
    relocs = {}
    for sec in elf.iter_sections():
        if not isinstance(sec, RelocationSection):
            continue
        target = sec["sh_info"]
        if target not in sections or not sections[target].alloc:
            continue  # debug info, unwind tables: not part of the image
        rela = sec.is_RELA()
        relocs[target] = [
            Relocation(
                offset=r["r_offset"],
                type=r["r_info_type"],
                symbol=_symbol_at(symbols, r["r_info_sym"], name),
                addend=r["r_addend"] if rela else None,
            )
            for r in sec.iter_relocations()
        ]
    obj = ElfObject(name, arch.elf_machine, arch.word_size, sections, symbols, relocs)
    obj.attributes = _arm_attributes(elf)
    obj.flags = elf["e_flags"]
    return obj


def _arm_attributes(elf: ELFFile) -> dict[str, object]:
    """The "aeabi" build attributes (CPU arch, float-argument ABI) of an ARM object."""
    section = elf.get_section_by_name(".ARM.attributes")
    if section is None or elf["e_machine"] != "EM_ARM":
        return {}
    found = {}
    for sub in section.iter_subsections():
        for subsub in sub.iter_subsubsections():
            found.update({a.tag: a.value for a in subsub.iter_attributes()})
    return found
