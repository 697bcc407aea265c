# SPDX-License-Identifier: MIT
"""The .mpy variable-length unsigned int: 7-bit groups, most significant group first.

Not LEB128: the loader reads the high group first (NATMOD_FACTS 1.1).
"""

from .errors import MpyFormatError


def encode(value: int) -> bytes:
    if value < 0:
        raise ValueError(f"vuint cannot hold a negative value ({value})")
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(groups))


def decode(data: bytes, pos: int, what: str = "vuint") -> tuple[int, int]:
    """Returns (value, position after it); MpyFormatError if the data ends inside it."""
    value = 0
    while True:
        if pos >= len(data):
            raise MpyFormatError(f"truncated: file ends inside the {what} at byte {pos}")
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos
