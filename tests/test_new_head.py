# SPDX-License-Identifier: MIT
"""`microtrain import ... --new-head N`: the imported classifier is replaced by a fresh N-class
fc on the same features; the body is untouched and the new head learns."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from microtrain_tools.sim import int8_run
from microtrain_tools.cli import group as cli
from microtrain_tools.compiler import compile_model
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.formats.int8_graph import Int8Graph, load_graph
from microtrain_tools.importers.new_head import replace_head
from microtrain_tools.policy.definition import Optimizer, make_policy
from microtrain_tools.sim.simulate import HostModel
from microtrain_tools.importers.tflite_import import load_tflite

HERE = Path(__file__).parent
BLOCK = HERE / "litert_fixtures" / "model_block.tflite"


def test_new_head_replaces_only_the_classifier():
    graph = load_tflite(BLOCK)
    before = {ly.name: {k: v.copy() for k, v in ly.arrays.items()} for ly in graph.layers}
    new = replace_head(graph, 7, seed=3)
    head = new.layers[-1]
    assert (head.name, head.op, head.c_out, head.c_in) == ("head", "fc", 7, graph.layer("head").c_in)
    assert new.output.shape == (1, 1, 7)
    assert not head.arrays["bias"].any(), "a fresh head starts with zero bias"
    assert len(np.unique(head.weight)) > 10, "small random weights, not a constant"
    assert new.meta["head"]["classes"] == 7 and "logits_tensor" not in new.meta
    # The caller's graph is unchanged, and the body computes the same features.
    for ly in graph.layers:
        for k, v in ly.arrays.items():
            assert np.array_equal(v, before[ly.name][k]), (ly.name, k)
    xq = np.random.default_rng(0).integers(-128, 128, (16, *graph.input.shape)).astype(np.int8)
    feature = graph.layer("head").inputs[0]
    assert np.array_equal(int8_run.run(graph, xq, keep=True)[feature],
                          int8_run.run(new, xq, keep=True)[feature])
    again = replace_head(graph, 7, seed=3)
    assert np.array_equal(again.layers[-1].weight, head.weight), "seeded: the same head again"


def test_new_head_learns_on_the_host():
    graph = replace_head(load_tflite(BLOCK), 3)
    policy = make_policy(graph, bias_last_n=1, weights=[("head", 1.0, "first_k")],
                         optimizer=Optimizer(lr=0.05))
    host = HostModel(compile_model(graph, policy, input_dtype="int8"))
    xs = np.random.default_rng(1).integers(-128, 128, (3, *graph.input.shape)).astype(np.int8)
    first = [host.learn(x, k) for k, x in enumerate(xs)]
    for _ in range(80):
        last = [host.learn(x, k) for k, x in enumerate(xs)]
    assert sum(last) < 0.6 * sum(first), (first, last)
    assert [host.predict(x) for x in xs] == [0, 1, 2], "the three samples are learned"
    assert host.guards_intact()


@pytest.mark.parametrize("classes,match", [(1, "2 to"), (0, "2 to"), (2.5, "integer"),
                                           (True, "integer")])
def test_bad_class_counts_are_refused(classes, match):
    with pytest.raises(MicrotrainError, match=match):
        replace_head(load_tflite(BLOCK), classes)


def test_model_not_ending_in_an_fc_is_refused():
    graph = load_tflite(BLOCK)
    headless = Int8Graph({k: t for k, t in graph.tensors.items() if k != "head"},
                         graph.layers[:-1], "headless")
    with pytest.raises(MicrotrainError, match="last layer 'pool0' is a avgpool, not a fully"):
        replace_head(headless, 4)


def test_cli_new_head_for_tflite_and_onnx(tmp_path):
    runner = CliRunner()
    out = tmp_path / "m.mtg"
    res = runner.invoke(cli, ["import", str(BLOCK), "--new-head", "5", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "replaced by a fresh 5-class fc" in res.output
    assert load_graph(out).layers[-1].c_out == 5
    res = runner.invoke(cli, ["import", str(BLOCK), "--new-head", "1", "-o", str(out)])
    assert res.exit_code != 0 and "--new-head" in res.output
    calib = tmp_path / "c.npz"
    np.savez(calib, x=np.random.default_rng(0).normal(size=(64, 12, 12, 3)).astype(np.float32))
    res = runner.invoke(cli, ["import", str(HERE / "onnx_fixtures" / "cnn_block.onnx"),
                              "--calib", str(calib), "--new-head", "4", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert load_graph(out).layers[-1].c_out == 4
