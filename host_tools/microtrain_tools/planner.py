# SPDX-License-Identifier: MIT
"""Liveness-based placement of tensors in one arena.

Each tensor lives from the op that first writes it to the op that last reads it. Two tensors may
share bytes only if their lives do not overlap. Placement is greedy by size (largest first, at
the lowest offset that fits), the usual heuristic of TFLite Micro's planner and of the paper's
engine; the result is checked, so a planner bug cannot hand out overlapping memory.
"""

from dataclasses import dataclass

from .errors import MicrotrainError

ALIGN = 4  # every buffer word aligned: Cortex-M0 faults on unaligned word access


@dataclass
class Tensor:
    name: str
    size: int
    first: int  # index of the first op that touches it
    last: int  # index of the last op that touches it
    offset: int = -1

    def overlaps_in_time(self, other) -> bool:
        return self.first <= other.last and other.first <= self.last


def _aligned(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def plan(tensors) -> int:
    """Set each tensor's offset; return the arena size in bytes."""
    placed = []
    for t in sorted(tensors, key=lambda t: (-t.size, t.first, t.name)):
        if t.size < 0 or t.first > t.last:
            raise MicrotrainError(f"bad tensor lifetime or size: {t}")
        busy = sorted(
            (p.offset, p.offset + _aligned(p.size)) for p in placed if p.overlaps_in_time(t)
        )
        offset = 0
        for start, end in busy:
            if offset + t.size <= start:
                break
            offset = max(offset, end)
        t.offset = offset
        placed.append(t)
    check(tensors)
    return max((_aligned(t.offset + t.size) for t in tensors), default=0)


def check(tensors) -> None:
    """Refuse any two tensors that are alive at once and share a byte."""
    ts = sorted(tensors, key=lambda t: t.offset)
    for i, a in enumerate(ts):
        for b in ts[i + 1 :]:
            if b.offset >= a.offset + a.size:
                break
            if a.size and b.size and a.overlaps_in_time(b):
                raise MicrotrainError(f"planner error: {a.name} and {b.name} overlap")
