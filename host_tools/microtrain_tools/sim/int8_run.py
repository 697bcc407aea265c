# SPDX-License-Identifier: MIT
"""Run an Int8Graph on the host through the kernels' numpy reference (microtrain_tools.reference).

This is the one place where graph layers become reference op calls: the quantizer's report, the
importers' checks and tests use it, so there is no second int8 implementation to drift.
"""

from __future__ import annotations

import numpy as np

from ..errors import MicrotrainError
from ..formats.int8_graph import Int8Graph, Int8Layer, is_mean
from ..formats.model import INPUT


def _reference():
    try:
        from ..reference import REFERENCE_OPS
    except ImportError as err:
        raise MicrotrainError(
            f"the int8 reference ops (microtrain_tools.reference) are not available: {err}"
        ) from None
    return REFERENCE_OPS


def _dims(x) -> list:
    n, h, w, c = x.shape
    return [n, h, w, c]


def _filter_dims(ly: Int8Layer) -> list:
    w = ly.weight
    if ly.op == "dwconv2d":
        return [1, *w.shape]
    if ly.op == "fc":
        return [w.shape[0], 1, 1, w.shape[1]]
    return list(w.shape)


def _run_layer(ops, graph: Int8Graph, ly: Int8Layer, xs):
    """One layer as the op call the device makes: the adapter's flat args and buffers."""
    t_in, t_out = graph.tensors[ly.inputs[0]], graph.tensors[ly.name]
    n = xs[0].shape[0]
    out = np.zeros((n, *t_out.shape), np.int8)
    a, at = ly.arrays, ly.attrs
    act = [-t_in.zero_point, t_out.zero_point, at["act_min"], at["act_max"]]
    if ly.has_weights:
        bufs = [a["multiplier"], a["shift"], xs[0], a["weight"], a["bias"], out]
        if ly.op == "fc":
            args = act + [n, 1, 1, t_in.shape[-1]] + _filter_dims(ly) + _dims(out)
        else:
            args = [*at["stride"], *at["padding"], *act, *_dims(xs[0]), *_filter_dims(ly),
                    *_dims(out)]
        ops[f"mt_{ly.op}_s8_fwd"](args, bufs)
    elif ly.op == "add":
        t_b = graph.tensors[ly.inputs[1]]
        m, s = a["multiplier"], a["shift"]
        args = [-t_in.zero_point, m[0], s[0], -t_b.zero_point, m[1], s[1], m[2], s[2],
                t_out.zero_point, at["act_min"], at["act_max"], *_dims(out)]
        ops["mt_add_s8_fwd"]([int(v) for v in args], [xs[0], xs[1], out])
    elif is_mean(ly):
        args = act + [int(a["multiplier"][0]), int(a["shift"][0])] + _dims(xs[0]) + _dims(out)
        ops["mt_mean_s8_fwd"](args, [xs[0], out])
    elif ly.op == "avgpool":
        ops["mt_avgpool_s8_fwd"](act + _dims(xs[0]) + _dims(out), [xs[0], out])
    elif ly.op == "flatten":
        out[...] = xs[0].reshape(out.shape)
    else:
        raise MicrotrainError(f"layer {ly.name!r}: no reference op for {ly.op!r}")
    return out


def run(graph: Int8Graph, xq, keep=False, ops=None):
    """Forward a batch of int8 inputs (n, h, w, c); returns the output, or every tensor.
    ops: kernel name -> op(args, bufs); the numpy reference unless given (tests pass the C
    library's hostlib.run_op to check both take the same calls)."""
    ops = ops or _reference()
    xq = np.asarray(xq)
    if xq.dtype != np.int8 or xq.shape[1:] != graph.input.shape:
        raise MicrotrainError(f"int8 input must be int8 (n, {graph.input.shape}), "
                              f"got {xq.dtype} {xq.shape}")
    tensors = {INPUT: xq}
    for ly in graph.layers:
        y = _run_layer(ops, graph, ly, [tensors[name] for name in ly.inputs])
        tensors[ly.name] = y
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
