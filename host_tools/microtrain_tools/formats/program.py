# SPDX-License-Identifier: MIT
"""The training program file: a flat list of op calls with fixed buffer references.

Byte layout is documented in natmod/ops/mt_program.h (the C executor that runs it). This module
writes and reads that layout; ops are named by kernel name here and turned into table ids with
the op table of the library the program is built for.
"""

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from ..errors import MicrotrainError

MAGIC = b"MTPG"
VERSION = 1
HEADER = struct.Struct("<4sHHII")  # magic, version, reserved, op_table_hash, n_ops
OFFSET_BITS = 28


class Region(IntEnum):
    ARENA = 0
    WEIGHTS = 1
    PARAMS = 2
    INPUT = 3
    TARGET = 4
    OUTPUT = 5


@dataclass(frozen=True)
class BufRef:
    region: Region
    offset: int
    length: int

    def __post_init__(self):
        if not 0 <= self.offset < (1 << OFFSET_BITS) or not 0 <= self.length < (1 << 32):
            raise MicrotrainError(f"buffer reference out of range: {self}")


@dataclass
class OpCall:
    name: str
    args: list = field(default_factory=list)
    bufs: list = field(default_factory=list)
    comment: str = ""  # what the compiler emitted it for (shown by `microtrain mem --ops`)


def op_table_hash(op_names) -> int:
    """FNV-1a over the names in table order, each followed by a zero: mt_op_table_hash in C."""
    h = 2166136261
    for name in op_names:
        for byte in name.encode() + b"\0":
            h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def encode_program(ops, op_names) -> bytes:
    """Serialise OpCalls for the op table whose names (in id order) are op_names."""
    ids = {name: i for i, name in enumerate(op_names)}
    out = bytearray(HEADER.pack(MAGIC, VERSION, 0, op_table_hash(op_names), len(ops)))
    for op in ops:
        if op.name not in ids:
            raise MicrotrainError(f"op {op.name!r} is not in the native module's op table")
        out += struct.pack("<HBB", ids[op.name], len(op.args), len(op.bufs))
        out += struct.pack(f"<{len(op.args)}i", *[int(a) for a in op.args])
        for ref in op.bufs:
            out += struct.pack("<II", (int(ref.region) << OFFSET_BITS) | ref.offset, ref.length)
    return bytes(out)


def decode_program(data: bytes, op_names) -> list:
    """Inverse of encode_program, with errors that say what is wrong."""
    if len(data) < HEADER.size:
        raise MicrotrainError(f"training program truncated: {len(data)} bytes, header needs 16")
    magic, version, _, table_hash, n_ops = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise MicrotrainError(f"not a training program (magic {magic!r})")
    if version != VERSION:
        raise MicrotrainError(f"training program version {version}, this tool reads {VERSION}")
    if table_hash != op_table_hash(op_names):
        raise MicrotrainError("training program was compiled for another op table")
    pos, ops = HEADER.size, []
    try:
        for _ in range(n_ops):
            op_id, n_args, n_bufs = struct.unpack_from("<HBB", data, pos)
            pos += 4
            args = list(struct.unpack_from(f"<{n_args}i", data, pos))
            pos += 4 * n_args
            bufs = []
            for _ in range(n_bufs):
                where, length = struct.unpack_from("<II", data, pos)
                pos += 8
                bufs.append(BufRef(Region(where >> OFFSET_BITS), where & 0x0FFFFFFF, length))
            ops.append(OpCall(op_names[op_id], args, bufs))
    except (struct.error, IndexError, ValueError) as err:
        raise MicrotrainError(f"training program damaged at byte {pos}: {err}") from None
    if pos != len(data):
        raise MicrotrainError(f"training program has {len(data) - pos} trailing bytes")
    return ops
