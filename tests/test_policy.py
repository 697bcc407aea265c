# SPDX-License-Identifier: MIT
"""The sparse update policy: building, resolving channels, its JSON file, and validation errors
that name the field."""

import json

import numpy as np
import pytest

from microtrain_tools.policy import definition as pol
from microtrain_tools.quantize import ptq as quantize
from microtrain_tools.errors import MicrotrainError
from model_fixtures import tiny_cnn


@pytest.fixture(scope="module")
def graph():
    m = tiny_cnn(seed=0)
    x = np.random.default_rng(0).standard_normal((32, *m.input_shape)).astype(np.float32)
    return quantize.quantize(m, x)[0]


def test_make_policy_resolves_rules(graph):
    # weight layers: conv1 dw pw wide fc1 head
    p = pol.make_policy(graph, bias_last_n=2, weights=[("wide", 0.5, "first_k"),
                                                       (1, 0.5, "largest_norm")])
    assert p.bias_layers == ["dw", "wide", "fc1", "head"]
    assert [w.layer for w in p.weights] == ["dw", "wide"]
    assert p.weight_update("wide").channels == [0, 1]  # 0.5 of 4 input channels
    dw = graph.layer("dw")
    norms = pol.channel_norms(dw)
    chosen = p.weight_update("dw").channels
    assert len(chosen) == 2 and min(norms[chosen]) >= max(np.delete(norms, chosen))


def test_fraction_zero_updates_no_weights(graph):
    p = pol.make_policy(graph, bias_last_n=1, weights=[("pw", 0, "first_k")])
    assert p.weights == [] and p.bias_layers == ["head"]


def test_channel_count_rounds_and_keeps_one():
    assert pol.n_channels(0.125, 40) == 5
    assert pol.n_channels(0.01, 16) == 1
    assert pol.n_channels(1.0, 7) == 7


def test_file_round_trip(graph, tmp_path):
    p = pol.make_policy(graph, bias_last_n=3, weights=[("fc1", 0.5, "largest_norm")],
                        optimizer=pol.Optimizer(lr=0.05, momentum=0.9, rounding="stochastic"),
                        loss="mse", note="test")
    path = tmp_path / "p.json"
    pol.save_policy(p, path)
    back = pol.load_policy(path, graph)
    assert back == p
    assert json.loads(path.read_text())["magic"] == "microtrain-policy"


def _doc(graph):
    return pol.to_json(pol.make_policy(graph, bias_last_n=2, weights=[("wide", 0.5, "first_k")]))


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.update(magic="nope"), "magic"),
    (lambda d: d.update(version=3), "version"),
    (lambda d: d.pop("bias"), "bias"),
    (lambda d: d["bias"].update(rule="some"), "bias.rule"),
    (lambda d: d["bias"].update(layers=[1]), "bias.layers[0]"),
    (lambda d: d["bias"].update(n="x"), "bias.n"),
    (lambda d: d["bias"].update(layers=["fc1", "head"]), "bias.layers"),
    (lambda d: d["optimizer"].update(lr=-1), "optimizer.lr"),
    (lambda d: d["optimizer"].update(lr="fast"), "optimizer.lr"),
    (lambda d: d["optimizer"].update(momentum=1.5), "optimizer.momentum"),
    (lambda d: d["optimizer"].update(rounding="floor"), "optimizer.rounding"),
    (lambda d: d.update(loss="hinge"), "loss"),
    (lambda d: d["weights"][0].update(fraction=1.5), "weights[0].fraction"),
    (lambda d: d["weights"][0].update(rule="random"), "weights[0].rule"),
    (lambda d: d["weights"][0].update(channels=[1, 0]), "weights[0].channels"),
    (lambda d: d["weights"][0].pop("layer"), "weights[0].layer"),
])
def test_field_errors_name_the_field(graph, edit, field):
    doc = _doc(graph)
    edit(doc)
    with pytest.raises(pol.PolicyError) as err:
        pol.from_json(doc)
    assert err.value.field == field
    assert f"policy field {field!r}" in str(err.value)


@pytest.mark.parametrize("edit, field, message", [
    (lambda d: (d["weights"][0].update(layer="flat"), d["bias"].update(
        layers=["flat", "fc1", "head"])), "weights[0].layer", "not a weight layer"),
    (lambda d: d["weights"][0].update(channels=[0, 9]), "weights[0].channels", "outside"),
    (lambda d: d["weights"][0].update(channels=[0]), "weights[0].channels", "fraction"),
    (lambda d: d["weights"][0].update(channels=[1, 2]), "weights[0].channels", "first_k"),
    (lambda d: d["bias"].update(n=9), "bias.n", "only 6 weight layers"),
    (lambda d: d["bias"].update(n=1), "bias.layers", "does not match rule last_n"),
    (lambda d: d["bias"].update(layers=["wide", "ghost", "head"]), "bias.layers[1]",
     "'ghost' is not a weight layer"),
])
def test_validation_against_a_graph_names_the_field(graph, edit, field, message):
    doc = _doc(graph)
    edit(doc)
    p = pol.from_json(doc)  # well-formed on its own
    with pytest.raises(pol.PolicyError, match=message) as err:
        pol.validate(p, graph)
    assert err.value.field == field


def test_damaged_files_are_named(tmp_path, graph):
    path = tmp_path / "p.json"
    path.write_text('{"magic": "microtrain-policy", ')
    with pytest.raises(MicrotrainError, match="damaged JSON"):
        pol.load_policy(path)
    with pytest.raises(MicrotrainError, match="cannot read policy"):
        pol.load_policy(tmp_path / "absent.json")
    path.write_text("[1, 2]")
    with pytest.raises(pol.PolicyError, match="not a microtrain policy"):
        pol.load_policy(path)


def test_policy_commands(graph, tmp_path, capsys):
    from microtrain_tools.cli import main as cli_main
    from microtrain_tools.formats.int8_graph import save_graph

    save_graph(graph, tmp_path / "g.mtg")
    p = pol.make_policy(graph, bias_last_n=2, weights=[("wide", 0.5, "first_k")])
    pol.save_policy(p, tmp_path / "p.json")
    cli_main(["policy", "validate", str(tmp_path / "p.json"), "--graph", str(tmp_path / "g.mtg")])
    cli_main(["policy", "show", str(tmp_path / "p.json"), "--graph", str(tmp_path / "g.mtg")])
    out = capsys.readouterr().out
    assert "valid for" in out and "weights wide: 2 of 4 input channels" in out
    doc = pol.to_json(p)
    doc["optimizer"]["rounding"] = "nearest"
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(SystemExit):
        cli_main(["policy", "validate", str(tmp_path / "bad.json"), "--graph",
                  str(tmp_path / "g.mtg")])
    assert "policy field 'optimizer.rounding'" in capsys.readouterr().err
