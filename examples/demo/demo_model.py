# SPDX-License-Identifier: MIT
"""The digits demo's model as `make demo` builds it, in one place for the demo, the tests and
the firmware checks: pretrained (seeded) on digits 0-5, quantized to int8, with the demo's sparse
update policy (biases of the last 5 layers; weights of head, project and dw)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pretrain  # noqa: E402
from microtrain_tools.policy.definition import Optimizer, make_policy
from microtrain_tools.quantize.ptq import quantize


def data():
    """((x_train, y_train), (x_test, y_test)) of all ten digits."""
    return pretrain.digits_split()


def quantized_graph(log=None):
    """(int8 graph, quantization report) of the pretrained demo CNN; log (print-like) gets a
    line per pretraining epoch and per quantization stage."""
    model = pretrain.pretrain(log=log)
    (xtr, ytr), (xte, yte) = data()
    xc, _ = pretrain.only(xtr, ytr, pretrain.PRETRAIN_CLASSES)
    xo, yo = pretrain.only(xte, yte, pretrain.PRETRAIN_CLASSES)
    return quantize(model, xc[:200], eval_data=(xo, yo), log=log)


def demo_policy(graph):
    return make_policy(
        graph, bias_last_n=5,
        weights=[("head", 1.0, "first_k"), ("project", 1.0, "first_k"), ("dw", 1.0, "first_k")],
        optimizer=Optimizer(lr=0.03, momentum=0.0, rounding="stochastic"),
        note="demo: biases of the last 5 layers; weights of head, project and dw; the first "
             "two convs and the expansion stay frozen")


def compiled(in_place=True):
    """The demo's graph compiled with its policy into predict and learn programs."""
    from microtrain_tools.compiler import compile_model

    graph, _ = quantized_graph()
    return compile_model(graph, demo_policy(graph), in_place=in_place)
