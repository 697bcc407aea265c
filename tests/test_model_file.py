# SPDX-License-Identifier: MIT
"""The float model description: checks on build, and its .npz file."""

import json

import numpy as np
import pytest

from microtrain_tools.sim import float_model
from microtrain_tools.formats import model as mdl
from microtrain_tools.errors import MicrotrainError
from model_fixtures import pooled_cnn, tiny_cnn


def test_round_trip_keeps_graph_and_weights(tmp_path):
    m = tiny_cnn()
    path = tmp_path / "m.npz"
    mdl.save_model(m, path)
    back = mdl.load_model(path)
    assert [ly.name for ly in back.layers] == [ly.name for ly in m.layers]
    assert back.shapes == m.shapes
    for a, b in zip(m.layers, back.layers):
        assert (a.op, a.inputs, a.attrs) == (b.op, b.inputs, b.attrs), a.name
        for p in a.params:
            np.testing.assert_array_equal(a.params[p], b.params[p], err_msg=f"{a.name}/{p}")
    x = np.random.default_rng(1).standard_normal((2, *m.input_shape)).astype(np.float32)
    np.testing.assert_array_equal(float_model.forward(m, x), float_model.forward(back, x))


def test_conv1d_is_conv2d_with_h_1():
    w = np.ones((3, 5, 2), np.float32)
    m = mdl.FloatModel((1, 20, 2), [mdl.conv1d("c", "input", w, stride=2, padding=2)])
    assert m.output_shape == (1, 10, 3)
    x = np.ones((1, 1, 20, 2), np.float32)
    y = float_model.forward(m, x)
    assert y[0, 0, 5, 0] == 10.0  # interior: 5 taps x 2 channels of ones
    assert y[0, 0, 0, 0] == 6.0  # first output: 2 taps fall in the padding


def _write_graph(path, arrays, graph):
    arrays = dict(arrays)
    arrays["graph"] = np.frombuffer(json.dumps(graph).encode(), np.uint8)
    np.savez(path, **arrays)


def _arrays_and_graph(tmp_path):
    path = tmp_path / "m.npz"
    mdl.save_model(pooled_cnn(), path)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return arrays, json.loads(arrays.pop("graph").tobytes())


def test_wrong_magic_and_version_are_named(tmp_path):
    arrays, graph = _arrays_and_graph(tmp_path)
    bad = tmp_path / "bad.npz"
    _write_graph(bad, arrays, {**graph, "magic": "something-else"})
    with pytest.raises(MicrotrainError, match="magic is 'something-else'"):
        mdl.load_model(bad)
    _write_graph(bad, arrays, {**graph, "version": 99})
    with pytest.raises(MicrotrainError, match="version 99 is not supported"):
        mdl.load_model(bad)


def test_truncated_and_damaged_files_give_clear_errors(tmp_path):
    path = tmp_path / "m.npz"
    mdl.save_model(pooled_cnn(), path)
    data = path.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 5):
        (tmp_path / "cut.npz").write_bytes(data[:cut])
        with pytest.raises(MicrotrainError, match="not a microtrain float model"):
            mdl.load_model(tmp_path / "cut.npz")
    with pytest.raises(MicrotrainError, match="cannot read"):
        mdl.load_model(tmp_path / "missing.npz")


def test_missing_array_and_bad_json_are_named(tmp_path):
    arrays, graph = _arrays_and_graph(tmp_path)
    bad = tmp_path / "bad.npz"
    _write_graph(bad, {k: v for k, v in arrays.items() if k != "c1/weight"}, graph)
    with pytest.raises(MicrotrainError, match="'c1/weight' is missing"):
        mdl.load_model(bad)
    arrays["graph"] = np.frombuffer(b"{not json", np.uint8)
    np.savez(bad, **arrays)
    with pytest.raises(MicrotrainError, match="'graph' entry is damaged"):
        mdl.load_model(bad)
    arrays.pop("graph")
    np.savez(bad, **arrays)
    with pytest.raises(MicrotrainError, match="no 'graph' entry"):
        mdl.load_model(bad)


@pytest.mark.parametrize("change, message", [
    (lambda ls: ls[0].params.update(weight=np.ones((4, 3, 3, 5))), "weight has shape"),
    (lambda ls: ls[0].attrs.update(act="gelu"), "act must be one of"),
    (lambda ls: setattr(ls[1], "inputs", ["nowhere"]), "'nowhere' is not defined"),
    (lambda ls: setattr(ls[2], "op", "softmax"), "unknown op 'softmax'"),
    (lambda ls: setattr(ls[1], "name", "c1"), "duplicate tensor name"),
    (lambda ls: ls[0].params.update(bias=np.array([np.nan] * 4)), "non-finite"),
    (lambda ls: ls[0].attrs.update(groups=3), "groups must be 1 or c_in"),
    (lambda ls: setattr(ls[2], "inputs", ["c1"]), "fc needs a \\(1, 1, c\\) input"),
])
def test_bad_descriptions_name_layer_and_problem(change, message):
    m = pooled_cnn()
    layers = m.layers
    change(layers)
    with pytest.raises(MicrotrainError, match=message):
        mdl.FloatModel(m.input_shape, layers)
