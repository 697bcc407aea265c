# SPDX-License-Identifier: MIT
"""The benchmarked layers and their op calls: for each layer, the (args, bufs) of its forward,
grad_in and grad_w ops in the op-adapter form that hostlib, the unix-port module, the Cortex-M
harness and the numpy reference all take.

MACs are counted as CMSIS-NN counts them: every filter tap of every output, padding included,
so the forward, grad_in and grad_w of a layer have the same count.
"""

from dataclasses import dataclass

import numpy as np

from microtrain_tools.formats.quant import quantize_multipliers
from microtrain_tools.reference import args as A
from microtrain_tools.reference import grad_in_q8
from microtrain_tools.formats.tflite_params import conv_output_and_padding

# The float32-gradient ops, then the int8-gradient ones the compiler emits (docs/numerics.md):
# q8_update is the weight gradient fused with the QAS update of the int8 weights.
PASSES = ("fwd", "grad_in", "grad_w", "q8_grad_in", "q8_update")
MT_ROUND_STOCHASTIC = 2  # mt_rounding (natmod/kernels/mt_qas.h)


@dataclass(frozen=True)
class Layer:
    name: str
    kind: str  # "conv2d", "pwconv2d", "dwconv2d" or "fc": the op names' <op> part
    h: int
    w: int
    c_in: int
    c_out: int
    k: int = 1
    stride: int = 1

    @property
    def out_hw(self) -> tuple[int, int]:
        if self.kind == "fc":
            return 1, 1
        return (conv_output_and_padding(self.h, self.k, self.stride, "same")[0],
                conv_output_and_padding(self.w, self.k, self.stride, "same")[0])

    @property
    def pad(self) -> tuple[int, int]:
        if self.kind == "fc":
            return 0, 0
        return (conv_output_and_padding(self.h, self.k, self.stride, "same")[1],
                conv_output_and_padding(self.w, self.k, self.stride, "same")[1])

    @property
    def macs(self) -> int:
        out_h, out_w = self.out_hw
        if self.kind == "fc":
            return self.h * self.w * self.c_in * self.c_out
        per_output = self.k * self.k * (1 if self.kind == "dwconv2d" else self.c_in)
        return out_h * out_w * self.c_out * per_output

    @property
    def shape_text(self) -> str:
        out_h, out_w = self.out_hw
        if self.kind == "fc":
            return f"{self.h * self.w * self.c_in} -> {self.c_out}"
        return (f"{self.h}x{self.w}x{self.c_in} -> {out_h}x{out_w}x{self.c_out}, "
                f"k{self.k} s{self.stride}")

    def op(self, pass_: str) -> str:
        if pass_.startswith("q8_"):
            return f"mt_{self.kind}_{pass_}"
        return f"mt_{self.kind}_s8_{pass_}"


# The five layer types the issue names, on mid-sized (16x16x32) activations.
LAYERS = (
    Layer("1x1 conv", "pwconv2d", 16, 16, 32, 32),
    Layer("depthwise 3x3", "dwconv2d", 16, 16, 32, 32, k=3),
    Layer("depthwise 7x7 s2", "dwconv2d", 16, 16, 32, 32, k=7, stride=2),
    Layer("3x3 conv s2", "conv2d", 16, 16, 32, 32, k=3, stride=2),
    Layer("fully connected", "fc", 1, 1, 512, 128),
)


def _dims(layer: Layer):
    out_h, out_w = layer.out_hw
    in_dims = [1, layer.h, layer.w, layer.c_in]
    if layer.kind == "fc":
        f_dims = [layer.c_out, 1, 1, layer.h * layer.w * layer.c_in]
    elif layer.kind == "dwconv2d":
        f_dims = [1, layer.k, layer.k, layer.c_in]
    else:
        f_dims = [layer.c_out, layer.k, layer.k, layer.c_in]
    return in_dims, f_dims, [1, out_h, out_w, layer.c_out]


def _head(layer: Layer, act: A.Act) -> list:
    """The args before the dims: act params (fc) or conv params (the conv-shaped ops)."""
    if layer.kind == "fc":
        return A.pack_act(act)
    pad_h, pad_w = layer.pad
    return A.pack_conv(A.Conv(layer.stride, layer.stride, pad_h, pad_w, act))


def op_case(layer: Layer, pass_: str, rng) -> tuple[list, list]:
    """(args, bufs) of one pass of `layer` on random int8 data and float32 gradients."""
    in_dims, f_dims, out_dims = _dims(layer)
    act = A.Act(-int(rng.integers(-128, 128)), int(rng.integers(-128, 128)))
    head = _head(layer, act) + in_dims + f_dims + out_dims
    x = rng.integers(-128, 128, size=int(np.prod(in_dims)), dtype=np.int8)
    filt = rng.integers(-127, 128, size=int(np.prod(f_dims)), dtype=np.int8)
    grad_out = rng.standard_normal(int(np.prod(out_dims))).astype(np.float32)
    c_out = layer.c_out
    if pass_ == "fwd":
        # Output scales near 1 / (128 sqrt(taps)) keep most outputs off the clamp.
        taps = int(np.prod(f_dims[1:])) if layer.kind != "dwconv2d" else layer.k * layer.k
        mult, shift = quantize_multipliers(
            rng.uniform(0.5, 2.0, size=c_out) / (128 * np.sqrt(taps)))
        bias = rng.integers(-2000, 2001, size=c_out).astype(np.int32)
        out = np.zeros(int(np.prod(out_dims)), np.int8)
        return head, [mult, shift, x, filt, bias, out]
    if pass_ == "grad_in":
        w_scale = rng.uniform(1e-3, 1e-2, size=c_out).astype(np.float32)
        grad_in = np.zeros(int(np.prod(in_dims)), np.float32)
        return head + [0], [w_scale, grad_in, filt, grad_out]
    if pass_ == "grad_w":
        args = head + [A.f32_bits(float(rng.uniform(0.01, 0.1)))]
        grad_w = np.zeros(int(np.prod(f_dims)), np.float32)
        if layer.kind == "dwconv2d":  # the empty channel list: the first k (here all) channels
            return args, [x, np.zeros(0, np.int32), grad_w, grad_out]
        return args, [x, grad_w, grad_out]
    grad_out_q = rng.integers(-127, 128, size=grad_out.size, dtype=np.int8)
    grad_out_scale = np.array([rng.uniform(1e-3, 1e-2)], np.float32)
    if pass_ == "q8_grad_in":
        w_scale = rng.uniform(1e-3, 1e-2, size=c_out).astype(np.float32)
        grad_in = np.zeros(int(np.prod(in_dims)), np.int8)
        bufs = [w_scale, grad_in, np.zeros(1, np.float32), filt, grad_out_q, grad_out_scale]
        if layer.kind != "dwconv2d":  # conv2d, pwconv2d, fc: the kernel's scratch
            size = grad_in_q8.scratch_bytes(f_dims[3], f_dims[0], f_dims[1], f_dims[2])
            bufs.append(np.zeros(size // 4, np.int32).view(np.int8))
        return head + [0], bufs
    if pass_ == "q8_update":
        update = [A.f32_bits(float(rng.uniform(0.01, 0.1))), 1, MT_ROUND_STOCHASTIC,
                  A.f32_bits(0.01), A.f32_bits(0.0)]  # input_scale, qas, rounding, lr, momentum
        w_scale = rng.uniform(1e-3, 1e-2, size=c_out).astype(np.float32)
        empty_f, rng_state = np.zeros(0, np.float32), np.array([0x2545F491], np.int32)
        return head + update, [x, np.zeros(0, np.int32), filt, w_scale, grad_out_q,
                               grad_out_scale, empty_f, empty_f.copy(), rng_state]
    raise ValueError(f"unknown pass {pass_!r}; known: {', '.join(PASSES)}")


def layer_seed(layer: Layer, pass_: str) -> int:
    """A fixed seed per (layer, pass), so every run measures the same data."""
    import zlib

    return zlib.crc32(f"{layer.name}/{pass_}".encode())


def cases(layers=LAYERS, passes=PASSES):
    """[(layer, pass, op name, args, bufs)] with the fixed seeds."""
    return [(ly, p, ly.op(p), *op_case(ly, p, np.random.default_rng(layer_seed(ly, p))))
            for ly in layers for p in passes]
