# SPDX-License-Identifier: MIT
import random

import pytest

from microtrain_tools.errors import MicrotrainError
from microtrain_tools.compiler.planner import Tensor, check, plan
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


def test_planner_check_catches_overlap():
    a, b = Tensor("a", 8, 0, 2, offset=0), Tensor("b", 8, 1, 3, offset=4)
    with pytest.raises(MicrotrainError, match="overlap"):
        check([a, b])
