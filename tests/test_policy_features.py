# SPDX-License-Identifier: MIT
"""Fine-tunes from frozen features (policy/features.py) give what fine-tunes of the whole graph
give, byte for byte: the same weights after every step, the same held-out accuracy, on the
small graph (float input, a residual block no cut may split) and on mcunet-5fps (int8 input,
streamed when packed)."""

import numpy as np
import pytest

from e2e_models import samples, small_graph
from microtrain_tools.compiler import compile_model
from microtrain_tools.importers.paper_models import load_paper_model
from microtrain_tools.policy import search as ps
from microtrain_tools.policy.features import cut_below, suffix_graph
from microtrain_tools.sim.simulate import HostModel
from shared_data import shared_data


def test_cuts_never_split_a_residual_block():
    graph = small_graph(0)
    names = [ly.name for ly in graph.layers]
    # conv1's output is read by the add: no cut after expand, dw or project
    assert [cut_below(graph, i) for i in range(len(names))] == [0, 1, 1, 1, 1, 5, 6]
    # features are kept per sample: a cut whose activation is larger than allowed is passed
    assert graph.tensors["res"].shape == graph.tensors["conv1"].shape == (4, 4, 8)
    assert cut_below(graph, 5, max_bytes=128) == 5 and cut_below(graph, 5, max_bytes=127) == 0
    top = suffix_graph(graph, 5)
    assert [ly.name for ly in top.layers] == ["pool", "head"]
    assert top.input.shape == graph.tensors["res"].shape
    assert top.input.zero_point == graph.tensors["res"].zero_point


def same_as_whole_graph(space, x, y, combos, steps=6):
    """For each combo: the fine-tune program on features, the whole graph's on x; the weights
    after each step and the held-out predictions."""
    train, val = (x[:steps], y[:steps]), (x[steps:], y[steps:])
    space.prepare_features(train, val)
    for combo in combos:
        whole = HostModel(compile_model(space.graph, space.policy(combo),
                                        input_dtype=space.cfg.input_dtype, tiling=None))
        tuned = HostModel(space.compiled(combo))
        features, _ = space.samples_at(combo, train)
        what = ps.describe(space.layers, combo)
        for step in range(steps):
            whole.learn(x[step], y[step])
            tuned.learn(features[step], y[step])
            assert tuned.params.tobytes() == whole.params.tobytes(), (what, step)
        held_out, _ = space.samples_at(combo, val)
        assert [tuned.predict(f) for f in held_out] == [whole.predict(v) for v in val[0]], what
    return train, val


def test_small_graph_fine_tunes_from_features_as_from_samples():
    graph = small_graph(0)
    space = ps.Space(graph, ps.SearchConfig(weight_layers=3, steps=6))
    x, y = samples(12, seed=4)
    combos = [space.baseline()] + [space.combination_of(c) for c in space.candidates()]
    assert {space.cut(c) for c in combos} == {0, 1, 6}  # 0: conv1 learns
    train, val = same_as_whole_graph(space, x, y, combos)
    # what the search measures with them: the whole graph's accuracy
    for combo in combos:
        whole = compile_model(graph, space.policy(combo), tiling=None)
        assert space.fine_tune(combo, train, val, [1]) == ps.fine_tune(whole, train, val, 6, [1])


@pytest.mark.parametrize("input_dtype", ["int8", "float32"])
def test_mcunet_fine_tunes_from_features_as_from_samples(input_dtype):
    mcunet = load_paper_model("mcunet-5fps", path=shared_data("paper_models") / "mcunet-5fps.pkl")
    space = ps.Space(mcunet, ps.SearchConfig(input_dtype=input_dtype, steps=4))
    rng = np.random.default_rng(5)
    shape = (8, *mcunet.input.shape)
    x = (rng.integers(-128, 128, shape, dtype=np.int8) if input_dtype == "int8"
         else rng.standard_normal(shape).astype(np.float32))
    y = rng.integers(0, 10, 8)
    by_label = {c.label: c for c in space.candidates()}
    combos = [space.baseline()] + [space.combination_of(by_label[label]) for label in (
        "bias +1 layer", "bias +12 layers", "weights conv38 x1/8", "weights conv41 x1")]
    assert all(space.cut(c) > 0 for c in combos)
    same_as_whole_graph(space, x, y, combos, steps=4)
