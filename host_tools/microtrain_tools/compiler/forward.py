# SPDX-License-Identifier: MIT
"""Forward rules: one function per int8 graph op, emitting the kernel call of that layer.

Argument lists follow the op adapters in natmod/ops/ (see docs/kernels.md): conv-shaped ops take
conv params (8), input dims, filter dims, output dims; buffers multiplier, shift, input, filter,
bias, output.
"""

import struct

from ..formats.int8_graph import is_mean


def dims(shape, n=1):
    h, w, c = shape
    return [n, h, w, c]


def float_bits(value) -> int:
    """An int32 argument that carries the bits of a float32 (mt_op_float in C)."""
    return struct.unpack("<i", struct.pack("<f", float(value)))[0]


def filter_dims(ly):
    w = ly.arrays["weight"]
    if ly.op == "dwconv2d":
        kh, kw, c = w.shape
        return [1, kh, kw, c]
    if ly.op == "fc":
        c_out, c_in = w.shape
        return [c_out, 1, 1, c_in]
    return list(w.shape)


def act_args(graph, ly):
    t_in, t_out = graph.tensors[ly.inputs[0]], graph.tensors[ly.name]
    return [-t_in.zero_point, t_out.zero_point, ly.attrs["act_min"], ly.attrs["act_max"]]


def conv_args(graph, ly):
    """The flat argument list of a conv-shaped op (conv2d, pwconv2d, dwconv2d)."""
    sh, sw = ly.attrs["stride"]
    ph, pw = ly.attrs["padding"]
    return ([sh, sw, ph, pw] + act_args(graph, ly)
            + dims(graph.tensors[ly.inputs[0]].shape) + filter_dims(ly)
            + dims(graph.tensors[ly.name].shape))


def fwd_conv(e, graph, ly, params, xs, y):
    e.emit(f"mt_{ly.op}_s8_fwd", conv_args(graph, ly),
           [params["multiplier"], params["shift"], xs[0], params["weight"], params["bias"], y],
           f"{ly.name}: {ly.op} forward")


def fwd_fc(e, graph, ly, params, xs, y):
    c_in = graph.tensors[ly.inputs[0]].shape[-1]
    c_out = graph.tensors[ly.name].shape[-1]
    args = act_args(graph, ly) + [1, 1, 1, c_in] + filter_dims(ly) + [1, 1, 1, c_out]
    e.emit("mt_fc_s8_fwd", args,
           [params["multiplier"], params["shift"], xs[0], params["weight"], params["bias"], y],
           f"{ly.name}: fc forward")


def fwd_add(e, graph, ly, params, xs, y):
    t_a, t_b = graph.tensors[ly.inputs[0]], graph.tensors[ly.inputs[1]]
    t_out = graph.tensors[ly.name]
    m, s = ly.arrays["multiplier"], ly.arrays["shift"]
    args = [-t_a.zero_point, int(m[0]), int(s[0]), -t_b.zero_point, int(m[1]), int(s[1]),
            int(m[2]), int(s[2]), t_out.zero_point, ly.attrs["act_min"], ly.attrs["act_max"]]
    e.emit("mt_add_s8_fwd", args + dims(t_out.shape), [xs[0], xs[1], y], f"{ly.name}: add")


def fwd_avgpool(e, graph, ly, params, xs, y):
    t_in, t_out = graph.tensors[ly.inputs[0]], graph.tensors[ly.name]
    args = [-t_in.zero_point, t_out.zero_point, ly.attrs.get("act_min", -128),
            ly.attrs.get("act_max", 127)]
    if is_mean(ly):  # TFLite's MEAN into another scale; its backward is the avgpool's
        m, s = int(ly.arrays["multiplier"][0]), int(ly.arrays["shift"][0])
        e.emit("mt_mean_s8_fwd", args + [m, s] + dims(t_in.shape) + dims(t_out.shape),
               [xs[0], y], f"{ly.name}: global mean, requantized")
        return
    e.emit("mt_avgpool_s8_fwd", args + dims(t_in.shape) + dims(t_out.shape), [xs[0], y],
           f"{ly.name}: global average pool")


FORWARD = {
    "conv2d": fwd_conv,
    "pwconv2d": fwd_conv,
    "dwconv2d": fwd_conv,
    "fc": fwd_fc,
    "add": fwd_add,
    "avgpool": fwd_avgpool,
    # flatten emits nothing: its output is its input's memory (NHWC order is already flat)
}


def emit_quantize_input(e, tensor, x, xq):
    inverse = 1.0 / tensor.scale
    e.emit("mt_quant_f32_s8", [tensor.zero_point, float_bits(inverse)] + dims(tensor.shape),
           [x, xq], "input: float -> int8")


def emit_dequantize(e, tensor, yq, y):
    e.emit("mt_dequant_s8_f32", [-tensor.zero_point, float_bits(tensor.scale)]
           + dims(tensor.shape), [yq, y], "logits: int8 -> float")
