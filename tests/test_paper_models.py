# SPDX-License-Identifier: MIT
"""The paper's int8 models read in place from ../shared/data/paper_models (PROVENANCE.md there),
converted to int8 graphs, and the paper's sparse update schemes as policies."""

import os
import pickle
import zipfile

import numpy as np
import pytest

from conftest import skip_or_fail
from microtrain_tools.formats import int8_graph as ig
from microtrain_tools.sim import int8_run
from microtrain_tools.importers import paper_models as pm
from microtrain_tools.errors import MicrotrainError

# model -> (body convs, residual adds, body int8 weights, body MACs in millions), PROVENANCE.md
DOCUMENTED = {
    "mcunet-5fps": (42, 7, 463_216, 22.5),
    "mbv2-w0.35": (51, 10, 238_688, 16.6),
    "proxyless-w0.3": (60, 13, 320_816, 18.6),
}


@pytest.fixture(scope="module")
def graphs():
    if not pm.DATA_DIR.is_dir():
        skip_or_fail(f"the paper's models are not here: {pm.DATA_DIR} (../shared/data/"
                     "paper_models relative to the repository)")
    return {name: pm.load_paper_model(name) for name in pm.MODELS}


@pytest.mark.parametrize("name", pm.MODELS)
def test_documented_counts(graphs, name):
    convs, adds, weights, macs = DOCUMENTED[name]
    stats = pm.body_stats(graphs[name])
    assert (stats["convs"], stats["adds"], stats["weights"]) == (convs, adds, weights), stats
    assert round(stats["macs"] / 1e6, 1) == macs, stats


@pytest.mark.parametrize("name", pm.MODELS)
def test_graph_shape_and_head(graphs, name):
    g = graphs[name]
    assert g.input.shape == (128, 128, 3)
    assert g.output.shape == (1, 1, 10)
    head = g.layer("head")
    assert head.op == "fc" and head.weight.shape == (10, g.tensors["pool"].shape[2])
    assert g.layers[-2].op == "avgpool"
    ops = {ly.op for ly in g.layers}
    assert ops == {"conv2d", "dwconv2d", "pwconv2d", "add", "avgpool", "fc"}, ops
    assert any(ly.attrs["act"] == "relu6" for ly in g.weight_layers())


def test_layouts_follow_the_file(graphs):
    raw = pm.load_pickle(pm.model_path("mcunet-5fps"))
    g = graphs["mcunet-5fps"]
    first = raw["first_conv"]["params"]["weight"]  # OIHW
    np.testing.assert_array_equal(g.layer("conv0").weight, first.transpose(0, 2, 3, 1))
    dw = raw["blocks"][0]["depthwise"]["params"]["weight"]  # (c, 1, kh, kw)
    np.testing.assert_array_equal(g.layer("conv1").weight, dw[:, 0].transpose(1, 2, 0))
    np.testing.assert_array_equal(g.layer("conv1").arrays["bias"],
                                  raw["blocks"][0]["depthwise"]["params"]["bias"])
    assert g.layer("conv1").op == "dwconv2d"
    # residual add: the block output plus the block input
    add0 = g.layer("add0")
    assert g.tensors[add0.inputs[1]].scale == pytest.approx(
        raw["blocks"][2]["residual"]["params"]["x_scale"])


def test_round_trip_of_a_paper_graph(graphs, tmp_path):
    g = graphs["mbv2-w0.35"]
    ig.save_graph(g, tmp_path / "m.mtg")
    back = ig.load_graph(tmp_path / "m.mtg")
    assert back.tensors == g.tensors and len(back.layers) == len(g.layers)
    for a, b in zip(g.layers, back.layers):
        for k in a.arrays:
            np.testing.assert_array_equal(a.arrays[k], b.arrays[k])


def test_a_paper_graph_runs_on_the_reference(graphs):
    g = graphs["mbv2-w0.35"]
    x = np.random.default_rng(0).integers(-128, 128, (1, 128, 128, 3)).astype(np.int8)
    t = int8_run.run(g, x, keep=True)
    assert t["head"].shape == (1, 1, 1, 10)
    # the body's activations are not degenerate: the pooled features vary across channels
    assert np.unique(t["pool"]).size > 5


@pytest.mark.parametrize("model, scheme", sorted(pm.SCHEMES))
def test_paper_schemes_as_policies(graphs, model, scheme):
    g = graphs[model]
    n_bias, idx, ratios = pm.SCHEMES[(model, scheme)]
    p = pm.paper_policy(model, scheme, g)
    wl = [ly.name for ly in g.weight_layers()]
    assert p.bias_layers == wl[len(wl) - n_bias - 1:]  # the last n body convs and the head
    updated = [(w.layer, w.fraction) for w in p.weights]
    expected = [(f"conv{i}", r) for i, r in zip(idx, ratios) if r > 0] + [("head", 1.0)]
    assert updated == expected
    for w in p.weights:
        ly = g.layer(w.layer)
        assert w.channels == list(range(len(w.channels)))  # first_k, the paper's engine
        assert len(w.channels) == max(1, round(w.fraction * ly.c_in))
    p2 = pm.paper_policy(model, scheme, g, rule="largest_norm")
    assert [len(w.channels) for w in p2.weights] == [len(w.channels) for w in p.weights]


def test_unknown_model_and_scheme_are_named():
    with pytest.raises(MicrotrainError, match="unknown paper model 'resnet'"):
        pm.model_path("resnet")
    with pytest.raises(MicrotrainError, match="unknown paper scheme mcunet-5fps/1kb"):
        pm.paper_policy("mcunet-5fps", "1kb")


# ---- the restricted unpickler (no data needed) -----------------------------------------------


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _zip(tmp_path, payload: bytes, name="archive/data.pkl"):
    path = tmp_path / "m.pkl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(name, payload)
    return path


def test_unpickler_refuses_code(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"first_conv": _Evil(marker)}, protocol=2)
    with pytest.raises(MicrotrainError, match="refused to load (posix|nt|os).system"):
        pm.load_pickle(_zip(tmp_path, payload))
    assert not marker.exists()
    with pytest.raises(MicrotrainError, match="refused to load builtins.eval"):
        pm.loads_restricted(b"cbuiltins\neval\n(S'1'\ntR.")


def test_unpickler_loads_arrays_and_plain_data():
    data = {"a": np.arange(6, dtype=np.int8).reshape(2, 3), "b": [1, 2.5, "x", None],
            "c": np.float32(0.5) * np.ones(3, np.float32)}
    back = pm.loads_restricted(pickle.dumps(data, protocol=2))
    np.testing.assert_array_equal(back["a"], data["a"])
    assert back["a"].dtype == np.int8 and back["b"] == data["b"]


def test_damaged_archives_are_named(tmp_path):
    good = pickle.dumps({"first_conv": {}, "blocks": [], "classifier": {}}, protocol=2)
    with pytest.raises(MicrotrainError, match="damaged pickle"):
        pm.load_pickle(_zip(tmp_path, good[: len(good) // 2]))
    with pytest.raises(MicrotrainError, match="expected one data.pkl"):
        pm.load_pickle(_zip(tmp_path, good, name="other.bin"))
    with pytest.raises(MicrotrainError, match="not a paper model"):
        pm.load_pickle(_zip(tmp_path, pickle.dumps({"x": 1}, protocol=2)))
    bad = tmp_path / "junk.pkl"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(MicrotrainError, match="damaged zip"):
        pm.load_pickle(bad)
    with pytest.raises(MicrotrainError, match="no such file"):
        pm.load_pickle(tmp_path / "absent.pkl")


def test_import_command_converts_a_paper_model(graphs, tmp_path, capsys):
    from microtrain_tools.cli import main as cli_main

    out = tmp_path / "mcunet.mtg"
    cli_main(["import", str(pm.model_path("mcunet-5fps")), "-o", str(out)])
    assert "wrote" in capsys.readouterr().out
    g = ig.load_graph(out)
    assert pm.body_stats(g) == pm.body_stats(graphs["mcunet-5fps"])
    np.testing.assert_array_equal(g.layer("head").weight, graphs["mcunet-5fps"].layer(
        "head").weight)  # the new head is seeded: the same on every import
