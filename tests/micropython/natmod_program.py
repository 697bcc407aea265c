# SPDX-License-Identifier: MIT
# check() and run() of _microtrain with a hand-made one-op training program (the layout of
# natmod/ops/mt_program.h): an int8 dot product of two arena slices into the arena.
# Prints "ok" at the end; runs on the unix port and on a board.
import array
import struct

import _microtrain as mt


def op_table_hash():
    # FNV-1a over the op names in table order, each followed by a zero byte.
    h = 2166136261
    for i in range(mt.op_count()):
        for c in mt.op_info(i)[0].encode() + b"\0":
            h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


ARENA, OUTPUT = 0, 5
dot = [i for i in range(mt.op_count()) if mt.op_info(i)[0] == "mt_dot_s8"][0]
n = 12
a = bytes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x80])  # the last is -128
b = bytes([3] * 11 + [0x80])
want = sum(range(1, 12)) * 3 + 128 * 128

program = struct.pack("<4sHHII", b"MTPG", 1, 0, op_table_hash(), 1)
program += struct.pack("<HBB", dot, 0, 3)
program += struct.pack("<II", ARENA << 28 | 0, n)
program += struct.pack("<II", ARENA << 28 | n, n)
program += struct.pack("<II", OUTPUT << 28 | 0, 4)

arena = bytearray(a + b)
out = array.array("i", [0, 0])
regions = (arena, b"", bytearray(0), array.array("f"), array.array("i"), out)
mt.check(program, *regions)
mt.run(program, *regions)
assert out[0] == want, (out, want)

# A program whose buffer runs past its region is refused by check() and by run().
bad = program[:-8] + struct.pack("<II", OUTPUT << 28 | 4, 8)
for fn in (mt.check, mt.run):
    try:
        fn(bad, *regions)
    except ValueError as err:
        assert "training program op 0" in str(err), err
    else:
        raise AssertionError("a buffer past its region was accepted")

# A program that writes into x or y is refused before any op runs: an immutable bytes x stays.
INPUT, TARGET = 3, 4
for region in (INPUT, TARGET):
    x = bytes(range(16))
    y = bytes(range(16))
    writes_xy = program[:-8] + struct.pack("<II", region << 28 | 0, 4)
    for fn in (mt.check, mt.run):
        try:
            fn(writes_xy, arena, b"", bytearray(0), x, y, out)
        except ValueError as err:
            assert "writes to a read-only buffer" in str(err), err
        else:
            raise AssertionError("a program writing region %d was accepted" % region)
    assert x == bytes(range(16)) and y == bytes(range(16)), (x, y)
print("ok")
