# SPDX-License-Identifier: MIT
"""Human-readable summary of a decoded .mpy (the text `microtrain inspect` prints)."""

from .mpy_format import SCOPE_BSS, SCOPE_RELOC, SCOPE_RODATA, kind_name
from .reader import MpyFile


def scope_names(flags: int) -> str:
    names = [
        n
        for bit, n in ((SCOPE_RELOC, "RELOC"), (SCOPE_RODATA, "RODATA"), (SCOPE_BSS, "BSS"))
        if flags & bit
    ]
    return "|".join(names) or "none"


def text_holds(mpy: MpyFile) -> str:
    # xtensawin keeps rodata in its own blob: ESP32 code memory allows only word loads.
    return "code and literal pools" if mpy.rodata_size else "code, rodata and GOT"


def describe(mpy: MpyFile, name: str = "", size: int | None = None) -> str:
    lines = []
    if name:
        lines.append(f"file:        {name}" + (f" ({size} bytes)" if size is not None else ""))
    lines += [
        f"format:      mpy {mpy.version}.{mpy.sub_version}, arch {mpy.arch} (code "
        f"{mpy.arch_code}), arch flags {mpy.arch_flags:#x}, small-int bits {mpy.small_int_bits}",
        f"text:        {mpy.text_size} bytes ({text_holds(mpy)}: copied to executable memory)",
        f"bss:         {mpy.bss_size} bytes",
        f"rodata blob: {mpy.rodata_size} bytes",
        f"scope flags: {mpy.scope_flags:#04x} ({scope_names(mpy.scope_flags)})",
        f"objects:     {mpy.n_objs}",
        f"qstrs:       {len(mpy.qstrs)} (entry 0 is the source name)",
    ]
    lines += [f"  [{i}] {q}" for i, q in enumerate(mpy.qstrs)]
    words = mpy.relocs
    lines.append(f"relocations: {len(words)} words in {len(mpy.ops)} ops")
    for r in words:
        stored = mpy.word_at(r.blob, r.offset)
        lines.append(f"  {r.blob}+{r.offset:#06x}  stored {stored:#x}  + {kind_name(r.kind)}")
    return "\n".join(lines)
