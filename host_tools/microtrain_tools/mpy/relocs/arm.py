# SPDX-License-Identifier: MIT
"""ARM Thumb (REL) relocation rules: armv6m, armv7m, armv7emsp, armv7emdp (NATMOD_FACTS 4).

REL means the addend sits in the field itself (a word, or the immediate of a branch).
"""

import struct

from ..errors import LinkError
from .base import ArchRules

R_ARM_NONE = 0
R_ARM_ABS32 = 2
R_ARM_REL32 = 3
R_ARM_THM_CALL = 10
R_ARM_BASE_PREL = 25
R_ARM_GOT_BREL = 26
R_ARM_THM_JUMP24 = 30
R_ARM_TARGET1 = 38
R_ARM_V4BX = 40
R_ARM_THM_JUMP19 = 51
R_ARM_GOT_PREL = 96
R_ARM_THM_JUMP11 = 102
R_ARM_THM_JUMP8 = 103

NAMES = {
    0: "R_ARM_NONE",
    2: "R_ARM_ABS32",
    3: "R_ARM_REL32",
    5: "R_ARM_ABS16",
    8: "R_ARM_ABS8",
    10: "R_ARM_THM_CALL",
    11: "R_ARM_THM_PC8",
    25: "R_ARM_BASE_PREL",
    26: "R_ARM_GOT_BREL",
    28: "R_ARM_CALL",
    29: "R_ARM_JUMP24",
    30: "R_ARM_THM_JUMP24",
    38: "R_ARM_TARGET1",
    40: "R_ARM_V4BX",
    42: "R_ARM_PREL31",
    47: "R_ARM_THM_MOVW_ABS_NC",
    48: "R_ARM_THM_MOVT_ABS",
    51: "R_ARM_THM_JUMP19",
    96: "R_ARM_GOT_PREL",
    102: "R_ARM_THM_JUMP11",
    103: "R_ARM_THM_JUMP8",
    104: "R_ARM_TLS_GD32",
}


# Tag_CPU_arch values each arch may contain (6: v6, 10: v7, 11: v6-M, 12: v6S-M, 13: v7E-M).
CPU_ARCH_NAMES = {10: "v7(-M)", 11: "v6-M", 12: "v6S-M", 13: "v7E-M", 14: "v8", 16: "v8-M.main"}
ALLOWED_CPU_ARCH = {
    "armv6m": {11, 12},
    "armv7m": {10, 11, 12},
    "armv7emsp": {10, 11, 12, 13},
    "armv7emdp": {10, 11, 12, 13},
}
VFP_ARGS_IN_VFP_REGS = 1
VFP_ARGS_NONE = 3  # compatible with both: no float arguments at all


def sign_extend(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def decode_branch24(hw1: int, hw2: int) -> int:
    """Offset of a Thumb-2 BL / B.W (S, J1, J2, imm10, imm11 form, +-16 MiB)."""
    s = (hw1 >> 10) & 1
    i1 = 1 ^ (((hw2 >> 13) & 1) ^ s)
    i2 = 1 ^ (((hw2 >> 11) & 1) ^ s)
    imm = (s << 24) | (i1 << 23) | (i2 << 22) | ((hw1 & 0x3FF) << 12) | ((hw2 & 0x7FF) << 1)
    return sign_extend(imm, 25)


def encode_branch24(hw1: int, hw2: int, offset: int) -> tuple[int, int]:
    s = (offset >> 24) & 1
    j1 = 1 ^ (((offset >> 23) & 1) ^ s)
    j2 = 1 ^ (((offset >> 22) & 1) ^ s)
    hw1 = (hw1 & 0xF800) | (s << 10) | ((offset >> 12) & 0x3FF)
    hw2 = (hw2 & 0xD000) | (j1 << 13) | (j2 << 11) | ((offset >> 1) & 0x7FF)
    return hw1, hw2


def decode_branch19(hw1: int, hw2: int) -> int:
    """Offset of a conditional Thumb-2 B<c>.W (+-1 MiB)."""
    s = (hw1 >> 10) & 1
    j1 = (hw2 >> 13) & 1
    j2 = (hw2 >> 11) & 1
    imm = (s << 20) | (j2 << 19) | (j1 << 18) | ((hw1 & 0x3F) << 12) | ((hw2 & 0x7FF) << 1)
    return sign_extend(imm, 21)


def encode_branch19(hw1: int, hw2: int, offset: int) -> tuple[int, int]:
    hw1 = (hw1 & 0xFBC0) | (((offset >> 20) & 1) << 10) | ((offset >> 12) & 0x3F)
    hw2 = (hw2 & 0xD000) | (((offset >> 18) & 1) << 13) | (((offset >> 19) & 1) << 11)
    return hw1, hw2 | ((offset >> 1) & 0x7FF)


class ArmRules(ArchRules):
    names = NAMES
    got_types = frozenset({R_ARM_GOT_BREL, R_ARM_GOT_PREL})
    ignored = frozenset({R_ARM_NONE, R_ARM_V4BX})

    def __init__(self, thumb2: bool = True):
        self.thumb2 = thumb2
        # armv6m has no b.w: push {r0, lr}; bl mpy_init; pop {r1, pc} keeps mpy_init's r0.
        self.stub_size = 4 if thumb2 else 8

    def check_object(self, obj, arch, from_lib: bool) -> None:
        cpu = obj.attributes.get("TAG_CPU_ARCH")
        if cpu is not None and cpu not in ALLOWED_CPU_ARCH[arch.name]:
            raise LinkError(
                f"{obj.name}: built for ARM {CPU_ARCH_NAMES.get(cpu, cpu)} (Tag_CPU_arch {cpu}), "
                f"which an {arch.name} board cannot run: compile with {' '.join(arch.cflags)}"
            )
        vfp_args = obj.attributes.get("TAG_ABI_VFP_ARGS", 0)
        if vfp_args == VFP_ARGS_NONE:
            return
        hard = arch.float_abi == "hard"
        if vfp_args == VFP_ARGS_IN_VFP_REGS and not hard:
            raise LinkError(
                f"{obj.name}: passes floats in FPU registers (-mfloat-abi=hard), but {arch.name} "
                f"passes them in core registers: compile with {' '.join(arch.cflags)}"
            )
        if hard and vfp_args != VFP_ARGS_IN_VFP_REGS and not from_lib:
            raise LinkError(
                f"{obj.name}: passes floats in core registers (soft-float ABI), but "
                f"{arch.name} passes them in FPU registers: compile with {' '.join(arch.cflags)}"
            )

    def entry_stub(self, target: int) -> bytes:
        if self.thumb2:
            hw1, hw2 = encode_branch24(0xF000, 0x9000, target - 4)  # b.w
            return struct.pack("<HH", hw1, hw2)
        hw1, hw2 = encode_branch24(0xF000, 0xD000, target - 6)  # bl at offset 2
        return struct.pack("<HHHH", 0xB501, hw1, hw2, 0xBD02)

    def apply(self, site) -> None:
        rtype = site.reloc.type
        if rtype in (R_ARM_ABS32, R_ARM_TARGET1):
            site.absolute_word(sign_extend(site.read(4), 32), 4)
        elif rtype == R_ARM_REL32:
            value = site.local_address() + sign_extend(site.read(4), 32) - site.place
            site.write(4, value)
        elif rtype == R_ARM_BASE_PREL:
            site.write(4, site.got_base() + sign_extend(site.read(4), 32) - site.place)
        elif rtype == R_ARM_GOT_BREL:
            site.write(4, site.got_slot() - site.got_base() + sign_extend(site.read(4), 32))
        elif rtype == R_ARM_GOT_PREL:
            site.write(4, site.got_slot() + sign_extend(site.read(4), 32) - site.place)
        elif rtype in (R_ARM_THM_CALL, R_ARM_THM_JUMP24):
            self._branch24(site)
        elif rtype == R_ARM_THM_JUMP19:
            hw1, hw2 = site.read(2), site.read(2, 2)
            offset = self._offset(site, decode_branch19(hw1, hw2), 21)
            hw1, hw2 = encode_branch19(hw1, hw2, offset)
            site.write(2, hw1)
            site.write(2, hw2, 2)
        elif rtype == R_ARM_THM_JUMP11:
            hw = site.read(2)
            offset = self._offset(site, sign_extend((hw & 0x7FF) << 1, 12), 12)
            site.write(2, (hw & 0xF800) | ((offset >> 1) & 0x7FF))
        elif rtype == R_ARM_THM_JUMP8:
            hw = site.read(2)
            offset = self._offset(site, sign_extend((hw & 0xFF) << 1, 9), 9)
            site.write(2, (hw & 0xFF00) | ((offset >> 1) & 0xFF))
        else:
            self.unsupported(site)

    def _offset(self, site, addend: int, bits: int) -> int:
        # Branch targets: the Thumb bit is not part of the distance.
        offset = (site.local_address("a branch") & ~1) + addend - site.place
        if not -(1 << (bits - 1)) <= offset < (1 << (bits - 1)):
            site.fail(
                f"branch distance {offset} does not fit {bits} bits",
                "the module is too large for this branch",
            )
        return offset

    def _branch24(self, site) -> None:
        hw1, hw2 = site.read(2), site.read(2, 2)
        offset = self._offset(site, decode_branch24(hw1, hw2), 25)
        hw1, hw2 = encode_branch24(hw1, hw2, offset)
        site.write(2, hw1)
        site.write(2, hw2, 2)
