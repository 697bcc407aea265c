# SPDX-License-Identifier: MIT
"""Memory of the gradient number format on the paper's models and sparse-update schemes.

For each scheme of microtrain_tools.importers.paper_models, backward runs from the head down to the
earliest updated layer. Two things hold gradient memory there:
- gradient tensors: while a layer's backward runs, its output gradient and its input gradient
  are both live; we report the largest such pair over the backward layers (per sample, an
  estimate: a skip gradient held across a residual block comes on top), in float32 (4 bytes a
  value) and int8 with a per-tensor scale (1 byte a value + 4 bytes);
- weight gradients: the f32 path materialises dL/dW of the updated channels of one layer
  before the QAS update (the largest such layer counts); the fused update kernels
  (mt_*_q8_update) never hold it.
The planner (microtrain mem) gives the exact arena; this shows the order of magnitude.

    .venv/bin/python bench/grad_memory.py
"""

import numpy as np

from microtrain_tools.importers import paper_models as pm


def scheme_memory(graph, policy) -> dict:
    first = graph.index(policy.bias_layers[0])
    pair = 0
    for i in range(first, len(graph.layers)):
        ly = graph.layers[i]
        out = int(np.prod(graph.tensors[ly.name].shape))
        ins = sum(int(np.prod(graph.tensors[t].shape)) for t in ly.inputs) if i > first else 0
        pair = max(pair, out + ins)
    grad_w = 0
    for wu in policy.weights:
        w = graph.layer(wu.layer).weight
        grad_w = max(grad_w, w.size // w.shape[-1] * len(wu.channels))
    return {"pair": pair, "grad_w": grad_w}


def main():
    if not pm.DATA_DIR.is_dir():
        raise SystemExit(f"the paper's models are not here: {pm.DATA_DIR}")
    print("| model, scheme | gradient tensors f32 | int8 | largest dL/dW buffer f32 | fused |")
    print("|---|---|---|---|---|")
    for model, scheme in pm.SCHEMES:
        graph = pm.load_paper_model(model)
        m = scheme_memory(graph, pm.paper_policy(model, scheme, graph))
        kb = lambda b: f"{b / 1024:.1f} KB"  # noqa: E731
        print(f"| {model} {scheme} | {kb(4 * m['pair'])} | {kb(m['pair'] + 8)} | "
              f"{kb(4 * m['grad_w'])} | 0 |")


if __name__ == "__main__":
    main()
