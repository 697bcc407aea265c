# SPDX-License-Identifier: MIT
"""Static libraries (`ar` archives such as libgcc.a): a symbol index and lazy member loading.

Only the members that define a needed symbol are pulled, as a normal linker does.
"""

from dataclasses import dataclass, field
from pathlib import Path

from .elf_objects import ElfObject, load_object
from .errors import LinkError

GLOBAL_MAGIC = b"!<arch>\n"
THIN_MAGIC = b"!<thin>\n"
HEADER_SIZE = 60


@dataclass
class Archive:
    path: Path
    data: bytes
    members: dict[int, str] = field(default_factory=dict)  # header offset -> member name
    index: dict[str, int] = field(default_factory=dict)  # symbol -> member header offset
    _loaded: dict[int, ElfObject] = field(default_factory=dict)

    def member_for(self, symbol: str) -> int | None:
        return self.index.get(symbol)

    def load_member(self, offset: int, arch) -> ElfObject:
        if offset not in self._loaded:
            if offset not in self.members:
                raise LinkError(f"{self.path}: damaged symbol index (no member at {offset})")
            size = int(self.data[offset + 48 : offset + 58].decode().strip())
            start = offset + HEADER_SIZE
            body = self.data[start : start + size]
            name = f"{self.path.name}({self.members.get(offset, hex(offset))})"
            self._loaded[offset] = load_object(body, name, arch)
        return self._loaded[offset]


def _parse_symbol_index(body: bytes, path: Path, width: int = 4) -> dict[str, int]:
    # GNU "/" member ("/SYM64/": 8-byte fields): big-endian count, that many big-endian
    # member offsets, then the names, NUL-terminated.
    count = int.from_bytes(body[:width], "big")
    if width * (count + 1) > len(body):
        raise LinkError(f"{path}: damaged archive symbol index")
    offsets = [
        int.from_bytes(body[width * (i + 1) : width * (i + 2)], "big") for i in range(count)
    ]
    names = body[width * (count + 1) :].split(b"\x00")
    if len(names) < count:
        raise LinkError(f"{path}: damaged archive symbol index")
    index = {}
    for name, offset in zip(names, offsets):
        index.setdefault(name.decode("utf-8", "replace"), offset)
    return index


def read_archive(path) -> Archive:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise LinkError(f"cannot read library {path}: {err.strerror}") from None
    if data.startswith(THIN_MAGIC):
        raise LinkError(f"{path}: thin archives are not supported; use a normal .a")
    if not data.startswith(GLOBAL_MAGIC):
        raise LinkError(f"{path}: not an ar archive (.a)")
    archive = Archive(path, data)
    long_names = b""
    pos = len(GLOBAL_MAGIC)
    while pos + HEADER_SIZE <= len(data):
        header = data[pos : pos + HEADER_SIZE]
        if header[58:60] != b"`\n":
            raise LinkError(f"{path}: damaged archive member header at byte {pos}")
        raw_name = header[:16].decode("utf-8", "replace").rstrip()
        try:
            size = int(header[48:58].decode().strip())
        except ValueError:
            raise LinkError(f"{path}: damaged archive member header at byte {pos}") from None
        body = data[pos + HEADER_SIZE : pos + HEADER_SIZE + size]
        if raw_name == "/":
            archive.index = _parse_symbol_index(body, path)
        elif raw_name == "/SYM64/":
            archive.index = _parse_symbol_index(body, path, 8)
        elif raw_name == "//":
            long_names = body
        else:
            if raw_name.startswith("/") and raw_name[1:].isdigit():
                start = int(raw_name[1:])
                end = long_names.find(b"/\n", start)
                raw_name = long_names[start:end].decode("utf-8", "replace")
            archive.members[pos] = raw_name.rstrip("/")
        pos += HEADER_SIZE + size + (size & 1)
    if not archive.index:
        raise LinkError(f"{path}: archive has no symbol index; run `ranlib` on it")
    return archive
