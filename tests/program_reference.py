# SPDX-License-Identifier: MIT
"""A training program run op by op by the numpy reference (microtrain_tools.reference): the
executor's meaning of a program without its C code, to compare the C runs with.

    ref = ReferenceModel(compiled)      # same regions and starting bytes as simulate.HostModel
    ref.predict(x); ref.learn(x, y)
    ref.out, ref.params                 # numpy arrays, updated in place
"""

import numpy as np

from microtrain_tools.sim import hostlib
from microtrain_tools.sim.hostlib import BUF_DTYPES
from microtrain_tools.formats.program import Region
from microtrain_tools.reference import REFERENCE_OPS


class ReferenceModel:
    def __init__(self, compiled):
        self.compiled = compiled
        self.arena = np.zeros(compiled.arena_size, np.uint8)
        self.weights = np.frombuffer(compiled.weights, np.uint8).copy()
        self.params = np.frombuffer(compiled.params, np.uint8).copy()
        self.out = np.zeros(compiled.n_outputs + 1, np.float32)
        self.x_dtype = np.float32 if compiled.input_dtype == "float32" else np.int8

    def _run(self, ops, x, target) -> None:
        regions = {Region.ARENA: self.arena, Region.WEIGHTS: self.weights,
                   Region.PARAMS: self.params,
                   Region.INPUT: np.ascontiguousarray(x, self.x_dtype).ravel().view(np.uint8),
                   Region.TARGET: target.view(np.uint8), Region.OUTPUT: self.out.view(np.uint8)}
        for op in ops:
            info = hostlib.op_info(op.name)
            bufs = []
            for i, ref in enumerate(op.bufs):
                raw = regions[ref.region][ref.offset: ref.offset + ref.length]
                dtype = BUF_DTYPES[info.buf_types[i]]
                bufs.append(raw[: ref.length // dtype.itemsize * dtype.itemsize].view(dtype))
            REFERENCE_OPS[op.name](list(op.args), bufs)

    def predict(self, x) -> None:
        self._run(self.compiled.predict, x, np.zeros(1, np.int32))

    def learn(self, x, y) -> None:
        if self.compiled.loss == "softmax_ce":
            target = np.array([int(y)], np.int32)
        else:
            target = np.ascontiguousarray(y, np.float32)
        self._run(self.compiled.learn, x, target)
