# SPDX-License-Identifier: MIT
"""Streamed segments (compiler/stream.py) and clamp masks change where bytes live, never their
values: a streamed program equals the unstreamed one byte for byte, run by the host library
and by the numpy reference, at every split and band height; band ops are checked by the
executor like any op; a segment can only cover layers the backward never reads.

The per-arch runs of the same programs are tests/test_programs_per_arch.py (mcunet streams
there) and the unix port's are tests/test_paper_learn.py."""

import copy
import re

import numpy as np
import pytest

from microtrain_tools.formats import model as mdl
from microtrain_tools.compiler import TrainPlan, compile_model
from microtrain_tools.compiler.inplace import shift_safe
from microtrain_tools.compiler.stream import Segment, Tiling, cut_ok, input_rows
from microtrain_tools.compiler.tiling import splits
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.importers.paper_models import load_paper_model, paper_policy
from microtrain_tools.policy.definition import make_policy
from microtrain_tools.formats.program import BufRef, encode_program
from microtrain_tools.quantize.ptq import quantize
from microtrain_tools.sim.simulate import HostModel, op_names
from program_reference import ReferenceModel
from shared_data import shared_data

STEPS = ("predict", "learn", "learn", "predict")


def odd_cnn(seed=0) -> mdl.FloatModel:
    """Odd sizes, 7x7 stride-2 depthwise with padding 3, an even 2x3 kernel with rows of no
    padding, a residual add and a stride 2 after it: every edge of the band geometry."""
    rng = np.random.default_rng(seed)

    def r(*shape, scale=0.4):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    layers = [
        mdl.conv2d("c0", "input", r(6, 3, 3, 3), r(6), stride=2, padding=1, act="relu6"),
        mdl.conv2d("dw0", "c0", r(7, 7, 6), r(6), stride=2, padding=3, depthwise=True,
                   act="relu6"),
        mdl.conv2d("pw0", "dw0", r(8, 1, 1, 6), r(8)),
        mdl.conv2d("ex1", "pw0", r(16, 1, 1, 8), r(16), act="relu6"),
        mdl.conv2d("dw1", "ex1", r(3, 3, 16), r(16), padding=1, depthwise=True, act="relu6"),
        mdl.conv2d("pj1", "dw1", r(8, 1, 1, 16), r(8)),
        mdl.add("res1", "pj1", "pw0"),
        mdl.conv2d("wide", "res1", r(10, 2, 3, 8), r(10), stride=(2, 1), padding=(0, 1),
                   act="relu"),
        mdl.conv2d("pw2", "wide", r(12, 1, 1, 10), r(12), act="relu"),
        mdl.avgpool("pool", "pw2"),
        mdl.flatten("flat", "pool"),
        mdl.fc("head", "flat", r(4, 12), r(4)),
    ]
    return mdl.FloatModel((37, 11, 3), layers, name="odd")


@pytest.fixture(scope="module")
def odd_graph():
    calib = np.random.default_rng(1).standard_normal((16, 37, 11, 3)).astype(np.float32)
    graph, _ = quantize(odd_cnn(), calib)
    return graph


@pytest.fixture(scope="module")
def mcunet():
    graph = load_paper_model("mcunet-5fps",
                             path=shared_data("paper_models") / "mcunet-5fps.pkl")
    return graph, TrainPlan.from_policy(paper_policy("mcunet-5fps", "49kb", graph))


def run_steps(model, xs, ys) -> list:
    """The output region after each step, then the params."""
    seen = []
    for step, x, y in zip(STEPS, xs, ys):
        model.predict(x) if step == "predict" else model.learn(x, y)
        seen.append(bytes(model.out.tobytes()))
    seen.append(bytes(model.params.tobytes()))
    return seen


def assert_same_bytes(compiled, reference, xs, ys, what):
    host = HostModel(compiled)
    got = run_steps(host, xs, ys)
    assert host.guards_intact(), f"{what}: a band op wrote outside the arena"
    for i, (a, b) in enumerate(zip(got, reference)):
        step = STEPS[i] if i < len(STEPS) else "params"
        assert a == b, f"{what}: {step} (step {i}) differs from the unstreamed program"
    assert run_steps(ReferenceModel(compiled), xs, ys) == reference, (
        f"{what}: the numpy reference's run of the streamed program differs")


def odd_samples(graph, n=len(STEPS)):
    rng = np.random.default_rng(2)
    return rng.standard_normal((n, *graph.input.shape)).astype(np.float32), rng.integers(0, 4, n)


@pytest.mark.parametrize("band", (1, 2, 3, 5))
def test_float_input_model_streams_to_the_same_bytes(odd_graph, band):
    """Float input quantized band by band, every split of the odd model; a sizing compile
    gives the same arena and op count."""
    policy = make_policy(odd_graph, bias_last_n=2, weights=[("head", 1.0, "first_k")])
    xs, ys = odd_samples(odd_graph)
    reference = run_steps(HostModel(compile_model(odd_graph, policy, tiling=None)), xs, ys)
    found = splits(odd_graph, TrainPlan.from_policy(policy))
    assert found == [1, 2, 3, 7, 8], found  # not inside the residual block, not pw2 (updated)
    for split in found:
        compiled = compile_model(odd_graph, policy, tiling=Tiling(split, band))
        assert compiled.tiling.extra_ops > 0
        assert_same_bytes(compiled, reference, xs, ys, f"split {split}, band {band}")
        # what choosing a tiling compares: the segment's footprint for its band ops
        sized = compile_model(odd_graph, policy, tiling=Tiling(split, band), sizing=True)
        assert (sized.arena_size, sized.n_ops) == (
            compiled.arena_size, len(compiled.predict) + len(compiled.learn))


def test_mcunet_streams_to_the_same_bytes(mcunet):
    graph, plan = mcunet
    rng = np.random.default_rng(0)
    xs = rng.integers(-128, 128, (len(STEPS), 128 * 128 * 3)).astype(np.int8)
    ys = rng.integers(0, 10, len(STEPS))
    untiled = compile_model(graph, plan, input_dtype="int8", tiling=None)
    reference = run_steps(HostModel(untiled), xs, ys)
    auto = compile_model(graph, plan, input_dtype="int8")
    assert auto.tiling is not None and auto.arena_size < untiled.arena_size
    for tiling in (Tiling(2, 1), Tiling(5, 2), Tiling(12, 3), Tiling(25, 1), auto.tiling.tiling):
        compiled = compile_model(graph, plan, input_dtype="int8", tiling=tiling)
        assert_same_bytes(compiled, reference, xs, ys, str(tiling))


def test_clamp_masks_give_the_same_bytes(mcunet):
    """The backward's clamps from 1-bit masks equal those from the saved int8 outputs."""
    graph, plan = mcunet
    rng = np.random.default_rng(3)
    xs = rng.integers(-128, 128, (len(STEPS), 128 * 128 * 3)).astype(np.int8)
    ys = rng.integers(0, 10, len(STEPS))
    outputs = copy.copy(plan)
    outputs.clamp_masks = False
    without = compile_model(graph, outputs, input_dtype="int8", tiling=None)
    with_masks = compile_model(graph, plan, input_dtype="int8", tiling=None)
    names = {op.name for op in with_masks.learn}
    assert "mt_clampmask_q8_grad_in" in names and "mt_clamp_q8_grad_in" not in names
    assert with_masks.arena_size < without.arena_size
    assert_same_bytes(with_masks, run_steps(HostModel(without), xs, ys), xs, ys, "masks")


def test_band_ops_are_checked_by_the_executor(odd_graph):
    """A band op whose output is a row short is refused before any op runs."""
    policy = make_policy(odd_graph, bias_last_n=1)
    compiled = compile_model(odd_graph, policy, tiling=Tiling(3, 1))
    host = HostModel(compiled)
    x = odd_samples(odd_graph, 1)[0][0]
    host.predict(x)
    before = host.out.tobytes()
    i = next(i for i, op in enumerate(compiled.predict) if op.name == "mt_dwconv2d_s8_fwd")
    ops = copy.deepcopy(compiled.predict)
    y = ops[i].bufs[5]
    ops[i].bufs[5] = BufRef(y.region, y.offset, y.length - 1)
    host.predict_program = encode_program(ops, op_names())
    host.out[:] = 0
    with pytest.raises(MicrotrainError, match=f"op {i} .*buffer"):
        host.predict(x)
    assert not host.out.any(), "the damaged program ran"
    host.predict_program = encode_program(compiled.predict, op_names())
    host.predict(x)
    assert host.out.tobytes() == before


def test_segment_only_below_the_backward(odd_graph):
    policy = make_policy(odd_graph, bias_last_n=1, weights=[("pj1", 1.0, "first_k")])
    assert splits(odd_graph, TrainPlan.from_policy(policy)) == [1, 2, 3]
    with pytest.raises(MicrotrainError, match="lowest updated layer"):
        compile_model(odd_graph, policy, tiling=Tiling(7, 1))
    assert not cut_ok(odd_graph, 5)  # res1 still reads pw0 after ex1, dw1
    with pytest.raises(MicrotrainError, match="cannot stream"):
        compile_model(odd_graph, make_policy(odd_graph, bias_last_n=1), tiling=Tiling(5, 1))


def test_band_geometry():
    """Rows a band reads: the window of its first and last output row, clipped."""
    graph = quantize(odd_cnn(), np.zeros((1, 37, 11, 3), np.float32))[0]
    dw0 = graph.layer("dw0")  # 7x7, stride 2, padding 3, input 19 rows, output 10
    assert input_rows(graph, dw0, 0, 1) == (0, 4)
    assert input_rows(graph, dw0, 2, 4) == (1, 10)
    assert input_rows(graph, dw0, 9, 10) == (15, 19)
    seg = Segment(graph, Tiling(3, 1), quantized_input=True)
    caps = seg.capacities()
    assert caps["c0"] < graph.tensors["c0"].shape[0]  # a line buffer, not the tensor
    assert caps["pw0"] == graph.tensors["pw0"].shape[0]  # the segment's output is whole


def test_shift_rule():
    """The line-buffer shift is a forward copy: safe only towards lower addresses."""
    assert shift_safe(96, 0) and shift_safe(8, 8)
    assert not shift_safe(0, 96)


def test_mem_shows_stages_and_tiling(odd_graph, tmp_path, capsys):
    """`microtrain mem` prints the tiling chosen with its cost, the peak of each stage with
    what is alive there, and with --no-tiling the untiled plan."""
    from microtrain_tools import cli
    from microtrain_tools.formats.int8_graph import save_graph
    from microtrain_tools.policy.definition import save_policy

    policy = make_policy(odd_graph, bias_last_n=1, weights=[("head", 1.0, "first_k")])
    save_graph(odd_graph, tmp_path / "odd.mtg")
    save_policy(policy, tmp_path / "p.json")
    args = ["mem", str(tmp_path / "odd.mtg"), "--policy", str(tmp_path / "p.json"),
            "--no-compare"]
    cli.main(args)
    out = capsys.readouterr().out
    compiled = compile_model(odd_graph, policy)
    untiled = compile_model(odd_graph, policy, tiling=None)
    t = compiled.tiling
    assert t is not None and compiled.arena_size < untiled.arena_size
    assert (f"tiling: layers up to {t.segment_end} (the first {t.tiling.split}) streamed, "
            f"{t.tiling.band} row(s)") in out
    assert f"arena without tiling: {untiled.arena_size:,} B" in out
    assert "0 MACs recomputed" in out
    for stage in ("streamed segment", "forward", "loss and backward"):
        assert f"learn   {stage}" in out
    assert "(line buffer)" in out
    assert re.search(rf"arena, learn +{compiled.program_arenas[1]:,}\n", out)
    cli.main(args + ["--no-tiling"])
    out = capsys.readouterr().out
    assert "tiling: none" in out and "streamed segment" not in out
    assert re.search(rf"arena, learn +{untiled.program_arenas[1]:,}\n", out)


@pytest.mark.parametrize("model,scheme", (("mbv2-w0.35", "99kb"), ("proxyless-w0.3", "98kb")))
def test_recomputed_inputs_give_the_same_bytes(model, scheme):
    """The default plan (streamed prefix, masks, saved inputs recomputed before their update)
    equals whole tensors with every input kept, on the host library and the numpy reference.
    Where the default plan recomputes nothing (proxyless since its split pointwise layers hold
    no weight copy), every input that can be recomputed is, on the default tiling."""
    graph = load_paper_model(model, path=shared_data("paper_models") / f"{model}.pkl")
    plan = TrainPlan.from_policy(paper_policy(model, scheme, graph))
    rng = np.random.default_rng(4)
    xs = rng.integers(-128, 128, (len(STEPS), 128 * 128 * 3)).astype(np.int8)
    ys = rng.integers(0, 10, len(STEPS))
    reference = run_steps(HostModel(compile_model(graph, plan, input_dtype="int8",
                                                  tiling=None)), xs, ys)
    compiled = compile_model(graph, plan, input_dtype="int8")
    if not compiled.recomputed:
        from dataclasses import replace

        from microtrain_tools.compiler.recompute import plan_recompute, whole_input_layers

        can = frozenset(name for name in whole_input_layers(graph, plan)
                        if plan_recompute(graph, plan, name))
        assert can, "the paper's scheme has a saved input that can be recomputed"
        compiled = compile_model(graph, replace(plan, recompute=can), input_dtype="int8",
                                 tiling=compiled.tiling.tiling)
    assert compiled.recomputed
    assert any(op.comment.endswith("'s update") for op in compiled.learn)
    assert_same_bytes(compiled, reference, xs, ys, f"{model} default plan")


def test_recompute_is_refused_where_it_cannot_be(mcunet):
    graph, plan = mcunet
    from dataclasses import replace

    with pytest.raises(MicrotrainError, match="not a layer updating its whole input"):
        compile_model(graph, replace(plan, recompute=frozenset({"conv30"})), input_dtype="int8",
                      tiling=None)
