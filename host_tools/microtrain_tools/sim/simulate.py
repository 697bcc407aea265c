# SPDX-License-Identifier: MIT
"""The device, simulated on the host bit for bit: the same C executor and kernels (hostlib),
the same regions and programs as python/microtrain/model.py uses on a board.
"""

import ctypes

import numpy as np

from . import hostlib
from ..errors import MicrotrainError
from ..formats.program import Region, encode_program

GUARD = 64  # bytes of guard pattern on each side of the arena
GUARD_BYTE = 0xA5


def _program_lib():
    lib = hostlib.library()
    if not getattr(lib, "_mt_program_ready", False):
        lib.mt_program_run.restype = ctypes.c_int
        lib.mt_program_run.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(hostlib._Buf), ctypes.c_size_t,
            ctypes.POINTER(ctypes.c_uint32),
        ]
        lib.mt_op_table_hash.restype = ctypes.c_uint32
        lib._mt_program_ready = True
    return lib


def op_names() -> list:
    """Op names in id order, from the built host library."""
    table = hostlib.ops()
    return [name for name, _ in sorted(table.items(), key=lambda kv: kv[1].op_id)]


class HostModel:
    """A compiled model run by the host library, with guard bytes around the arena."""

    def __init__(self, compiled, fill: int = GUARD_BYTE):
        self.compiled = compiled
        self.fill = fill
        names = op_names()
        self.predict_program = encode_program(compiled.predict, names)
        self.learn_program = encode_program(compiled.learn, names) if compiled.learn else b""
        size = compiled.arena_size
        self._arena_guarded = np.full(size + 2 * GUARD, fill, dtype=np.uint8)
        self.arena = self._arena_guarded[GUARD : GUARD + size]
        self.weights = np.frombuffer(compiled.weights, dtype=np.uint8).copy()
        self.params = np.frombuffer(compiled.params, dtype=np.uint8).copy()
        self.out = np.zeros(compiled.n_outputs + 1, dtype=np.float32)
        self.label = np.zeros(1, dtype=np.int32)
        self.x_dtype = np.float32 if compiled.input_dtype == "float32" else np.int8

    def guards_intact(self) -> bool:
        g = self._arena_guarded
        return bool(np.all(g[:GUARD] == self.fill) and np.all(g[GUARD + len(self.arena):]
                                                               == self.fill))

    def _run(self, program: bytes, x, y) -> None:
        lib = _program_lib()
        x = np.ascontiguousarray(x, dtype=self.x_dtype).ravel()
        regions = [self.arena, self.weights, self.params, x, y, self.out]
        bufs = (hostlib._Buf * len(regions))()
        for i, r in enumerate(regions):
            bufs[i].data = r.ctypes.data if r.nbytes else None
            bufs[i].len = r.nbytes
        failed = ctypes.c_uint32(0)
        status = lib.mt_program_run(program, len(program), bufs, len(regions),
                                    ctypes.byref(failed))
        if status != 0:
            which = self.compiled.learn if program is self.learn_program else \
                self.compiled.predict
            op = which[failed.value] if failed.value < len(which) else None
            raise MicrotrainError(f"program failed at op {failed.value} "
                                  f"({op.comment if op else '?'}): "
                                  f"{hostlib.status_message(status)}")

    def predict(self, x) -> int:
        self._run(self.predict_program, x, self.label)
        return int(np.argmax(self.out[:-1]))

    def run_predict_ops(self, x, n_ops: int) -> None:
        """Run only the first n_ops of the predict program: the arena then holds what they
        made (policy/features.py reads a layer's output there)."""
        if getattr(self, "_head_ops", None) != n_ops:
            self._head_ops = n_ops
            self._head_program = encode_program(self.compiled.predict[:n_ops], op_names())
        self._run(self._head_program, x, self.label)

    def logits(self) -> np.ndarray:
        return self.out[:-1].copy()

    def learn(self, x, y) -> float:
        if not self.learn_program:
            raise MicrotrainError("this model was compiled without a learn program")
        if self.compiled.loss == "softmax_ce":
            self.label[0] = int(y)
            target = self.label
        else:
            target = np.ascontiguousarray(y, dtype=np.float32)
        self._run(self.learn_program, x, target)
        return float(self.out[-1])

    def evaluate(self, xs, ys) -> float:
        return float(np.mean([self.predict(x) == y for x, y in zip(xs, ys)]))

    def region(self, region: Region) -> np.ndarray:
        return {Region.ARENA: self.arena, Region.WEIGHTS: self.weights,
                Region.PARAMS: self.params}[region]
