# SPDX-License-Identifier: MIT
"""Xtensa (RELA) relocation rules: lx106 (ESP8266, gcc -mforce-l32 -mlongcalls) and xtensawin
(ESP32/ESP32-S3, LLVM's static relocation model).

l32r only loads literals from lower addresses, so the image starts with a `j mpy_init`, then
every .literal section (word-aligned: LLVM's assembler marks them byte-aligned), then the
code. Literal words naming symbols are plain absolute words fixed by the loader, so no GOT is needed.
Branches inside one section were resolved by the assembler and keep their distance; l32r,
calls and jumps are encoded here. On xtensawin rodata is a separate blob, reached only
through literal words.
"""

from .base import ArchRules, entry_offset

R_XTENSA_NONE = 0
R_XTENSA_32 = 1
R_XTENSA_PLT = 6
R_XTENSA_ASM_EXPAND = 11
R_XTENSA_ASM_SIMPLIFY = 12
R_XTENSA_DIFF8 = 17
R_XTENSA_DIFF16 = 18
R_XTENSA_DIFF32 = 19
R_XTENSA_SLOT0_OP = 20
R_XTENSA_PDIFF8 = 56
R_XTENSA_PDIFF16 = 57
R_XTENSA_PDIFF32 = 58
R_XTENSA_NDIFF8 = 59
R_XTENSA_NDIFF16 = 60
R_XTENSA_NDIFF32 = 61

NAMES = {
    0: "R_XTENSA_NONE",
    1: "R_XTENSA_32",
    2: "R_XTENSA_RTLD",
    3: "R_XTENSA_GLOB_DAT",
    4: "R_XTENSA_JMP_SLOT",
    5: "R_XTENSA_RELATIVE",
    6: "R_XTENSA_PLT",
    8: "R_XTENSA_OP0",
    11: "R_XTENSA_ASM_EXPAND",
    12: "R_XTENSA_ASM_SIMPLIFY",
    14: "R_XTENSA_32_PCREL",
    17: "R_XTENSA_DIFF8",
    18: "R_XTENSA_DIFF16",
    19: "R_XTENSA_DIFF32",
    20: "R_XTENSA_SLOT0_OP",
    35: "R_XTENSA_SLOT0_ALT",
    50: "R_XTENSA_TLSDESC_FN",
    56: "R_XTENSA_PDIFF8",
    57: "R_XTENSA_PDIFF16",
    58: "R_XTENSA_PDIFF32",
    59: "R_XTENSA_NDIFF8",
    60: "R_XTENSA_NDIFF16",
    61: "R_XTENSA_NDIFF32",
}

# Label differences inside one section: the assembler wrote the value, and without relaxation
# no distance changes. Expansion hints only matter to a relaxing linker.
HINTS = frozenset(
    {
        R_XTENSA_NONE,
        R_XTENSA_ASM_EXPAND,
        R_XTENSA_ASM_SIMPLIFY,
        R_XTENSA_DIFF8,
        R_XTENSA_DIFF16,
        R_XTENSA_DIFF32,
        R_XTENSA_PDIFF8,
        R_XTENSA_PDIFF16,
        R_XTENSA_PDIFF32,
        R_XTENSA_NDIFF8,
        R_XTENSA_NDIFF16,
        R_XTENSA_NDIFF32,
    }
)

ENTRY_JUMP_SIZE = 4  # `j` is 3 bytes; literals need 4-byte alignment


def encode_j(offset: int) -> int:
    """`j` at P reaches P + 4 + offset (18-bit signed)."""
    return 0x06 | ((offset & 0x3FFFF) << 6)


class XtensaRules(ArchRules):
    names = NAMES
    ignored = HINTS

    def order_text(self, order, entry):
        order = super().order_text(order, entry)
        literals = [p for p in order if p.section.name.startswith(".literal")]
        return literals + [p for p in order if not p.section.name.startswith(".literal")]

    def section_align(self, section) -> int:
        if section.name.startswith(".literal"):
            return max(4, section.align)  # l32r addresses words
        return section.align

    def entry_stub_size(self, entry) -> int:
        return ENTRY_JUMP_SIZE

    def write_entry_stub(self, linker, entry) -> None:
        target = entry.offset + entry_offset(entry)
        linker.image[0:3] = encode_j(target - 4).to_bytes(3, "little")

    def apply(self, site) -> None:
        rtype = site.reloc.type
        if rtype in (R_XTENSA_32, R_XTENSA_PLT):
            # GNU as leaves the addend in the word itself (binutils' Xtensa howtos are
            # partial_inplace: `.long .rodata.str1.1 + 14` has r_addend 0 and 14 in place);
            # llvm-mc puts it in r_addend and 0 in place. The value is S + both.
            site.absolute_word(site.reloc.addend + site.read(4), 4)
        elif rtype == R_XTENSA_SLOT0_OP:
            self._slot0(site)
        else:
            self.unsupported(site)

    def _slot0(self, site) -> None:
        insn = site.read(3)
        op0 = insn & 0xF
        if op0 == 1:  # l32r: literal = ((P + 3) & ~3) + (negative imm16 << 2)
            target = site.local_address("an l32r literal load") + site.reloc.addend
            delta = target - ((site.place + 3) & ~3)
            if delta >= 0 or delta < -(1 << 18) or delta % 4:
                site.fail(
                    f"literal at distance {delta} cannot be reached by l32r (it must be "
                    "4-aligned and at most 256 KiB below)"
                )
            site.write(3, (insn & 0xFF) | (((delta >> 2) & 0xFFFF) << 8))
            return
        if self._same_section(site):
            return  # assembler-resolved branch inside one section
        target = site.local_address("a branch") + site.reloc.addend
        if op0 == 5:  # call0/4/8/12: (P & ~3) + 4 + (offset << 2)
            offset = target - ((site.place & ~3) + 4)
            if offset % 4 or not -(1 << 19) <= offset < (1 << 19):
                site.fail(f"call target at distance {offset} is not reachable by call")
            site.write(3, (insn & 0x3F) | (((offset >> 2) & 0x3FFFF) << 6))
        elif op0 == 6 and (insn >> 4) & 3 == 0:  # j
            offset = target - (site.place + 4)
            if not -(1 << 17) <= offset < (1 << 17):
                site.fail(f"jump distance {offset} does not fit j")
            site.write(3, encode_j(offset))
        else:
            site.fail(f"branch (opcode {op0}) to another section", "report it with the object")

    @staticmethod
    def _same_section(site) -> bool:
        sym = site.reloc.symbol
        return (
            sym.defined
            and sym.shndx == site.placed.section.index
            and (
                sym.bind == "STB_LOCAL"
                or site.linker.defs.get(sym.name, (None,))[0] is site.placed.obj
            )
        )
