# SPDX-License-Identifier: MIT
"""A kept section's place in the image, and one relocation being applied there.

The arch rules (relocs/) see only RelocSite: the field, the resolved symbol, and helpers that
patch the image, make GOT or loader relocations, or refuse with a message naming the symbol.
"""

from dataclasses import dataclass

from .elf_objects import ElfObject, Section
from .errors import LinkError
from .symbols import Target


@dataclass
class Placed:
    obj: ElfObject
    section: Section
    region: str  # "text", "rodata" (xtensawin) or "bss"
    offset: int = 0


class RelocSite:
    """One relocation being applied: the place, the resolved symbol and helpers to patch."""

    def __init__(self, linker, placed: Placed, reloc, target: Target):
        self.linker = linker
        self.placed = placed
        self.reloc = reloc
        self.target = target
        self.place = placed.offset + reloc.offset  # P, as an offset in the text blob
        self.image = linker.rodata_image if placed.region == "rodata" else linker.image

    @property
    def type_name(self) -> str:
        return self.linker.rules.name_of(self.reloc.type)

    @property
    def symbol_name(self) -> str:
        return self.linker.symbol_label(self.placed.obj, self.reloc.symbol, self.addend_hint())

    def addend_hint(self) -> int:
        return self.reloc.addend if self.reloc.addend is not None else 0

    def fail(self, problem: str, fix: str = "") -> None:
        where = f"{self.placed.obj.name} ({self.placed.section.name}+{self.reloc.offset:#x})"
        msg = f"{where}: {self.type_name} to `{self.symbol_name}`: {problem}"
        raise LinkError(msg + (f"; {fix}" if fix else ""))

    # Field access (all arches are little-endian).
    def read(self, size: int, at: int = 0) -> int:
        pos = self.place + at
        return int.from_bytes(self.image[pos : pos + size], "little")

    def write(self, size: int, value: int, at: int = 0) -> None:
        pos = self.place + at
        self.image[pos : pos + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")

    def write_signed(self, size: int, value: int, at: int = 0) -> None:
        bits = 8 * size
        if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
            self.fail(f"value {value:#x} does not fit {bits} bits", "the module is too large")
        self.write(size, value, at)

    # Symbol values.
    def local_address(self, what: str = "a pc-relative reference") -> int:
        """S for references that the loader cannot fix: the target must be in the text blob."""
        t = self.target
        if t.region == "text":
            return t.offset
        if t.region == "rodata":
            self.fail(
                f"{what} to rodata, which is a separate blob on {self.linker.arch.name} "
                "(code memory allows only word loads)",
                "reach it through a literal or pointer word (the loader relocates those)",
            )
        if t.region == "bss":
            self.fail(
                f"{what} to BSS, which the loader puts in a separate block",
                "static and hidden variables without initialiser are reached this way: make it "
                "a non-static global with default visibility (then it goes through the GOT)",
            )
        self.fail(
            f"{what} to {t.describe()}, which only exists at run time",
            "declare it `extern` and access it through a pointer (GOT)",
        )

    def got_slot(self) -> int:
        return self.linker.got_offset(self.target, self)

    def got_base(self) -> int:
        return self.linker.got_start

    def absolute_word(self, addend: int, size: int) -> None:
        """A pointer-sized data word: store the offset, let the loader add the base."""
        if size != self.linker.arch.word_size:
            self.fail(
                f"{8 * size}-bit absolute address in a {8 * self.linker.arch.word_size}-bit "
                "module",
                "use pointer-sized data",
            )
        t = self.target
        if t.region in ("fun_value", "fun_table", "null") and addend:
            self.fail(f"offset {addend:+d} from a runtime-provided object is not supported")
        if t.region == "null":
            self.write(size, 0)
            return
        self.write(size, t.stored_offset + addend)
        if t.loader_kind is not None:
            self.linker.add_loader_reloc(self.place, t.loader_kind, self)
