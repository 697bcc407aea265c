# SPDX-License-Identifier: MIT
"""Random cases of the forward ops in the op-adapter form (args, bufs), shared by the forward
kernel tests: the C library (hostlib), the numpy reference and the MicroPython module all take
the same (args, bufs)."""

import numpy as np

from microtrain_tools.formats.quant import quantize_multipliers
from microtrain_tools.reference import REFERENCE_OPS
from microtrain_tools.reference import args as A
from microtrain_tools.reference.add_s8_fwd import AddParams
from microtrain_tools.formats.tflite_params import conv_output_and_padding


def same_out(size: int, k: int, stride: int) -> tuple[int, int]:
    """TFLite SAME padding: (output size, top/left pad). Other tests import this."""
    return conv_output_and_padding(size, k, stride, "same")


def valid_out(size: int, k: int, stride: int) -> int:
    return conv_output_and_padding(size, k, stride, "valid")[0]


def random_requant(rng, channels: int, scale_range=(1e-4, 0.05)):
    """Per-channel (multiplier, shift) of log-uniform scales in scale_range."""
    lo, hi = np.log(scale_range[0]), np.log(scale_range[1])
    return quantize_multipliers(np.exp(rng.uniform(lo, hi, size=channels)))


def random_act(rng, clamp: str = "none") -> A.Act:
    zp_in, zp_out = (int(v) for v in rng.integers(-128, 128, size=2))
    if clamp == "relu":
        return A.Act(-zp_in, zp_out, zp_out, 127)
    if clamp == "relu6":
        return A.Act(-zp_in, zp_out, zp_out, min(127, zp_out + int(rng.integers(10, 120))))
    return A.Act(-zp_in, zp_out)


def conv_case(
    rng,
    *,
    n=1,
    h=8,
    w=8,
    c_in=3,
    c_out=4,
    k=(3, 3),
    stride=(1, 1),
    padding="same",
    depthwise=False,
    clamp="none",
    scale_range=(1e-4, 0.05),
    bias_range=2000,
):
    """(args, bufs) of a conv / depthwise conv op; padding is "same" or "valid"."""
    kh, kw = k
    out_h, pad_h = conv_output_and_padding(h, kh, stride[0], padding)
    out_w, pad_w = conv_output_and_padding(w, kw, stride[1], padding)
    if depthwise:
        c_out = c_in
        f_dims = (1, kh, kw, c_in)
    else:
        f_dims = (c_out, kh, kw, c_in)
    conv = A.Conv(stride[0], stride[1], pad_h, pad_w, random_act(rng, clamp))
    mult, shift = random_requant(rng, c_out, scale_range)
    x = rng.integers(-128, 128, size=(n, h, w, c_in), dtype=np.int8)
    filt = rng.integers(-127, 128, size=f_dims, dtype=np.int8)
    bias = rng.integers(-bias_range, bias_range + 1, size=c_out).astype(np.int32)
    out = np.zeros((n, out_h, out_w, c_out), np.int8)
    args = A.pack_conv(conv) + [n, h, w, c_in, *f_dims, n, out_h, out_w, c_out]
    return args, [mult, shift, x.ravel(), filt.ravel(), bias, out.ravel()]


def fc_case(rng, *, n=1, in_shape=(1, 1, 16), c_out=10, clamp="none", scale_range=(1e-4, 0.01),
            bias_range=5000):
    c_in = int(np.prod(in_shape))
    act = random_act(rng, clamp)
    mult, shift = random_requant(rng, c_out, scale_range)
    x = rng.integers(-128, 128, size=(n, *in_shape), dtype=np.int8)
    filt = rng.integers(-127, 128, size=(c_out, 1, 1, c_in), dtype=np.int8)
    bias = rng.integers(-bias_range, bias_range + 1, size=c_out).astype(np.int32)
    out = np.zeros((n, 1, 1, c_out), np.int8)
    args = A.pack_act(act) + [n, *in_shape, c_out, 1, 1, c_in, n, 1, 1, c_out]
    return args, [mult, shift, x.ravel(), filt.ravel(), bias, out.ravel()]


def add_case(rng, *, dims=(1, 4, 4, 8), scales=None, clamp="none"):
    from microtrain_tools.formats.tflite_params import add_params

    if scales is None:
        s1, s2 = np.exp(rng.uniform(-6, 0, size=2))
        scales = (s1, s2, (s1 + s2) * rng.uniform(0.5, 2.0))
    s1, s2, s_out = scales
    zp1, zp2, zp_out = (int(v) for v in rng.integers(-128, 128, size=3))
    act_min, act_max = (zp_out, 127) if clamp == "relu" else (-128, 127)
    p = add_params(s1, zp1, s2, zp2, s_out, zp_out, max(act_min, -128), act_max)
    x1 = rng.integers(-128, 128, size=dims, dtype=np.int8)
    x2 = rng.integers(-128, 128, size=dims, dtype=np.int8)
    return p.pack() + list(dims), [x1.ravel(), x2.ravel(), np.zeros(int(np.prod(dims)), np.int8)]


def add_params_case(p: AddParams, x1, x2):
    dims = x1.shape
    return p.pack() + list(dims), [x1.ravel(), x2.ravel(), np.zeros(x1.size, np.int8)]


def avgpool_case(rng, *, dims=(1, 5, 5, 8), clamp=(-128, 127), values=None):
    n, h, w, c = dims
    zp = int(rng.integers(-128, 128))
    x = values if values is not None else rng.integers(-128, 128, size=dims, dtype=np.int8)
    args = [-zp, zp, clamp[0], clamp[1], n, h, w, c, n, 1, 1, c]
    return args, [x.ravel(), np.zeros(n * c, np.int8)]


def dequant_case(rng, *, dims=(1, 1, 1, 10), scale=None):
    zp = int(rng.integers(-128, 128))
    scale = float(np.exp(rng.uniform(-12, 3))) if scale is None else scale
    x = rng.integers(-128, 128, size=dims, dtype=np.int8)
    args = [-zp, A.f32_bits(scale), *dims]
    return args, [x.ravel(), np.zeros(x.size, np.float32)]


def copy_bufs(bufs):
    return [b.copy() for b in bufs]


def run_c_and_reference(name, args, bufs):
    """Run op `name` through the C library and the numpy reference on copies of bufs.

    Returns (c_bufs, ref_bufs) after the runs.
    """
    from microtrain_tools.sim import hostlib

    c_bufs, ref_bufs = copy_bufs(bufs), copy_bufs(bufs)
    hostlib.run_op(name, args, c_bufs)
    REFERENCE_OPS[name](args, ref_bufs)
    return c_bufs, ref_bufs


def assert_same(name, args, bufs):
    """C and the numpy reference write the same bytes into every buffer; returns C's buffers."""
    c_bufs, ref_bufs = run_c_and_reference(name, args, bufs)
    for i, (c, r) in enumerate(zip(c_bufs, ref_bufs)):
        if not np.array_equal(c.view(np.uint8), r.view(np.uint8)):
            diff = np.flatnonzero(c.view(np.uint8) != r.view(np.uint8))
            raise AssertionError(
                f"{name} buffer {i}: C and numpy differ at {diff.size} bytes, first at byte "
                f"{diff[0]}; args={args}"
            )
    return c_bufs


def seed_of(name: str) -> int:
    """A fixed seed per case name (str hash() changes between runs)."""
    import zlib

    return zlib.crc32(name.encode())
