# SPDX-License-Identifier: MIT
import random

import pytest

from microtrain_tools.errors import MicrotrainError
from microtrain_tools.compiler import planner
from microtrain_tools.compiler.planner import Tensor, allow_overlap, check, plan
from microtrain_tools.formats.program import (
    BufRef,
    OpCall,
    Region,
    decode_program,
    encode_program,
    op_table_hash,
)

NAMES = ["mt_dot_s8", "mt_fc_s8_fwd"]


def sample_ops():
    return [
        OpCall("mt_dot_s8", [], [BufRef(Region.INPUT, 0, 8), BufRef(Region.WEIGHTS, 16, 8),
                                 BufRef(Region.ARENA, 4, 4)]),
        OpCall("mt_fc_s8_fwd", [1, -2, 2**31 - 1], [BufRef(Region.PARAMS, 0, 3)]),
    ]


def test_program_round_trip():
    data = encode_program(sample_ops(), NAMES)
    back = decode_program(data, NAMES)
    assert [(o.name, o.args, o.bufs) for o in back] == [
        (o.name, o.args, o.bufs) for o in sample_ops()
    ]


def test_program_damage_is_named():
    data = encode_program(sample_ops(), NAMES)
    with pytest.raises(MicrotrainError, match="truncated"):
        decode_program(data[:10], NAMES)
    with pytest.raises(MicrotrainError, match="damaged"):
        decode_program(data[:-3], NAMES)
    with pytest.raises(MicrotrainError, match="trailing"):
        decode_program(data + b"\0", NAMES)
    with pytest.raises(MicrotrainError, match="magic"):
        decode_program(b"XXXX" + data[4:], NAMES)
    with pytest.raises(MicrotrainError, match="another op table"):
        decode_program(data, NAMES[::-1])
    with pytest.raises(MicrotrainError, match="not in the native module"):
        encode_program([OpCall("mt_nope")], NAMES)


def test_op_table_hash_is_fnv1a_of_names():
    assert op_table_hash([]) == 2166136261
    assert op_table_hash(["a"]) != op_table_hash(["a", ""])


def test_planner_shares_memory_only_between_disjoint_lives():
    ts = [Tensor("a", 100, 0, 1), Tensor("b", 50, 1, 2), Tensor("c", 100, 2, 3)]
    size = plan(ts)
    assert ts[0].offset != ts[1].offset or ts[0].size == 0
    assert size == 152  # a and c share; b (aligned to 52) sits beside them
    check(ts)


def test_planner_random_lives_never_overlap():
    rng = random.Random(1)
    for _ in range(50):
        ts = []
        for i in range(30):
            first = rng.randrange(20)
            ts.append(Tensor(f"t{i}", rng.randrange(1, 500), first, first + rng.randrange(5)))
        size = plan(ts)
        check(ts)
        peak = max(sum(t.size for t in ts if t.first <= k <= t.last) for k in range(25))
        assert peak <= size, "arena smaller than the bytes alive at one time"
        assert all(t.offset % 4 == 0 for t in ts)


def random_program(rng, n=30):
    """Lives, in-place pairs, and sizes of few values (names then break ties in placement)."""
    ts = []
    for i in range(n):
        first = rng.randrange(20)
        ts.append(Tensor(f"t{i}", rng.choice((4, 64, 200)), first, first + rng.randrange(5)))
    for a, b in zip(ts[::3], ts[1::3]):  # in-place pairs, as conv inputs and outputs
        allow_overlap(a, b, -4 * rng.randrange(8))
    return ts


def copy_program(ts, i, size=0, last=0, name="", delta=0):
    """ts with tensor i changed (bigger, living longer, renamed, its overlap moved)."""
    copy = [Tensor(name if name and j == i else t.name, t.size + (size if j == i else 0),
                   t.first, t.last + (last if j == i else 0)) for j, t in enumerate(ts)]
    for j, t in enumerate(ts):
        for partner, d in t.alias:
            k = ts.index(partner)
            if j < k:
                allow_overlap(copy[j], copy[k], -d + (delta if i in (j, k) else 0))
    return copy


def variants(ts):
    """The same program with one thing changed: a size, a life, a name, an overlap."""
    return [copy_program(ts, 5, size=4), copy_program(ts, 7, last=1),
            *[copy_program(ts, i, name="zz") for i in range(1, 30, 3)],
            copy_program(ts, 0, delta=4)]


def test_a_plan_looked_up_is_the_plan_placed_afresh(monkeypatch):
    """plan() keeps the placements it made and looks a program up when it meets it again
    (a policy search plans the same programs over and over): what it gives must be what a
    fresh placement gives, and a program that differs in anything must not be taken for it."""
    rng = random.Random(3)
    programs = []
    for _ in range(20):
        ts = random_program(rng)
        programs += [ts, *variants(ts)]
    looked_up = []
    for tries in (0, 3):
        for ts in programs + programs:  # the second time round, every plan is looked up
            looked_up.append((plan(ts, tries), [t.offset for t in ts]))
    monkeypatch.setattr(planner, "_plan_key", lambda tensors, tries: None)
    fresh = []
    for tries in (0, 3):
        for ts in programs + programs:
            fresh.append((plan(ts, tries), [t.offset for t in ts]))
    assert looked_up == fresh


def test_planner_check_catches_overlap():
    a, b = Tensor("a", 8, 0, 2, offset=0), Tensor("b", 8, 1, 3, offset=4)
    with pytest.raises(MicrotrainError, match="overlap"):
        check([a, b])
