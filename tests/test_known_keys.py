# SPDX-License-Identifier: MIT
"""Unknown keys are errors naming the key and the nearest known one (issue 9, trap 4): a policy
with "lerning_rate" used to train at the default rate, a layer with "activation" instead of
"act" used to import with no activation."""

import json

import numpy as np
import pytest

from e2e_models import small_float_model
from microtrain_tools.formats import model as mdl
from microtrain_tools.policy import definition as pol
from microtrain_tools.quantize import ptq as quantize
from microtrain_tools.errors import MicrotrainError
from model_fixtures import tiny_cnn


@pytest.mark.parametrize("edit, field, key, near", [
    (lambda d: d["optimizer"].update(lerning_rate=0.1), "optimizer", "lerning_rate", None),
    (lambda d: d["optimizer"].update(momentun=0.9), "optimizer", "momentun", "momentum"),
    (lambda d: d["bias"].update(layer=["head"]), "bias", "layer", "layers"),
    (lambda d: d["weights"][0].update(fractions=0.5), "weights[0]", "fractions", "fraction"),
    (lambda d: d.update(optimiser={}), "(top level)", "optimiser", "optimizer"),
])
def test_policy_refuses_unknown_keys(edit, field, key, near):
    m = tiny_cnn(seed=0)
    x = np.random.default_rng(0).standard_normal((32, *m.input_shape)).astype(np.float32)
    graph = quantize.quantize(m, x)[0]
    doc = pol.to_json(pol.make_policy(graph, bias_last_n=2,
                                      weights=[("wide", 0.5, "first_k")]))
    pol.from_json(json.loads(json.dumps(doc)))  # the unedited document is accepted
    edit(doc)
    with pytest.raises(pol.PolicyError) as err:
        pol.from_json(doc)
    assert err.value.field == field
    assert f"unknown key {key!r}" in str(err.value)
    if near:
        assert f"did you mean {near!r}" in str(err.value)


def test_layer_attrs_refuse_unknown_keys():
    model = small_float_model()
    mdl.infer_shapes(model)  # accepted as built
    layer = next(ly for ly in model.layers if ly.op == "conv2d")
    layer.attrs["activation"] = layer.attrs.pop("act")
    with pytest.raises(MicrotrainError, match=r"unknown key 'activation'; did you mean 'act'"):
        mdl.infer_shapes(model)


def test_float_model_file_refuses_unknown_layer_fields(tmp_path):
    path = tmp_path / "m.npz"
    mdl.save_model(small_float_model(), path)
    arrays = dict(np.load(path))
    graph = json.loads(arrays["graph"].astype(np.uint8).tobytes().decode())
    graph["layers"][0]["attributes"] = graph["layers"][0].pop("attrs")
    arrays["graph"] = np.frombuffer(json.dumps(graph).encode(), np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(MicrotrainError, match=r"layer 0: unknown key 'attributes'; did you mean "
                                              r"'attrs'"):
        mdl.load_model(path)
