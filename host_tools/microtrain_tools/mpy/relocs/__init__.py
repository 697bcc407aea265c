# SPDX-License-Identifier: MIT
"""Relocation rules, one module per arch family; `rules_for(arch)` picks one."""

from ..errors import LinkError
from .base import ArchRules


def rules_for(arch) -> ArchRules:
    if arch.elf_machine == "EM_X86_64":
        from .x64 import X64Rules

        return X64Rules()
    if arch.elf_machine == "EM_ARM":
        from .arm import ArmRules

        return ArmRules(thumb2=arch.name != "armv6m")
    if arch.elf_machine == "EM_RISCV" and arch.word_size == 4:
        from .riscv import RiscvRules

        return RiscvRules()
    if arch.elf_machine == "EM_XTENSA":
        from .xtensa import XtensaRules

        return XtensaRules()
    raise LinkError(
        f"arch {arch.name}: no relocation rules" + (f" ({arch.note})" if arch.note else "")
    )
