# SPDX-License-Identifier: MIT
"""The digits demo's model compiled as `make demo` compiles it (examples/demo/run_demo.py):
pretrained (seeded), quantized, with the demo's sparse update policy."""

import sys
from functools import lru_cache

from conftest import ROOT


@lru_cache(maxsize=None)
def digits_demo_compiled():
    sys.path.insert(0, str(ROOT / "examples" / "demo"))
    import pretrain
    from microtrain_tools.compiler import compile_model
    from microtrain_tools.policy import Optimizer, make_policy
    from microtrain_tools.quantize import quantize

    model = pretrain.pretrain(log=None)
    (xtr, ytr), (xte, yte) = pretrain.digits_split()
    xc, _ = pretrain.only(xtr, ytr, pretrain.PRETRAIN_CLASSES)
    xo, yo = pretrain.only(xte, yte, pretrain.PRETRAIN_CLASSES)
    graph, _ = quantize(model, xc[:200], eval_data=(xo, yo))
    policy = make_policy(
        graph, bias_last_n=5,
        weights=[("head", 1.0, "first_k"), ("project", 1.0, "first_k"), ("dw", 1.0, "first_k")],
        optimizer=Optimizer(lr=0.03, momentum=0.0, rounding="stochastic"))
    return compile_model(graph, policy)
