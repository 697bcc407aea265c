# SPDX-License-Identifier: MIT
"""In-place convolutions: outputs overlapping their dying inputs save memory and change no
number (the overlap offsets come from the kernels' access-order contract, compiler/inplace.py)."""

import numpy as np
import pytest

from e2e_models import samples, small_graph
from microtrain_tools.compiler import compile_model
from microtrain_tools.compiler.inplace import safe_deltas
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.importers.paper_models import load_paper_model, paper_policy
from microtrain_tools.compiler.planner import Tensor, allow_overlap, check, plan
from microtrain_tools.policy.definition import Optimizer, make_policy
from microtrain_tools.sim.simulate import HostModel
from shared_data import shared_data


def test_planner_allows_only_the_exact_overlap():
    a, b = Tensor("a", 100, 0, 1), Tensor("b", 100, 1, 2)
    allow_overlap(a, b, -8)
    a.offset, b.offset = 8, 0
    check([a, b])
    b.offset = 4
    with pytest.raises(MicrotrainError, match="overlap"):
        check([a, b])


def test_planner_uses_the_overlap():
    a, b = Tensor("a", 100, 0, 1), Tensor("b", 100, 1, 2)
    allow_overlap(a, b, -8)
    assert plan([a, b]) == 108
    assert b.offset - a.offset == -8


def test_depthwise_stride_1_output_trails_its_input_by_about_a_row():
    # 3x3 depthwise, 6x6x4, pad 1: writing output pixel p overwrites input the next outputs
    # still read unless it trails by a row and a pixel.
    args = (1, 1, 1, 1, 0, 0, -128, 127, 1, 6, 6, 4, 1, 3, 3, 4, 1, 6, 6, 4)
    deltas = safe_deltas("mt_dwconv2d_s8_fwd", args)
    assert deltas and min(deltas) <= -(6 + 1) * 4
    assert 0 not in deltas, "an output on top of its input would overwrite unread taps"


def results(compiled, x, y):
    host = HostModel(compiled)
    out = []
    for xi, yi in zip(x, y):
        host.predict(xi)
        out.append(host.logits())
        out.append(np.array([host.learn(xi, int(yi))]))
    return np.concatenate(out), host.params.copy()


def test_in_place_changes_no_number_small_graph():
    graph = small_graph()
    policy = make_policy(graph, bias_last_n=2, weights=[("head", 1.0, "first_k")],
                         optimizer=Optimizer(lr=0.05, rounding="stochastic"))
    x, y = samples(6)
    a = compile_model(graph, policy, in_place=True)
    b = compile_model(graph, policy, in_place=False)
    assert a.arena_size <= b.arena_size
    ra, rb = results(a, x, y), results(b, x, y)
    assert np.array_equal(ra[0], rb[0]) and np.array_equal(ra[1], rb[1])


def test_in_place_changes_no_number_mcunet():
    folder = shared_data("paper_models")
    graph = load_paper_model("mcunet-5fps", path=folder / "mcunet-5fps.pkl")
    policy = paper_policy("mcunet-5fps", "49kb", graph)
    x = np.random.default_rng(1).integers(-128, 128, (2, 128 * 128 * 3)).astype(np.int8)
    # Whole tensors (no streamed prefix): in-place convolutions save memory.
    a = compile_model(graph, policy, input_dtype="int8", in_place=True, tiling=None)
    b = compile_model(graph, policy, input_dtype="int8", in_place=False, tiling=None)
    assert a.arena_size < b.arena_size
    ra, rb = results(a, x, [3, 5]), results(b, x, [3, 5])
    assert np.array_equal(ra[0], rb[0]) and np.array_equal(ra[1], rb[1])
    # Streamed (the default), the line buffers leave them little to save; never more memory.
    c = compile_model(graph, policy, input_dtype="int8", in_place=True)
    d = compile_model(graph, policy, input_dtype="int8", in_place=False)
    assert c.arena_size <= d.arena_size
    rc, rd = results(c, x, [3, 5]), results(d, x, [3, 5])
    assert all(np.array_equal(u, v) for u, v in zip(ra + rc, rd + rd))
