# SPDX-License-Identifier: MIT
"""RISC-V rv32 (RELA) relocation rules for objects built with -mno-relax (NATMOD_FACTS 4).

A PCREL_LO12 relocation names a label at its auipc; its value is the HI20 relocation's value
there, so the HI20s are indexed by (object, section, offset) before anything is applied.
"""

from ..errors import LinkError
from .arm import sign_extend
from .base import ArchRules

R_RISCV_NONE = 0
R_RISCV_32 = 1
R_RISCV_BRANCH = 16
R_RISCV_JAL = 17
R_RISCV_CALL = 18
R_RISCV_CALL_PLT = 19
R_RISCV_GOT_HI20 = 20
R_RISCV_PCREL_HI20 = 23
R_RISCV_PCREL_LO12_I = 24
R_RISCV_PCREL_LO12_S = 25
R_RISCV_HI20 = 26
R_RISCV_LO12_I = 27
R_RISCV_LO12_S = 28
R_RISCV_ADD32 = 35
R_RISCV_SUB32 = 39
R_RISCV_ALIGN = 43
R_RISCV_RVC_BRANCH = 44
R_RISCV_RVC_JUMP = 45
R_RISCV_RELAX = 51

NAMES = {
    0: "R_RISCV_NONE",
    1: "R_RISCV_32",
    2: "R_RISCV_64",
    16: "R_RISCV_BRANCH",
    17: "R_RISCV_JAL",
    18: "R_RISCV_CALL",
    19: "R_RISCV_CALL_PLT",
    20: "R_RISCV_GOT_HI20",
    21: "R_RISCV_TLS_GOT_HI20",
    22: "R_RISCV_TLS_GD_HI20",
    23: "R_RISCV_PCREL_HI20",
    24: "R_RISCV_PCREL_LO12_I",
    25: "R_RISCV_PCREL_LO12_S",
    26: "R_RISCV_HI20",
    27: "R_RISCV_LO12_I",
    28: "R_RISCV_LO12_S",
    29: "R_RISCV_TPREL_HI20",
    35: "R_RISCV_ADD32",
    39: "R_RISCV_SUB32",
    43: "R_RISCV_ALIGN",
    44: "R_RISCV_RVC_BRANCH",
    45: "R_RISCV_RVC_JUMP",
    51: "R_RISCV_RELAX",
    57: "R_RISCV_32_PCREL",
}

HI20_TYPES = (R_RISCV_GOT_HI20, R_RISCV_PCREL_HI20)
EF_RISCV_FLOAT_ABI = 0x6  # 0: soft (ilp32), 2: single (ilp32f), 4: double (ilp32d)
EF_RISCV_RVE = 0x8


def hi20(value: int) -> int:
    return ((value + 0x800) >> 12) & 0xFFFFF


def lo12(value: int) -> int:
    return sign_extend(value, 12)


def set_i_imm(insn: int, imm: int) -> int:
    return (insn & 0x000FFFFF) | ((imm & 0xFFF) << 20)


def set_s_imm(insn: int, imm: int) -> int:
    return (insn & 0x01FFF07F) | (((imm >> 5) & 0x7F) << 25) | ((imm & 0x1F) << 7)


def set_b_imm(insn: int, imm: int) -> int:
    insn &= 0x01FFF07F
    insn |= ((imm >> 12) & 1) << 31 | ((imm >> 5) & 0x3F) << 25
    return insn | ((imm >> 1) & 0xF) << 8 | ((imm >> 11) & 1) << 7


def set_j_imm(insn: int, imm: int) -> int:
    insn &= 0x00000FFF
    insn |= ((imm >> 20) & 1) << 31 | ((imm >> 1) & 0x3FF) << 21
    return insn | ((imm >> 11) & 1) << 20 | ((imm >> 12) & 0xFF) << 12


def set_cb_imm(insn: int, imm: int) -> int:
    # c.beqz / c.bnez: offset[8|4:3] in 12..10, offset[7:6|2:1|5] in 6..2
    insn &= 0xE383
    insn |= ((imm >> 8) & 1) << 12 | ((imm >> 3) & 3) << 10
    return insn | ((imm >> 6) & 3) << 5 | ((imm >> 1) & 3) << 3 | ((imm >> 5) & 1) << 2


def set_cj_imm(insn: int, imm: int) -> int:
    # c.j / c.jal: offset[11|4|9:8|10|6|7|3:1|5] in 12..2
    insn &= 0xE003
    bits = (
        ((imm >> 11) & 1) << 12
        | ((imm >> 4) & 1) << 11
        | ((imm >> 8) & 3) << 9
        | ((imm >> 10) & 1) << 8
        | ((imm >> 6) & 1) << 7
        | ((imm >> 7) & 1) << 6
        | ((imm >> 1) & 7) << 3
        | ((imm >> 5) & 1) << 2
    )
    return insn | bits


class RiscvRules(ArchRules):
    names = NAMES
    got_types = frozenset({R_RISCV_GOT_HI20})
    ignored = frozenset({R_RISCV_NONE, R_RISCV_RELAX, R_RISCV_ALIGN})
    stub_size = 4

    def entry_stub(self, target: int) -> bytes:
        return set_j_imm(0x6F, target).to_bytes(4, "little")  # jal x0 (j)

    def check_object(self, obj, arch, from_lib: bool) -> None:
        if obj.flags & (EF_RISCV_FLOAT_ABI | EF_RISCV_RVE):
            raise LinkError(
                f"{obj.name}: built for a float-register or RV32E ABI (e_flags "
                f"{obj.flags:#x}), but {arch.name} modules use ilp32 (soft float): compile "
                f"with {' '.join(arch.cflags)}"
            )

    def prepare(self, linker) -> None:
        self.hi_relocs = {}
        for p in linker.text_order:
            for r in p.obj.relocs.get(p.section.index, []):
                if r.type in HI20_TYPES:
                    self.hi_relocs[(id(p.obj), p.section.index, r.offset)] = (p, r)

    def hi_value(self, site, reloc) -> int:
        """The full pc-relative value (target - auipc) of a HI20 relocation."""
        if reloc.type == R_RISCV_GOT_HI20:
            return site.got_slot() + reloc.addend - site.place
        return site.local_address() + reloc.addend - site.place

    def apply(self, site) -> None:
        r, rtype = site.reloc, site.reloc.type
        if rtype == R_RISCV_32:
            site.absolute_word(r.addend, 4)
        elif rtype in HI20_TYPES:
            value = self.hi_value(site, r)
            site.write(4, (site.read(4) & 0xFFF) | (hi20(value) << 12))
        elif rtype in (R_RISCV_PCREL_LO12_I, R_RISCV_PCREL_LO12_S):
            value = lo12(self._paired_hi_value(site))
            setter = set_i_imm if rtype == R_RISCV_PCREL_LO12_I else set_s_imm
            site.write(4, setter(site.read(4), value))
        elif rtype in (R_RISCV_CALL, R_RISCV_CALL_PLT):
            value = self._pcrel(site, "a call", 32)
            site.write(4, (site.read(4) & 0xFFF) | (hi20(value) << 12))
            site.write(4, set_i_imm(site.read(4, 4), lo12(value)), 4)
        elif rtype == R_RISCV_BRANCH:
            site.write(4, set_b_imm(site.read(4), self._pcrel(site, "a branch", 13)))
        elif rtype == R_RISCV_JAL:
            site.write(4, set_j_imm(site.read(4), self._pcrel(site, "a jump", 21)))
        elif rtype == R_RISCV_RVC_BRANCH:
            site.write(2, set_cb_imm(site.read(2), self._pcrel(site, "a branch", 9)))
        elif rtype == R_RISCV_RVC_JUMP:
            site.write(2, set_cj_imm(site.read(2), self._pcrel(site, "a jump", 12)))
        elif rtype in (R_RISCV_ADD32, R_RISCV_SUB32):
            # Label differences (switch tables): both ends must be in the text blob.
            value = site.local_address("a label difference") + r.addend
            sign = 1 if rtype == R_RISCV_ADD32 else -1
            site.write(4, site.read(4) + sign * value)
        elif rtype in (R_RISCV_HI20, R_RISCV_LO12_I, R_RISCV_LO12_S):
            site.fail("absolute address: the module is loaded anywhere", "compile with -fpic")
        else:
            self.unsupported(site)

    def _pcrel(self, site, what: str, bits: int) -> int:
        value = site.local_address(what) + site.reloc.addend - site.place
        if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
            site.fail(f"distance {value} does not fit {bits} bits", "the module is too large")
        return value

    def _paired_hi_value(self, site) -> int:
        label = site.reloc.symbol
        key = (id(site.placed.obj), label.shndx, label.value)
        if key not in self.hi_relocs:
            site.fail("no GOT_HI20/PCREL_HI20 relocation at the label it names")
        placed, hi = self.hi_relocs[key]
        hi_site = type(site)(site.linker, placed, hi, site.linker.target_of(placed.obj, hi.symbol))
        return self.hi_value(hi_site, hi)
