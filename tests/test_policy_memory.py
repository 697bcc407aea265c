# SPDX-License-Identifier: MIT
"""The memory a policy search reports for a candidate is what `compile_model(..., tiling="auto")`
gives for that policy alone, though the search gets it fast: trial compiles that only size the
arena (streamed segments stood in by their footprints), placements looked up when a program
was planned before, memory plans kept per combination. Each of those is checked here against
a compile that does none of it: every trial a whole compile, every plan placed afresh."""

import pytest

from microtrain_tools.compiler import TrainPlan, compile_model, planner
from microtrain_tools.compiler.memory import memory_plan
from microtrain_tools.compiler.stream import Segment, Tiling
from microtrain_tools.compiler.tiling import splits
from microtrain_tools.importers.paper_models import load_paper_model
from microtrain_tools.policy import search as ps
from shared_data import shared_data


@pytest.fixture(scope="module")
def mcunet():
    return load_paper_model("mcunet-5fps", path=shared_data("paper_models") / "mcunet-5fps.pkl")


def uncached(monkeypatch):
    """From here on: segments emitted band op by band op, plans never looked up."""
    monkeypatch.setattr(Segment, "emit_footprint", Segment.emit)
    monkeypatch.setattr(planner, "_plan_key", lambda tensors, tries: None)


# bias depths and weight fractions of each kind: streamed or not, compact copies, recomputes
# (conv40 at 1/8 and 1/4: the same programs but for the sizes of a few tensors)
LABELS = ("bias +1 layer", "bias +6 layers", "bias +32 layers", "weights conv38 x1/8",
          "weights conv40 x1/8", "weights conv40 x1/4", "weights conv41 x1")


@pytest.mark.parametrize("input_dtype, labels", [("float32", LABELS),
                                                 ("int8", LABELS[1::4])])
def test_search_memory_equals_an_auto_compile_of_the_policy_alone(mcunet, monkeypatch,
                                                                  input_dtype, labels):
    space = ps.Space(mcunet, ps.SearchConfig(input_dtype=input_dtype))
    by_label = {c.label: c for c in space.candidates()}
    combos = [space.baseline()] + [space.combination_of(by_label[label]) for label in labels]
    # as the search asks: one after the other, so later ones meet what earlier ones cached
    reported = [space.learn_bytes(c) for c in combos]
    assert [space.learn_bytes(c) for c in combos] == reported
    uncached(monkeypatch)
    for combo, nbytes in zip(combos, reported):
        alone = compile_model(mcunet, space.policy(combo), input_dtype=input_dtype,
                              tiling="auto")
        assert nbytes == memory_plan(alone).learn_total, ps.describe(space.layers, combo)


def test_a_sizing_compile_gives_the_whole_compiles_arena_and_op_count(mcunet):
    """At every split point (band 1 and a taller one), for a policy streaming the frozen prefix
    and one with a compact weight copy: the footprint stands for the band ops exactly."""
    space = ps.Space(mcunet, ps.SearchConfig())
    by_label = {c.label: c for c in space.candidates()}
    for label in ("bias +6 layers", "weights conv40 x1/4"):
        plan = TrainPlan.from_policy(space.policy(space.combination_of(by_label[label])))
        for split in splits(mcunet, plan):
            for band in (1, 4):
                tiling = Tiling(split, band)
                whole = compile_model(mcunet, plan, tiling=tiling)
                sized = compile_model(mcunet, plan, tiling=tiling, sizing=True)
                assert (sized.arena_size, sized.n_ops) == (
                    whole.arena_size, len(whole.predict) + len(whole.learn)), (label, tiling)
