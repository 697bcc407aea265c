# SPDX-License-Identifier: MIT
# Calls every export of _microtrain with bad arguments: each must raise the named exception
# with a message, and the interpreter must keep working afterwards. Runs as it is on the unix
# port (tests/test_natmod_x64.py) and on a board (`mpremote run`). Prints "ok" at the end.
import array

import _microtrain as mt

GOOD_A = bytes([1, 2, 3])
GOOD_B = bytearray([4, 5, 6])
checked = 0


def expect(exc_type, words, fn, *args):
    global checked
    try:
        fn(*args)
    except exc_type as err:
        msg = str(err)
        assert msg, "%s raised %s without a message" % (fn, exc_type.__name__)
        assert words in msg, "%r: message %r lacks %r" % (args, msg, words)
        checked += 1
        return
    except Exception as err:
        raise AssertionError("%r raised %s(%r), expected %s" % (args, type(err).__name__, err,
                                                                 exc_type.__name__))
    raise AssertionError("%r: no exception, expected %s" % (args, exc_type.__name__))


def sample_buffer(elem_type, n=8):
    if elem_type == "b":
        return bytearray(n)
    return array.array(elem_type, [0] * n)


def wrong_buffer(elem_type):
    # A buffer of another element type (bytearray is int8, so int8 slots get a float array).
    return array.array("f", [0.0]) if elem_type == "b" else bytearray(4)


# info, op_count: no arguments
expect(TypeError, "argument", mt.info, 1)
expect(TypeError, "argument", mt.op_count, 1)

# dot_s8(a, b)
expect(TypeError, "argument", mt.dot_s8, GOOD_A)
expect(TypeError, "argument", mt.dot_s8, GOOD_A, GOOD_B, GOOD_B)
expect(TypeError, "a: expected", mt.dot_s8, 5, GOOD_B)
expect(TypeError, "b: expected", mt.dot_s8, GOOD_A, None)
expect(TypeError, "a: expected", mt.dot_s8, array.array("i", [1, 2, 3]), GOOD_B)
expect(TypeError, "b: expected", mt.dot_s8, GOOD_A, array.array("f", [1, 2, 3]))
expect(ValueError, "lengths differ", mt.dot_s8, GOOD_A, GOOD_B[:2])
expect(ValueError, "lengths differ", mt.dot_s8, b"", GOOD_B)

# op_info(op_id)
n_ops = mt.op_count()
expect(ValueError, "unknown op", mt.op_info, n_ops)
expect(ValueError, "unknown op", mt.op_info, -1)
expect(OverflowError, "too large", mt.op_info, 1 << 100)
expect(TypeError, "int", mt.op_info, "0")
expect(TypeError, "int", mt.op_info, 0.0)
expect(TypeError, "argument", mt.op_info)

# op(op_id, args, *bufs): checks that hold for every row of the op table
expect(TypeError, "argument", mt.op)
expect(TypeError, "argument", mt.op, 0)
expect(ValueError, "unknown op", mt.op, n_ops, None)
expect(ValueError, "unknown op", mt.op, -5, None)
expect(TypeError, "int", mt.op, None, None)
for op_id in range(n_ops):
    name, n_args, n_bufs, buf_types, writes = mt.op_info(op_id)
    args = array.array("i", [0] * n_args)
    bufs = [sample_buffer(t) for t in buf_types]
    expect(TypeError, "takes %d buffers" % n_bufs, mt.op, op_id, args, *bufs[:-1] or [b"x"] * 9)
    expect(TypeError, "args: expected", mt.op, op_id, array.array("f", [0.0]), *bufs)
    expect(TypeError, "args: expected", mt.op, op_id, 3, *bufs)
    if n_args > 0:
        expect(ValueError, "wrong number of arguments", mt.op, op_id, None, *bufs)
    expect(ValueError, "wrong number of arguments", mt.op, op_id,
           array.array("i", [0] * (n_args + 1)), *bufs)
    for i, t in enumerate(buf_types):
        bad = list(bufs)
        bad[i] = wrong_buffer(t)
        expect(TypeError, "buffer %d: expected" % i, mt.op, op_id, args, *bad)
        bad[i] = 12
        expect(TypeError, "buffer %d: expected" % i, mt.op, op_id, args, *bad)
        if writes & (1 << i) and t == "b":
            bad[i] = bytes(8)
            expect(TypeError, "buffer %d: read-only" % i, mt.op, op_id, args, *bad)
        if t != "b":
            bad[i] = memoryview(bytearray(9))  # 'B' typecode: not an int32/float32 array
            expect(TypeError, "buffer %d: expected" % i, mt.op, op_id, args, *bad)

# dot through the op table: shapes and sizes come back as ValueError with the status text
dot = [i for i in range(n_ops) if mt.op_info(i)[0] == "mt_dot_s8"][0]
out = array.array("i", [0])
expect(ValueError, "shapes do not agree", mt.op, dot, None, GOOD_A, GOOD_B[:1], out)
expect(ValueError, "buffer too small", mt.op, dot, None, GOOD_A, GOOD_B, array.array("i"))
expect(TypeError, "buffer 2: read-only", mt.op, dot, None, GOOD_A, GOOD_B, b"\0\0\0\0")
expect(TypeError, "buffer 2: expected", mt.op, dot, None, GOOD_A, GOOD_B, bytearray(4))

# typecode(buf), run(...) and check(...) (seven arguments each)
expect(TypeError, "expected a buffer", mt.typecode, 3)
expect(TypeError, "argument", mt.typecode)
assert mt.typecode(array.array("f")) == ord("f") and mt.typecode(bytearray(1)) == 1
REGIONS = [bytearray(16), b"", bytearray(4), array.array("f", [0.0]), array.array("i", [0]),
           array.array("f", [0.0, 0.0])]
for fn in (mt.run, mt.check):
    expect(TypeError, "argument", fn, b"MTPG")
    expect(TypeError, "argument", fn, b"MTPG", *REGIONS, bytearray(1))
    expect(TypeError, "program: expected", fn, None, *REGIONS)
    expect(TypeError, "arena: expected a writable buffer", fn, b"", b"read-only", *REGIONS[1:])
    expect(TypeError, "out: expected a writable buffer", fn, b"", *REGIONS[:-1], 7)
    expect(ValueError, "corrupt training program", fn, b"not a program", *REGIONS)
    expect(ValueError, "corrupt training program", fn, b"MTPG" + bytes(12), *REGIONS)

# f32_bits(x) and f32_from_bits(i): floats both ways across the runtime's table
assert mt.f32_bits(1.5) == 0x3FC00000, hex(mt.f32_bits(1.5))
assert mt.f32_bits(-1.0) == -0x40800000 and mt.f32_bits(2) == 0x40000000
assert mt.f32_from_bits(0x3FC00000) == 1.5
assert mt.f32_from_bits(0xBF800000) == -1.0 == mt.f32_from_bits(-0x40800000)
expect(TypeError, "float", mt.f32_bits, "1.5")
expect(TypeError, "float", mt.f32_bits, None)
expect(TypeError, "int", mt.f32_from_bits, 1.5)
expect(TypeError, "argument", mt.f32_bits)
expect(TypeError, "argument", mt.f32_from_bits, 1, 2)

# requant(x, multiplier, shift): int32 arguments, checked (big ints on 32-bit ports too)
assert mt.requant(1000, 1 << 30, 0) == 500
assert mt.requant(2**31 - 1, 2**31 - 1, 0) == 2**31 - 2
assert mt.requant(-(2**31), -(2**31), 0) == 2**31 - 1  # the one saturating product
assert mt.requant(True, 2**30, False) == 1
expect(OverflowError, "int32", mt.requant, 2**31, 1, 0)
expect(OverflowError, "int32", mt.requant, 1, -(2**31) - 1, 0)
expect(OverflowError, "int32", mt.requant, 1, 1, 2**32 + 1)
expect(ValueError, "shift", mt.requant, 1, 1, 31)
expect(ValueError, "shift", mt.requant, 1, 1, -32)
expect(TypeError, "int", mt.requant, "1", 1, 0)
expect(TypeError, "int", mt.requant, 1, 1.0, 0)
expect(TypeError, "argument", mt.requant, 1, 1)
# intptr-sized ints: a big int that fits a 32-bit word is accepted by op_info's id check
expect(ValueError, "unknown op", mt.op_info, 2**31 - 1)
expect(OverflowError, "too large", mt.op_info, 2**64)

# the interpreter survived: more code runs and the module still computes
assert mt.dot_s8(GOOD_A, GOOD_B) == 32
mt.op(dot, b"", GOOD_A, GOOD_B, out)
assert out[0] == 32, out
assert sum(i * i for i in range(10)) == 285
print("checked", checked)
print("ok")
