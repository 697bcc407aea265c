# SPDX-License-Identifier: MIT
"""x86-64 (RELA) relocation rules for natmods compiled with -fpic (NATMOD_FACTS 4)."""

from .base import ArchRules

R_X86_64_NONE = 0
R_X86_64_64 = 1
R_X86_64_PC32 = 2
R_X86_64_GOT32 = 3
R_X86_64_PLT32 = 4
R_X86_64_GOTPCREL = 9
R_X86_64_32 = 10
R_X86_64_32S = 11
R_X86_64_PC64 = 24
R_X86_64_GOTPCRELX = 41
R_X86_64_REX_GOTPCRELX = 42

NAMES = {
    0: "R_X86_64_NONE",
    1: "R_X86_64_64",
    2: "R_X86_64_PC32",
    3: "R_X86_64_GOT32",
    4: "R_X86_64_PLT32",
    5: "R_X86_64_COPY",
    9: "R_X86_64_GOTPCREL",
    10: "R_X86_64_32",
    11: "R_X86_64_32S",
    12: "R_X86_64_16",
    13: "R_X86_64_PC16",
    19: "R_X86_64_TLSGD",
    21: "R_X86_64_DTPOFF32",
    23: "R_X86_64_TPOFF32",
    24: "R_X86_64_PC64",
    25: "R_X86_64_GOTOFF64",
    26: "R_X86_64_GOTPC32",
    41: "R_X86_64_GOTPCRELX",
    42: "R_X86_64_REX_GOTPCRELX",
}


class X64Rules(ArchRules):
    names = NAMES
    got_types = frozenset({R_X86_64_GOTPCREL, R_X86_64_GOTPCRELX, R_X86_64_REX_GOTPCRELX})
    ignored = frozenset({R_X86_64_NONE})
    stub_size = 5

    def entry_stub(self, target: int) -> bytes:
        return b"\xe9" + (target - 5).to_bytes(4, "little", signed=True)  # jmp rel32

    def apply(self, site) -> None:
        rtype, addend = site.reloc.type, site.reloc.addend
        if rtype in self.got_types:
            # Not relaxed: the slot stays, so the loader can fill it.
            site.write_signed(4, site.got_slot() + addend - site.place)
        elif rtype in (R_X86_64_PC32, R_X86_64_PLT32):
            site.write_signed(4, site.local_address() + addend - site.place)
        elif rtype == R_X86_64_PC64:
            site.write(8, site.local_address() + addend - site.place)
        elif rtype == R_X86_64_64:
            site.absolute_word(addend, 8)
        elif rtype in (R_X86_64_32, R_X86_64_32S):
            site.fail(
                "32-bit absolute address: the module is loaded anywhere", "compile with -fpic"
            )
        else:
            self.unsupported(site)
