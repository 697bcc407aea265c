# SPDX-License-Identifier: MIT
"""Fine-tunes that start from frozen features: what the layers below every updated one make
of a sample is the same at every step of every fine-tune, so it is computed once.

A policy search fine-tunes some 30 policies for 300 steps on the same samples, and most of them
update only the top few layers of the model. Each fine-tune runs the rest of the graph (the
suffix after a cut) as an int8-input model on the int8 activation at the cut, kept per sample.
The suffix's programs are the full graph's programs minus the prefix's ops: the same kernels
on the same bytes (the prefix's weights and biases do not move), the same random streams for
stochastic rounding (drawn in the same order), so the same weights after every step and the
same held-out predictions (tests/test_policy_features.py). A cut is any layer boundary below
the lowest updated layer where only the last layer's output is read above it.

The features at a cut come from the nearest lower cut already computed (or the samples
themselves) by the predict program of the graph from there, run up to the cut.
"""

import dataclasses

import numpy as np

from ..compiler import compile_model
from ..compiler.stream import single_exit
from ..formats.int8_graph import Int8Graph, Tensor
from ..formats.model import INPUT
from ..sim.simulate import HostModel


def cut_below(graph: Int8Graph, lowest: int, max_bytes: int | None = None) -> int:
    """The highest cut (layers[:cut] frozen, run once) at or below layer index `lowest` whose
    activation takes at most max_bytes a sample (kept for every sample: never more than the
    samples themselves); 0 if there is none."""
    for cut in range(lowest, 0, -1):
        ly = graph.layers[cut - 1]
        if ly.op != "flatten" and single_exit(graph, cut) and (
                max_bytes is None or np.prod(graph.tensors[ly.name].shape) <= max_bytes):
            return cut
    return 0


def suffix_graph(graph: Int8Graph, cut: int) -> Int8Graph:
    """layers[cut:] as a graph whose input is the int8 output of layers[cut - 1]."""
    if cut == 0:
        return graph
    last = graph.layers[cut - 1].name
    t = graph.tensors[last]
    tensors = {INPUT: Tensor(INPUT, t.shape, t.scale, t.zero_point)}
    tensors.update({ly.name: graph.tensors[ly.name] for ly in graph.layers[cut:]})
    layers = [dataclasses.replace(ly, inputs=[INPUT if s == last else s for s in ly.inputs])
              for ly in graph.layers[cut:]]
    return Int8Graph(tensors, layers, name=graph.name, meta=graph.meta)


class FrozenFeatures:
    """Suffix graphs and the features at their cuts, for one graph and one set of samples."""

    def __init__(self, graph: Int8Graph, input_dtype: str):
        self.graph, self.input_dtype = graph, input_dtype
        self._suffixes = {0: graph}
        self._features = {}  # (cut, id(x)) -> (x, features)

    def input_dtype_at(self, cut: int) -> str:
        return self.input_dtype if cut == 0 else "int8"

    def suffix(self, cut: int) -> Int8Graph:
        if cut not in self._suffixes:
            self._suffixes[cut] = suffix_graph(self.graph, cut)
        return self._suffixes[cut]

    def features(self, cut: int, x: np.ndarray) -> np.ndarray:
        """The int8 outputs of layers[cut - 1] for samples x (x itself at cut 0)."""
        if cut == 0:
            return x
        entry = self._features.get((cut, id(x)))
        if entry is None or entry[0] is not x:
            done = [c for (c, i), (xs, _) in self._features.items() if i == id(x) and xs is x]
            start = max([c for c in done if c < cut], default=0)
            entry = x, self._run_up_to(start, cut, self.features(start, x))
            self._features[(cut, id(x))] = entry
        return entry[1]

    def _run_up_to(self, start: int, cut: int, xs) -> np.ndarray:
        """Run the predict program of the graph from `start` up to `cut` on each of xs."""
        graph = self.suffix(start)
        compiled = compile_model(graph, None, input_dtype=self.input_dtype_at(start),
                                 tiling=None)
        last = self.graph.layers[cut - 1].name
        n_ops = compiled.layer_at[0][self.graph.layers[cut].name]
        out = next(t for t in compiled.tensors if t.name == last and t.kind == "activation")
        offset = compiled.tensors[out]
        model = HostModel(compiled)
        shape = self.graph.tensors[last].shape
        feats = np.empty((len(xs), *shape), np.int8)
        for i, x in enumerate(xs):
            model.run_predict_ops(x, n_ops)
            feats[i] = model.arena[offset:offset + out.size].view(np.int8).reshape(shape)
        return feats
