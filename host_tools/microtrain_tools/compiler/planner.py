# SPDX-License-Identifier: MIT
"""Liveness-based placement of tensors in one arena.

Each tensor lives from the op that first writes it to the op that last reads it. Two tensors may
share bytes only if their lives do not overlap. Placement is greedy by size (largest first, at
the lowest offset that fits), the usual heuristic of TFLite Micro's planner and of the paper's
engine; the result is checked, so a planner bug cannot hand out overlapping memory.

In-place ops: a tensor may also overlap one partner it is alive with, at one exact relative
offset (`Tensor.alias`), when that was shown safe for the op that reads one and writes the other
(compiler/inplace.py); e.g. a depthwise conv whose output trails its dying input by a row.
"""

import random
from dataclasses import dataclass, field

from ..errors import MicrotrainError

ALIGN = 4  # every buffer word aligned: Cortex-M0 faults on unaligned word access


@dataclass
class Tensor:
    name: str
    size: int
    first: int  # index of the first op that touches it
    last: int  # index of the last op that touches it
    offset: int = -1
    # (partner, delta): this tensor may overlap `partner` if its offset is partner's + delta
    alias: list = field(default_factory=list, repr=False, compare=False)

    def overlaps_in_time(self, other) -> bool:
        return self.first <= other.last and other.first <= self.last

    def may_share(self, other) -> bool:
        """Is the current placement of self and other one of their allowed overlaps?"""
        return any(p is other and self.offset - other.offset == d for p, d in self.alias)


def allow_overlap(a: Tensor, b: Tensor, delta: int) -> None:
    """Let b sit at a.offset + delta even while both are alive."""
    a.alias.append((b, -delta))
    b.alias.append((a, delta))


def _aligned(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _fits(t: Tensor, offset: int, live) -> bool:
    """live: the placed tensors alive while t is."""
    t.offset = offset
    end = offset + t.size
    for p in live:
        if offset < p.offset + p.size and p.offset < end and not t.may_share(p):
            return False
    return True


def _lowest_fit(t: Tensor, live) -> int:
    """The lowest offset where t shares no byte with any tensor of `live`."""
    a = ALIGN
    busy = sorted((p.offset, (p.offset + p.size + a - 1) // a * a) for p in live)
    offset = 0
    for start, end in busy:
        if offset + t.size <= start:
            break
        if end > offset:
            offset = end
    return offset


def _alive_with(tensors) -> dict:
    """id(tensor) -> the other tensors alive at some op where it is (a sweep by first op)."""
    out = {id(t): [] for t in tensors}
    by_first = sorted(tensors, key=lambda t: t.first)
    for i, a in enumerate(by_first):
        for b in by_first[i + 1:]:
            if b.first > a.last:
                break
            out[id(a)].append(b)
            out[id(b)].append(a)
    return out


def _place_in_order(order, alive_with, use_alias=True) -> int:
    for t in order:
        t.offset = -1
    for t in order:
        # The lowest free offset, or an allowed overlap with a placed partner where that is
        # lower (an overlap usually saves a whole tensor).
        live = [p for p in alive_with[id(t)] if p.offset >= 0]  # placed, alive with t
        best = _lowest_fit(t, live)
        if use_alias:
            for p, d in t.alias:
                o = p.offset + d
                if p.offset >= 0 and 0 <= o < best and _fits(t, o, live):
                    best = o
        t.offset = best
    return max((_aligned(t.offset + t.size) for t in order), default=0)


# Placement is deterministic in what it is given (sizes, lives, names, allowed overlaps, tries),
# and a policy search or a tiling choice plans the same program again and again (the predict
# program of every policy updating the same layers' biases): such a plan is looked up.
_PLANS = {}
_PLANS_KEPT = 512


def _plan_key(tensors, tries):
    index = {id(t): i for i, t in enumerate(tensors)}
    if any(id(p) not in index for t in tensors for p, _ in t.alias):
        return None  # a partner planned elsewhere: not a plan of these tensors alone
    return tries, tuple((t.name, t.size, t.first, t.last,
                         tuple((index[id(p)], d) for p, d in t.alias)) for t in tensors)


def plan(tensors, tries: int = 0) -> int:
    """Set each tensor's offset; return the arena size in bytes.

    Greedy placement in a few orders (largest first, as TFLite Micro does; and by time, forward
    and backward, which follows chains of in-place ops), with the in-place overlaps and, largest
    first, without them (greedy overlaps can fragment a learn program's arena); the smallest
    arena is kept.
    """
    for t in tensors:
        if t.size < 0 or t.first > t.last:
            raise MicrotrainError(f"bad tensor lifetime or size: {t}")
    key = _plan_key(tensors, tries)
    if key in _PLANS:
        best_size, best_offsets = _PLANS[key]
        for t, offset in zip(tensors, best_offsets):
            t.offset = offset
        check(tensors)
        return best_size
    best_size = _plan(tensors, tries)
    if key is not None:
        if len(_PLANS) >= _PLANS_KEPT:
            del _PLANS[next(iter(_PLANS))]  # the oldest
        _PLANS[key] = best_size, [t.offset for t in tensors]
    return best_size


def _plan(tensors, tries) -> int:
    largest = sorted(tensors, key=lambda t: (-t.size, t.first, t.name))
    orders = [(largest, True)]
    if any(t.alias for t in tensors):
        orders.append((sorted(tensors, key=lambda t: (t.first, -t.size, t.name)), True))
        orders.append((sorted(tensors, key=lambda t: (-t.last, -t.size, t.name)), True))
        orders.append((largest, False))
    rng = random.Random(0)
    for _ in range(tries):
        order = sorted(tensors, key=lambda t: (-t.size * rng.uniform(0.5, 1.5), t.name))
        orders.append((order, bool(rng.getrandbits(1)) and any(t.alias for t in tensors)))
    alive_with = _alive_with(tensors)
    best_size, best_offsets = None, None
    for order, use_alias in orders:
        size = _place_in_order(order, alive_with, use_alias)
        if best_size is None or size < best_size:
            best_size, best_offsets = size, [t.offset for t in tensors]
    for t, offset in zip(tensors, best_offsets):
        t.offset = offset
    check(tensors)
    return best_size


def check(tensors) -> None:
    """Refuse any two tensors that are alive at once and share a byte."""
    ts = sorted(tensors, key=lambda t: t.offset)
    for i, a in enumerate(ts):
        for b in ts[i + 1 :]:
            if b.offset >= a.offset + a.size:
                break
            if a.size and b.size and a.overlaps_in_time(b) and not a.may_share(b):
                raise MicrotrainError(f"planner error: {a.name} and {b.name} overlap")
