# SPDX-License-Identifier: MIT
"""The models whose training programs run per arch: the digits demo, the HAR example, the
paper's mcunet-5fps with its "49kb" scheme, each with its own policy, compiled as the examples
and tests/test_paper_learn.py compile them, and the converter-made TFLite fixture with a
requantizing MEAN (mt_mean_s8_fwd, learned through) and an fc head (rounding once); a few
samples to predict and learn.

Pretraining is shortened (a few epochs): the programs and their arithmetic are the same, only
the float weights the int8 graph is quantized from differ.
"""

import sys
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from conftest import ROOT
from microtrain_tools.compiler import compile_model
from microtrain_tools.importers.paper_models import load_paper_model, paper_policy
from microtrain_tools.policy.definition import Optimizer, make_policy
from microtrain_tools.quantize.ptq import quantize
from shared_data import shared_data

MODELS = ("digits", "har", "mcunet", "tflite_mean")


@dataclass
class ModelCase:
    graph: object = field(repr=False)
    policy: object = field(repr=False)
    input_dtype: str
    xs: np.ndarray = field(repr=False)  # samples, one per step
    ys: np.ndarray = field(repr=False)

    def compile(self, in_place: bool):
        return compile_model(self.graph, self.policy, input_dtype=self.input_dtype,
                             in_place=in_place)


@contextmanager
def example_path(name: str):
    sys.path.insert(0, str(ROOT / "examples" / name))
    try:
        yield
    finally:
        sys.path.pop(0)


def digits_case(n: int) -> ModelCase:
    """examples/demo: pretrain.py's CNN and run_demo.py's policy; digits of all ten classes."""
    with example_path("demo"):
        import demo_model
        import pretrain
    model = pretrain.pretrain(epochs=3, log=None)
    (xtr, ytr), _ = pretrain.digits_split()
    xc, _ = pretrain.only(xtr, ytr, pretrain.PRETRAIN_CLASSES)
    graph, _ = quantize(model, xc[:200])
    policy = demo_model.demo_policy(graph)
    return ModelCase(graph, policy, "float32", xtr[-n:], ytr[-n:])


def har_case(n: int) -> ModelCase:
    """examples/har: har_example.py's 1-D CNN and policy; windows of the real recordings."""
    import warnings

    from microtrain_tools.sim import float_model

    with example_path("har"):
        import har_data
        import har_example
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # truncated recordings: har_data warns, as it should
        recordings = har_data.load_recordings(shared_data("har_exercises"))
    train_recs, _ = har_example.split_recordings(recordings)
    x_pre, y_pre = har_data.dataset(train_recs, har_example.PRETRAIN_CLASSES)
    x_dev, y_dev = har_data.dataset(train_recs)
    model = har_example.build_model()
    cfg = float_model.TrainConfig(epochs=2, batch=32, lr=3e-3, optimizer="adam",
                                  seed=har_example.SEED)
    float_model.train(model, x_pre, y_pre, cfg, log=None)
    graph, _ = quantize(model, x_pre[:256])
    policy = make_policy(graph, bias_last_n=4,
                         weights=[("head", 1.0, "first_k"), ("c3", 1.0, "first_k"),
                                  ("c2", 1.0, "first_k")],
                         optimizer=Optimizer(lr=0.01, rounding="stochastic"))
    pick = np.random.default_rng(0).permutation(len(x_dev))[:n]
    return ModelCase(graph, policy, "float32", x_dev[pick], y_dev[pick])


def mcunet_case(n: int) -> ModelCase:
    """The paper's mcunet-5fps, "49kb" scheme, int8 128x128x3 input (test_paper_learn.py)."""
    folder = shared_data("paper_models")
    graph = load_paper_model("mcunet-5fps", path=folder / "mcunet-5fps.pkl")
    rng = np.random.default_rng(0)
    xs = rng.integers(-128, 128, (n, 128 * 128 * 3)).astype(np.int8)
    return ModelCase(graph, paper_policy("mcunet-5fps", "49kb", graph), "int8", xs,
                     rng.integers(0, 10, n))


def tflite_mean_case(n: int) -> ModelCase:
    """tests/litert_fixtures/model_mean.tflite: conv, MEAN into another scale, fc; the conv
    learns too, so the learn step goes back through the mean."""
    from microtrain_tools.importers.tflite_import import load_tflite

    graph = load_tflite(ROOT / "tests" / "litert_fixtures" / "model_mean.tflite")
    policy = make_policy(graph, bias_last_n=2, weights=[("head", 1.0, "first_k"),
                                                        ("conv0", 1.0, "first_k")],
                         optimizer=Optimizer(lr=0.05, rounding="stochastic"))
    rng = np.random.default_rng(1)
    xs = rng.integers(-128, 128, (n, int(np.prod(graph.input.shape)))).astype(np.int8)
    return ModelCase(graph, policy, "int8", xs, rng.integers(0, graph.output.shape[2], n))


def model_case(name: str, n: int) -> ModelCase:
    return {"digits": digits_case, "har": har_case, "mcunet": mcunet_case,
            "tflite_mean": tflite_mean_case}[name](n)
