# SPDX-License-Identifier: MIT
"""Writes a natmod .mpy v6.3: header, qstr table, one viper raw code, relocation ops."""

from . import vuint
from .errors import LinkError
from .mpy_format import (
    K_COUNT_KINDS,
    MAGIC,
    OP_END,
    SCOPE_BSS,
    SCOPE_RELOC,
    SCOPE_RODATA,
    SMALL_INT_BITS,
    VERSION,
    VIPER_KIND_BITS,
    LoaderReloc,
)


def _qstr_entry(name: str) -> bytes:
    # Always the string form: valid for every name, no static-qstr list to keep in step.
    raw = name.encode("utf-8")
    return vuint.encode(len(raw) << 1) + raw + b"\x00"


def encode_relocs(relocs: list[LoaderReloc], word_size: int) -> bytes:
    """The op stream: runs of text/rodata/bss words become one counted op, and an op whose
    word follows the cursor carries no address."""
    out = bytearray()
    ordered = sorted(relocs, key=lambda r: (r.blob != "text", r.offset))
    cursor = None  # (blob, word index) the loader's cursor points at
    i = 0
    while i < len(ordered):
        r = ordered[i]
        if r.offset % word_size:
            raise LinkError(f"internal: relocated word at {r.blob}+{r.offset:#x} is not aligned")
        word = r.offset // word_size
        run = 1
        if r.kind in K_COUNT_KINDS:
            while (
                i + run < len(ordered)
                and ordered[i + run].kind == r.kind
                and ordered[i + run].blob == r.blob
                and ordered[i + run].offset == r.offset + run * word_size
            ):
                run += 1
        has_addr = cursor != (r.blob, word)
        counted = run > 1
        if r.kind > 126 and has_addr:
            raise LinkError(f"internal: loader kind {r.kind} cannot carry an address")
        out.append(((r.kind + counted) << 1) | has_addr)
        if has_addr:
            out += vuint.encode((word << 1) | (r.blob == "rodata"))
        if counted:
            out += vuint.encode(run)
        cursor = (r.blob, word + run)
        i += run
    out.append(OP_END)
    return bytes(out)


def write_mpy(
    arch,
    qstrs: list[str],
    text: bytes,
    relocs: list[LoaderReloc],
    bss_size: int = 0,
    rodata: bytes = b"",
) -> bytes:
    out = bytearray([MAGIC, VERSION, arch.header_byte2, SMALL_INT_BITS])
    out += vuint.encode(len(qstrs)) + vuint.encode(0)  # no constant objects
    for name in qstrs:
        out += _qstr_entry(name)
    out += vuint.encode((len(text) << 3) | VIPER_KIND_BITS)
    out += text
    scope = (SCOPE_RELOC if relocs else 0) | (SCOPE_RODATA if rodata else 0)
    scope |= SCOPE_BSS if bss_size else 0
    out += vuint.encode(scope)
    if rodata:
        out += vuint.encode(len(rodata))
    if bss_size:
        out += vuint.encode(bss_size)
    out += rodata
    if relocs:
        out += encode_relocs(relocs, arch.word_size)
    return bytes(out)
