# SPDX-License-Identifier: MIT
"""Which buffers a training program may write (issue 8 D4) and non-finite inputs (D6).

The executor refuses a program that writes the weights, x or y; the op table's `writes` masks
say which buffers each op writes, so they are checked against what each op really changes, op by
op, over the programs the compiler emits. A NaN or infinite input or MSE target is refused before
any parameter changes.
"""

import ctypes

import numpy as np
import pytest

from e2e_models import samples, small_graph
from microtrain_tools.sim import hostlib
from microtrain_tools.compiler import compile_model
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.policy.definition import Optimizer, make_policy
from microtrain_tools.formats.program import BufRef, OpCall, Region, encode_program
from microtrain_tools.sim.simulate import HostModel, _program_lib, op_names

WRITABLE = {Region.ARENA, Region.PARAMS, Region.OUTPUT}


def policy(graph, loss):
    return make_policy(graph, bias_last_n=4,
                       weights=[("head", 1.0, "first_k"), ("project", 0.5, "largest_norm"),
                                ("dw", 0.5, "first_k")],
                       optimizer=Optimizer(lr=0.05, momentum=0.9), loss=loss)


@pytest.fixture(scope="module", params=["softmax_ce", "mse"])
def compiled(request):
    return compile_model(small_graph(), policy(small_graph(), request.param))


def target(compiled, y):
    if compiled.loss == "mse":
        return np.eye(compiled.n_outputs, dtype=np.float32)[y]
    return y


def test_the_compiler_writes_only_arena_params_and_output(compiled):
    ops = hostlib.ops()
    for program in (compiled.predict, compiled.learn):
        for op in program:
            info = ops[op.name]
            for i, buf in enumerate(op.bufs):
                if info.writes_buf(i):
                    assert buf.region in WRITABLE, (op.comment, i, buf)


def test_each_op_changes_only_the_buffers_its_mask_says_it_writes(compiled):
    """Run the learn program one op at a time; bytes that change lie in written buffers only."""
    host = HostModel(compiled)
    x, y = samples(3)
    for xi, yi in zip(x, y):  # a few steps, so momentum and scales are not all zero
        host.learn(xi, target(compiled, yi))
    xi = np.ascontiguousarray(x[0], np.float32).ravel()
    yi = np.ascontiguousarray(target(compiled, y[0]),
                              np.float32 if compiled.loss == "mse" else np.int32).reshape(-1)
    regions = {Region.ARENA: host.arena, Region.WEIGHTS: host.weights,
               Region.PARAMS: host.params, Region.INPUT: xi, Region.TARGET: yi,
               Region.OUTPUT: host.out}
    names, ops = op_names(), hostlib.ops()
    for op in compiled.learn:
        before = {r: a.view(np.uint8).copy() for r, a in regions.items()}
        program = encode_program([op], names)
        _run(program, [regions[r] for r in sorted(regions)])
        allowed = {r: np.zeros(a.nbytes, bool) for r, a in regions.items()}
        for i, buf in enumerate(op.bufs):
            if ops[op.name].writes_buf(i):
                allowed[buf.region][buf.offset:buf.offset + buf.length] = True
        for r, a in regions.items():
            changed = a.view(np.uint8) != before[r]
            assert not np.any(changed & ~allowed[r]), (op.name, op.comment, r)


def _run(program, regions):
    bufs = (hostlib._Buf * len(regions))()
    for i, r in enumerate(regions):
        bufs[i].data = r.ctypes.data if r.nbytes else None
        bufs[i].len = r.nbytes
    failed = ctypes.c_uint32(0)
    return _program_lib().mt_program_run(program, len(program), bufs, len(regions),
                                         ctypes.byref(failed))


@pytest.mark.parametrize("region", [Region.WEIGHTS, Region.INPUT, Region.TARGET])
def test_a_program_writing_weights_x_or_y_is_refused_before_it_runs(region):
    names = op_names()
    x = np.arange(16, dtype=np.float32)
    y = np.arange(16, dtype=np.float32)
    weights = np.arange(64, dtype=np.uint8)
    arena = np.zeros(64, np.uint8)
    out = np.zeros(4, np.float32)
    # first a quantize that would run fine, then one writing into the read-only region
    ops = [OpCall("mt_quant_f32_s8", [0, 0x3F800000, 1, 1, 1, 4],
                  [BufRef(Region.INPUT, 0, 16), BufRef(Region.ARENA, 0, 4)]),
           OpCall("mt_quant_f32_s8", [0, 0x3F800000, 1, 1, 1, 4],
                  [BufRef(Region.INPUT, 0, 16), BufRef(region, 16, 4)])]
    regions = [arena, weights, np.zeros(0, np.uint8), x, y, out]
    kept = [r.copy() for r in regions]
    status = _run(encode_program(ops, names), regions)
    assert hostlib.status_message(status) == "writes to a read-only buffer (weights, x or y)"
    assert all(np.array_equal(a, b) for a, b in zip(regions, kept))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_input_is_refused_before_any_parameter_changes(compiled, bad):
    host = HostModel(compiled)
    x, y = samples(2)
    params = host.params.copy()
    xi = x[0].astype(np.float32).copy()
    xi.flat[5] = bad
    with pytest.raises(MicrotrainError, match="NaN or infinite"):
        host.learn(xi, target(compiled, y[0]))
    with pytest.raises(MicrotrainError, match="NaN or infinite"):
        host.predict(xi)
    assert np.array_equal(host.params, params)
    if compiled.loss == "mse":
        t = target(compiled, y[0]).copy()
        t[1] = bad
        with pytest.raises(MicrotrainError, match="NaN or infinite"):
            host.learn(x[0], t)
        assert np.array_equal(host.params, params)
    host.learn(x[0], target(compiled, y[0]))  # a finite sample still trains
    assert not np.array_equal(host.params, params)
