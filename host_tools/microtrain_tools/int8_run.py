# SPDX-License-Identifier: MIT
"""Run an Int8Graph on the host through the kernels' numpy reference (microtrain_tools.reference).

This is the one place where graph layers become reference op calls: the quantizer's report, the
importers' checks and tests use it, so there is no second int8 implementation to drift.
"""

from __future__ import annotations

import numpy as np

from .errors import MicrotrainError
from .int8_graph import Int8Graph, Int8Layer
from .model import INPUT


def _reference():
    try:
        from .reference import REFERENCE_OPS
    except ImportError as err:
        raise MicrotrainError(
            f"the int8 reference ops (microtrain_tools.reference) are not available: {err}"
        ) from None
    return REFERENCE_OPS


def _run_layer(ops, graph: Int8Graph, ly: Int8Layer, xs):
    t_in = graph.tensors[ly.inputs[0]]
    t_out = graph.tensors[ly.name]
    a = ly.arrays
    at = ly.attrs
    if ly.op in ("conv2d", "pwconv2d", "dwconv2d", "fc"):
        kwargs = dict(input_offset=-t_in.zero_point, output_offset=t_out.zero_point,
                      act_min=at["act_min"], act_max=at["act_max"])
        if ly.op == "fc":
            x = xs[0].reshape(xs[0].shape[0], -1)
            y = ops["mt_fc_s8_fwd"](x, a["weight"], a["bias"], a["multiplier"], a["shift"],
                                    **kwargs)
            return y.reshape(len(x), 1, 1, -1)
        return ops[f"mt_{ly.op}_s8_fwd"](xs[0], a["weight"], a["bias"], a["multiplier"],
                                          a["shift"], stride=at["stride"],
                                          padding=at["padding"], **kwargs)
    if ly.op == "add":
        t_b = graph.tensors[ly.inputs[1]]
        return ops["mt_add_s8_fwd"](
            xs[0], xs[1], in1_offset=-t_in.zero_point, in1_multiplier=int(a["multiplier"][0]),
            in1_shift=int(a["shift"][0]), in2_offset=-t_b.zero_point,
            in2_multiplier=int(a["multiplier"][1]), in2_shift=int(a["shift"][1]),
            output_multiplier=int(a["multiplier"][2]), output_shift=int(a["shift"][2]),
            output_offset=t_out.zero_point, act_min=at["act_min"], act_max=at["act_max"])
    if ly.op == "avgpool":
        return ops["mt_avgpool_s8_fwd"](xs[0], input_offset=-t_in.zero_point,
                                        output_offset=t_out.zero_point,
                                        act_min=at.get("act_min", -128),
                                        act_max=at.get("act_max", 127))
    if ly.op == "flatten":
        return xs[0].reshape(xs[0].shape[0], 1, 1, -1)
    raise MicrotrainError(f"layer {ly.name!r}: no reference op for {ly.op!r}")


def run(graph: Int8Graph, xq, keep=False):
    """Forward a batch of int8 inputs (n, h, w, c); returns the output, or every tensor."""
    ops = _reference()
    xq = np.asarray(xq)
    if xq.dtype != np.int8 or xq.shape[1:] != graph.input.shape:
        raise MicrotrainError(f"int8 input must be int8 (n, {graph.input.shape}), "
                              f"got {xq.dtype} {xq.shape}")
    tensors = {INPUT: xq}
    for ly in graph.layers:
        y = _run_layer(ops, graph, ly, [tensors[name] for name in ly.inputs])
        tensors[ly.name] = np.asarray(y, dtype=np.int8)
        if not keep:  # free what no later layer reads
            for name in list(tensors):
                if name != ly.name and not _read_later(graph, ly, name):
                    del tensors[name]
    return tensors if keep else tensors[graph.layers[-1].name]


def _read_later(graph, current, name):
    later = graph.layers[graph.layers.index(current) + 1:]
    return any(name in ly.inputs for ly in later)


def predict(graph: Int8Graph, xq, batch=256):
    xq = np.asarray(xq)
    return np.concatenate([run(graph, xq[i:i + batch]) for i in range(0, len(xq), batch)])
