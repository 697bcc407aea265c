# SPDX-License-Identifier: MIT
"""Reads a natmod .mpy v6.3 back and checks every part of it (what `microtrain inspect` shows).

It rejects what the loader would choke on, so the linker's output can be verified by decoding.
"""

from dataclasses import dataclass, field

from .arches import arch_by_code, get_arch
from . import vuint
from .errors import MpyFormatError
from .mpy_format import (
    ARCH_FLAGS_BIT,
    MAGIC,
    OP_END,
    SCOPE_BSS,
    SCOPE_RELOC,
    SCOPE_RODATA,
    SUB_VERSION,
    VERSION,
    VIPER_KIND_BITS,
    LoaderReloc,
)

OBJ_TYPE_NAMES = {0: "fun_table", 1: "None", 2: "False", 3: "True", 4: "Ellipsis"}


@dataclass
class RelocOp:
    """One decoded op of the relocation stream, as written."""

    kind: int
    count: int
    blob: str
    offset: int  # byte offset of the first word the op adjusts
    has_address: bool


@dataclass
class MpyFile:
    version: int
    sub_version: int
    arch: str
    arch_code: int
    arch_flags: int
    small_int_bits: int
    qstrs: list[str]
    n_objs: int
    text: bytes
    scope_flags: int
    rodata_size: int
    bss_size: int
    rodata: bytes
    ops: list[RelocOp] = field(default_factory=list)

    @property
    def text_size(self) -> int:
        return len(self.text)

    @property
    def relocs(self) -> list[LoaderReloc]:
        """One entry per adjusted word."""
        words = []
        step = get_arch(self.arch).word_size
        for op in self.ops:
            for n in range(op.count):
                words.append(LoaderReloc(op.offset + n * step, op.kind, op.blob))
        return words

    def word_at(self, blob: str, offset: int) -> int:
        data = self.text if blob == "text" else self.rodata
        size = get_arch(self.arch).word_size
        return int.from_bytes(data[offset : offset + size], "little")


class _Cursor:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def byte(self, what: str) -> int:
        if self.pos >= len(self.data):
            raise MpyFormatError(f"truncated: file ends at byte {self.pos}, expected the {what}")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def uint(self, what: str) -> int:
        value, self.pos = vuint.decode(self.data, self.pos, what)
        return value

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise MpyFormatError(
                f"truncated: the {what} needs {n} bytes at byte {self.pos}, "
                f"file has {len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def _read_header(cur: _Cursor) -> tuple:
    magic = cur.byte("magic byte")
    if magic != MAGIC:
        raise MpyFormatError(f"not a .mpy file: first byte is {magic:#04x}, expected 0x4d ('M')")
    version = cur.byte("version byte")
    if version != VERSION:
        raise MpyFormatError(f"unsupported .mpy version {version}; this tool reads version 6")
    flags = cur.byte("arch/sub-version byte")
    sub_version = flags & 3
    if sub_version != SUB_VERSION:
        raise MpyFormatError(f"unsupported .mpy sub-version {sub_version}; expected 6.3")
    if flags & 0x80:
        raise MpyFormatError(f"arch byte {flags:#04x} has bit 7 set, which no loader accepts")
    code = (flags >> 2) & 0xF
    arch = arch_by_code(code)
    if code == 0:
        raise MpyFormatError("the file has no native arch (arch 0): it is bytecode, not a natmod")
    if arch is None:
        raise MpyFormatError(f"unknown arch code {code} in header byte {flags:#04x}")
    small_int_bits = cur.byte("small-int bits byte")
    if not 1 <= small_int_bits <= 8 * arch.word_size - 1:
        raise MpyFormatError(
            f"small-int bits {small_int_bits} impossible for {arch.name} "
            f"(word {arch.word_size} bytes)"
        )
    if flags & ARCH_FLAGS_BIT and arch.name != "rv32imc":
        raise MpyFormatError(
            f"arch-flags bit set in header byte {flags:#04x}, but only "
            f"rv32imc files have arch flags (this one is {arch.name})"
        )
    arch_flags = cur.uint("arch flags") if flags & ARCH_FLAGS_BIT else 0
    return version, sub_version, arch, arch_flags, small_int_bits


def _read_qstrs(cur: _Cursor, count: int) -> list[str]:
    names = []
    for i in range(count):
        entry = cur.uint(f"length of qstr {i}")
        if entry & 1:
            names.append(f"<static qstr {entry >> 1}>")
            continue
        raw = cur.take(entry >> 1, f"text of qstr {i}")
        if cur.byte(f"terminator of qstr {i}") != 0:
            raise MpyFormatError(f"qstr {i} is not followed by a 0 byte")
        try:
            names.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise MpyFormatError(f"qstr {i} is not valid UTF-8") from None
    return names


def _skip_obj(cur: _Cursor, i: int) -> None:
    kind = cur.byte(f"type of object {i}")
    if kind in OBJ_TYPE_NAMES:
        return
    if kind in (5, 6):
        cur.take(cur.uint(f"length of object {i}") + 1, f"bytes of object {i}")
    elif kind in (7, 8, 9):
        cur.take(cur.uint(f"length of object {i}"), f"text of object {i}")
    elif kind == 10:
        for _ in range(cur.uint(f"size of tuple object {i}")):
            _skip_obj(cur, i)
    else:
        raise MpyFormatError(f"object {i} has unknown type byte {kind}")


def _read_relocs(cur: _Cursor, text_size: int, rodata_size: int, word: int) -> list[RelocOp]:
    ops = []
    blob, offset = None, None
    while True:
        op = cur.byte("next relocation op (the stream must end with 0xff)")
        if op == OP_END:
            return ops
        has_address = bool(op & 1)
        if has_address:
            addr = cur.uint("relocation address")
            blob = "rodata" if addr & 1 else "text"
            offset = (addr >> 1) * word
        elif blob is None:
            raise MpyFormatError(f"relocation op {op:#04x} at byte {cur.pos - 1} has no address")
        kind = op >> 1
        count = 1
        if kind <= 5:
            if kind & 1:
                count = cur.uint("relocation run count")
            kind &= ~1
        size = text_size if blob == "text" else rodata_size
        end = offset + count * word
        if count == 0 or end > size:
            raise MpyFormatError(
                f"relocation (kind {kind}) of {count} word(s) at {blob}+{offset:#x} points "
                f"outside the {blob} ({size} bytes)"
            )
        ops.append(RelocOp(kind, count, blob, offset, has_address))
        offset = end


def read_mpy(data: bytes) -> MpyFile:
    cur = _Cursor(bytes(data))
    version, sub_version, arch, arch_flags, small_int_bits = _read_header(cur)
    n_qstr = cur.uint("qstr count")
    n_obj = cur.uint("object count")
    qstrs = _read_qstrs(cur, n_qstr)
    for i in range(n_obj):
        _skip_obj(cur, i)
    kind_len = cur.uint("raw code kind/length")
    if kind_len & 7 != VIPER_KIND_BITS:
        raise MpyFormatError(
            f"outer code has kind bits {kind_len & 7}; a natmod is one viper code with no "
            f"children (bits 2)"
        )
    text = cur.take(kind_len >> 3, "text")
    scope = cur.uint("scope flags")
    rodata_size = cur.uint("rodata size") if scope & SCOPE_RODATA else 0
    bss_size = cur.uint("bss size") if scope & SCOPE_BSS else 0
    rodata = cur.take(rodata_size, "rodata")
    ops = []
    if scope & SCOPE_RELOC:
        ops = _read_relocs(cur, len(text), rodata_size, arch.word_size)
    return MpyFile(
        version=version,
        sub_version=sub_version,
        arch=arch.name,
        arch_code=arch.mpy_code,
        arch_flags=arch_flags,
        small_int_bits=small_int_bits,
        qstrs=qstrs,
        n_objs=n_obj,
        text=text,
        scope_flags=scope,
        rodata_size=rodata_size,
        bss_size=bss_size,
        rodata=rodata,
        ops=ops,
    )
