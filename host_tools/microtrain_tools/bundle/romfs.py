# SPDX-License-Identifier: MIT
"""A ROMFS image of a packed dist/ folder: what MicroPython 1.25+ mounts at /rom.

The records are written by mpremote's VfsRomWriter (MicroPython's own tool), with one addition:
frozen weights files (*.weights) are placed as root-level data blobs at an ALIGN-byte boundary of
the image (PADDING records before them), and their file records point there (DATA_POINTER).
mpremote alone aligns nothing but the header (file data lands at any even offset), and the
executor refuses a weight buffer that is not aligned to its element size (int32 biases and
requant tables: natmod/ops/mt_op_args.c mt_op_check_buf). Partitions start at a flash-page
boundary, so an offset aligned in the image is aligned in the mapped address space.

read_image parses an image back (mpremote has no reader): tests and pack use it to check that
every weights file is aligned.

Format (MicroPython extmod/vfs_rom.c): b"\\xd2\\xcd\\x31", varuint length of the record area,
records = varuint kind, varuint length, payload; DATA_POINTER offsets count from the start of
the record area.
"""

from dataclasses import dataclass
from pathlib import Path

from ..errors import MicrotrainError

ROMFS_IMAGE = "romfs.img"  # in dist/, beside the files it holds
ALIGN = 16  # enough for every element size (4) and for 8-byte loads of a future kernel
ALIGNED_SUFFIX = ".weights"
MAGIC = b"\xd2\xcd\x31"
KIND_PADDING, KIND_VERBATIM, KIND_POINTER, KIND_DIRECTORY, KIND_FILE = 1, 2, 3, 4, 5


def _writer_class():
    try:
        from mpremote.romfs import VfsRomWriter
    except ImportError:
        raise MicrotrainError("mpremote is not installed: install the pinned package "
                              "(make venv)") from None

    class AligningWriter(VfsRomWriter):
        def mkpadding(self, n: int) -> None:
            """A PADDING record of exactly n >= 2 bytes (kind, length, n - 2 zeros)."""
            if not 2 <= n < 0x80:
                raise ValueError(f"padding of {n} bytes")
            self._extend(self._pack(self.ROMFS_RECORD_KIND_PADDING, bytes(n - 2)))

    return AligningWriter


def _build(root: Path, files: list, header_guess: int, tail: int) -> tuple[bytes, int]:
    """The image, with blobs aligned if the header is header_guess bytes long; and the header's
    real length (it depends on the record area's length, so build_image iterates)."""
    writer = _writer_class()()
    pointers = {}
    pos = 0  # bytes of root records so far
    for rel in files:
        if not rel.name.endswith(ALIGNED_SUFFIX):
            continue
        data = (root / rel).read_bytes()
        # The blob starts after its record's kind (1 byte) and length varuints.
        gap = -(header_guess + pos + 1 + _uint_size(len(data))) % ALIGN
        if gap:
            pad = gap if gap >= 2 else gap + ALIGN
            writer.mkpadding(pad)
            pos += pad
        offset = writer.mkdata(data)
        pointers[rel] = (len(data), offset)
        pos = offset + len(data)
    _add_tree(writer, root, files, Path("."), pointers)
    if tail:
        writer.mkpadding(tail)  # after everything: changes only the record area's length
    image = writer.finalise()
    return image, _header(image)[2]


def _uint_size(value: int) -> int:
    return max(1, (value.bit_length() + 6) // 7)


def _add_tree(writer, root: Path, files: list, folder: Path, pointers: dict) -> None:
    here = sorted(f for f in files if f.parent == folder)
    subdirs = sorted({f.relative_to(folder).parts[0] for f in files
                      if f.parent != folder and folder in f.parents})
    for rel in here:
        writer.mkfile(rel.name, pointers.get(rel) or (root / rel).read_bytes())
    for name in subdirs:
        writer.opendir(name)
        _add_tree(writer, root, files, folder / name, pointers)
        writer.closedir()


def build_image(root, files) -> bytes:
    """A ROMFS image of `files` (paths relative to root), weights files ALIGN-aligned."""
    root = Path(root)
    files = [Path(f) for f in files]
    # The header is 3 magic bytes, the record area's length as a varuint, and one more byte
    # when that would leave the image's length odd: so its length depends on what the
    # padding makes of the record area. Try each header length; a 3-byte tail record flips the
    # parity when the padding alone lands on the other one.
    for header in range(len(MAGIC) + 1, len(MAGIC) + 6):
        for tail in (0, 3):
            image, actual = _build(root, files, header, tail)
            if actual == header:
                check_alignment(image)
                return image
    raise MicrotrainError("romfs: no layout aligns the weights (report this)")


# ---- reading an image back -------------------------------------------------------------------

@dataclass
class RomFile:
    path: str
    offset: int  # of its first byte in the image
    size: int


def _uint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    value = 0
    while True:
        if pos >= end:
            raise MicrotrainError("romfs: a number runs past its record")
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos


def _header(image: bytes) -> tuple[int, int, int]:
    if not image.startswith(MAGIC):
        raise MicrotrainError("romfs: not a ROMFS image (bad header)")
    length, start = _uint(image, len(MAGIC), len(image))
    if start + length > len(image):
        raise MicrotrainError(f"romfs: record area of {length} bytes runs past the image")
    return len(MAGIC), length, start


def _records(image: bytes, pos: int, end: int):
    while pos < end:
        kind, pos = _uint(image, pos, end)
        length, pos = _uint(image, pos, end)
        if pos + length > end:
            raise MicrotrainError("romfs: a record runs past its folder")
        yield kind, pos, pos + length
        pos += length


def _named(image: bytes, start: int, end: int) -> tuple[str, int]:
    n, pos = _uint(image, start, end)
    if pos + n > end:
        raise MicrotrainError("romfs: a name runs past its record")
    return image[pos:pos + n].decode("ascii"), pos + n


def read_image(image: bytes) -> list[RomFile]:
    """Every file of the image with where its bytes are."""
    _, length, base = _header(bytes(image))
    files = []

    def walk(pos, end, prefix):
        for kind, start, stop in _records(image, pos, end):
            if kind == KIND_DIRECTORY:
                name, body = _named(image, start, stop)
                walk(body, stop, prefix + name + "/")
            elif kind == KIND_FILE:
                name, body = _named(image, start, stop)
                data_kind, data_start, data_stop = next(_records(image, body, stop))
                if data_kind == KIND_VERBATIM:
                    files.append(RomFile(prefix + name, data_start, data_stop - data_start))
                elif data_kind == KIND_POINTER:
                    size, p = _uint(image, data_start, data_stop)
                    offset, _ = _uint(image, p, data_stop)
                    if base + offset + size > base + length:
                        raise MicrotrainError(f"romfs: {prefix + name} points past the image")
                    files.append(RomFile(prefix + name, base + offset, size))
                else:
                    raise MicrotrainError(f"romfs: {prefix + name} has data record {data_kind}")

    walk(base, base + length, "")
    return files


def check_alignment(image: bytes) -> None:
    for f in read_image(image):
        if f.path.endswith(ALIGNED_SUFFIX) and f.offset % ALIGN:
            raise MicrotrainError(f"romfs: {f.path} starts at offset {f.offset}, not a "
                                  f"multiple of {ALIGN}")
