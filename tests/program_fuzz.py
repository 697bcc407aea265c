# SPDX-License-Identifier: MIT
"""Damaged training programs to the executor (mt_program_run: check, then run), in a subprocess
with the host library built under AddressSanitizer and UBSan; run by test_program_fuzz.py.

Seeds: the predict and learn programs of a cross-entropy and an MSE model. Mutations: the byte
mutators of fuzzing.py, and structure-aware ones that keep the layout but change one op's id,
an argument, or a buffer reference (region, offset, length) to an extreme or a neighbour's.
Every run must end in ok or a refusal, write nothing outside the arena, params and output,
and leave every region's guard bytes as they were.

usage: python program_fuzz.py LIB_PATH SEED CASES; prints "ok refused redirected" (the
redirected cases come on top of CASES)
"""

import ctypes
import random
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import numpy as np  # noqa: E402
from e2e_models import samples, small_graph  # noqa: E402
from fuzz_ops import use_sanitized_library  # noqa: E402
from fuzzing import EXTREME_INTS, mutate  # noqa: E402

GUARD = 64


def seeds():
    from microtrain_tools.compiler import compile_model
    from microtrain_tools.policy.definition import Optimizer, make_policy
    from microtrain_tools.formats.program import encode_program
    from microtrain_tools.sim.simulate import op_names

    out = []
    for loss in ("softmax_ce", "mse"):
        g = small_graph()
        c = compile_model(g, make_policy(g, bias_last_n=4, weights=[("head", 1.0, "first_k"),
                                                                   ("dw", 0.5, "first_k")],
                                         optimizer=Optimizer(lr=0.05, momentum=0.9), loss=loss))
        out.append((c, encode_program(c.learn, op_names())))
        out.append((c, encode_program(c.predict, op_names())))
    return out


def op_starts(program):
    """Offsets of each op record (the layout of natmod/ops/mt_program.h)."""
    n_ops = struct.unpack_from("<I", program, 12)[0]
    pos, starts = 16, []
    for _ in range(n_ops):
        starts.append(pos)
        pos += 4 + 4 * program[pos + 2] + 8 * program[pos + 3]
    return starts


def mutate_field(rng, program):
    data = bytearray(program)
    start = rng.choice(op_starts(program))
    n_args, n_bufs = data[start + 2], data[start + 3]
    what = rng.randrange(3)
    if what == 0:  # op id
        struct.pack_into("<H", data, start, rng.randrange(60))
        return data
    if what == 1 and n_args:
        at = start + 4 + 4 * rng.randrange(n_args)
        old = struct.unpack_from("<i", data, at)[0]
        new = rng.choice([old + rng.randint(-3, 3), rng.choice(EXTREME_INTS) - (1 << 31)])
        struct.pack_into("<i", data, at, max(-(1 << 31), min(new, (1 << 31) - 1)))
        return data
    if not n_bufs:
        return data
    at = start + 4 + 4 * n_args + 8 * rng.randrange(n_bufs)
    where, length = struct.unpack_from("<II", data, at)
    choice = rng.randrange(4)
    if choice == 0:
        # another region, near its start, so the reference often fits
        where = rng.randrange(6) << 28 | rng.choice((0, 4, 16, where & 0x0FFFFFFF))
        length = rng.choice((length, min(length, 20), 4))
    elif choice == 1:
        where = (where & 0xF0000000) | (rng.choice(EXTREME_INTS) & 0x0FFFFFFF)
    elif choice == 2:
        length = rng.choice(EXTREME_INTS + [length + rng.randint(-4, 4) & 0xFFFFFFFF])
    else:
        where = (where & 0xF0000000) | ((where & 0x0FFFFFFF) + rng.randint(-4, 4)) & 0x0FFFFFFF
    struct.pack_into("<II", data, at, where, length)
    return data


def redirected(program, info_of):
    """Every written buffer of every op sent to x, to y and to the weights (offset 0, its own
    length): the executor must refuse each before anything runs."""
    for start in op_starts(program):
        op_id, n_args, n_bufs = struct.unpack_from("<HBB", program, start)
        for b in range(n_bufs):
            if not info_of(op_id).writes_buf(b):
                continue
            at = start + 4 + 4 * n_args + 8 * b
            length = struct.unpack_from("<I", program, at + 4)[0]
            for region in (1, 3, 4):
                data = bytearray(program)
                struct.pack_into("<I", data, at, region << 28)
                struct.pack_into("<I", data, at + 4, min(length, 20))
                yield bytes(data)


def guarded(nbytes, fill):
    whole = np.full(nbytes + 2 * GUARD, fill, np.uint8)
    return whole, whole[GUARD:GUARD + nbytes]


def main():
    seed, cases = use_sanitized_library("address,undefined")
    from microtrain_tools.sim import hostlib
    from microtrain_tools.sim.simulate import _program_lib

    lib = _program_lib()
    rng = random.Random(seed)
    programs = seeds()
    raw = [p for _, p in programs]
    x, y = samples(1)
    counts = {"ok": 0, "refused": 0}
    by_id = {info.op_id: info for info in hostlib.ops().values()}
    fixed = [(c, d) for c, p in programs for d in redirected(p, by_id.get)]

    def damaged_programs():
        yield from fixed
        for _ in range(cases):
            compiled, program = rng.choice(programs)
            if rng.random() < 0.5:
                yield compiled, bytes(mutate_field(rng, program))
            else:
                yield compiled, mutate(rng, program, raw)[1]

    for i, (compiled, damaged) in enumerate(damaged_programs()):
        sizes = [compiled.arena_size, len(compiled.weights), len(compiled.params),
                 4 * x[0].size, 4 * compiled.n_outputs, 4 * (compiled.n_outputs + 1)]
        wholes = [guarded(n, 0xA5) for n in sizes]
        wholes[1][1][:] = np.frombuffer(compiled.weights, np.uint8)
        wholes[2][1][:] = np.frombuffer(compiled.params, np.uint8)
        wholes[3][1][:] = np.frombuffer(x[0].astype(np.float32).tobytes(), np.uint8)
        if compiled.loss == "softmax_ce":
            wholes[4][1][:4] = np.frombuffer(np.int32(1).tobytes(), np.uint8)
        before = [w.copy() for w, _ in wholes]
        bufs = (hostlib._Buf * 6)()
        for r, (_, view) in enumerate(wholes):
            bufs[r].data = view.ctypes.data
            bufs[r].len = view.nbytes
        failed = ctypes.c_uint32(0)
        status = lib.mt_program_run(damaged, len(damaged), bufs, 6, ctypes.byref(failed))
        counts["ok" if status == 0 else "refused"] += 1
        for r, (whole, view) in enumerate(wholes):
            if not (np.array_equal(whole[:GUARD], before[r][:GUARD])
                    and np.array_equal(whole[GUARD + view.nbytes:], before[r][GUARD + view.nbytes:])):
                raise SystemExit(f"case {i}: region {r}'s guard bytes changed")
            if r in (1, 3, 4) and not np.array_equal(whole, before[r]):
                raise SystemExit(f"case {i}: read-only region {r} was written")
    print(counts["ok"], counts["refused"], len(fixed))


if __name__ == "__main__":
    main()
