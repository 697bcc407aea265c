# SPDX-License-Identifier: MIT
"""The baseline: each benchmarked layer in numpy float32, written the way one writes it in numpy
(convolutions as im2col + matmul, depthwise as one multiply-add per filter tap, fc as a matmul),
forward and both gradients. Same shapes and layouts (NHWC, OHWI) as the int8 kernels.

    x, w, g = tensors(layer, rng)                       # input, weights, output gradient
    fwd, grad_in, grad_w = numpy_passes(layer, x, w, g)  # no-argument callables
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from layers import Layer

F = np.float32
PASSES = ("fwd", "grad_in", "grad_w")
# The numpy pass that does the float work of each kernel pass (layers.PASSES).
SAME_WORK = {"fwd": "fwd", "grad_in": "grad_in", "grad_w": "grad_w", "q8_grad_in": "grad_in",
             "q8_update": "grad_w"}


def _pad_amounts(layer: Layer):
    out_h, out_w = layer.out_hw
    pad_h, pad_w = layer.pad
    bottom = max(0, (out_h - 1) * layer.stride + layer.k - layer.h - pad_h)
    right = max(0, (out_w - 1) * layer.stride + layer.k - layer.w - pad_w)
    return ((pad_h, bottom), (pad_w, right), (0, 0))


def _windows(xp, layer: Layer):
    """{oh, ow, c, kh, kw} view of the padded input's filter windows (no copy)."""
    s = layer.stride
    out_h, out_w = layer.out_hw
    return sliding_window_view(xp, (layer.k, layer.k), axis=(0, 1))[::s, ::s][:out_h, :out_w]


def _im2col(xp, layer: Layer):
    """{oh*ow, kh*kw*c}: the rows a conv multiplies with the OHWI filter (one copy)."""
    win = _windows(xp, layer).transpose(0, 1, 3, 4, 2)
    return win.reshape(-1, layer.k * layer.k * xp.shape[2])


def _taps(layer: Layer):
    s = layer.stride
    out_h, out_w = layer.out_hw
    for ky in range(layer.k):
        for kx in range(layer.k):
            yield ky, kx, (slice(ky, ky + (out_h - 1) * s + 1, s),
                           slice(kx, kx + (out_w - 1) * s + 1, s))


def tensors(layer: Layer, rng):
    """Random float32 (x {h,w,c_in}, weights, grad_out {oh,ow,c_out}); weights are {c_out, K}
    for fc and 1x1 conv, OHWI for conv and {kh,kw,c} for depthwise."""
    out_h, out_w = layer.out_hw
    x = rng.standard_normal((layer.h, layer.w, layer.c_in)).astype(F)
    g = rng.standard_normal((out_h, out_w, layer.c_out)).astype(F)
    shape = {"fc": (layer.c_out, x.size), "pwconv2d": (layer.c_out, layer.c_in),
             "conv2d": (layer.c_out, layer.k, layer.k, layer.c_in),
             "dwconv2d": (layer.k, layer.k, layer.c_in)}
    if layer.kind not in shape:
        raise ValueError(f"no numpy baseline for layer kind {layer.kind!r}")
    return x, rng.standard_normal(shape[layer.kind]).astype(F), g


def numpy_passes(layer: Layer, x, wt, g):
    """(fwd, grad_in, grad_w) callables of `layer` on the tensors of `tensors`."""
    out_h, out_w = layer.out_hw
    pads = _pad_amounts(layer)
    top, left = pads[0][0], pads[1][0]
    h, w = layer.h, layer.w

    if layer.kind == "fc":
        xf, gf = x.reshape(1, -1), g.reshape(1, -1)
        return (lambda: xf @ wt.T), (lambda: gf @ wt), (lambda: gf.T @ xf)

    if layer.kind == "pwconv2d":
        xm, gm = x.reshape(-1, layer.c_in), g.reshape(-1, layer.c_out)
        return (lambda: xm @ wt.T), (lambda: gm @ wt), (lambda: gm.T @ xm)

    if layer.kind == "conv2d":
        wm, gm = wt.reshape(layer.c_out, -1), g.reshape(-1, layer.c_out)

        def fwd():
            return _im2col(np.pad(x, pads), layer) @ wm.T

        def grad_in():
            cols = (gm @ wm).reshape(out_h, out_w, layer.k, layer.k, layer.c_in)
            dxp = np.zeros((h + sum(pads[0]), w + sum(pads[1]), layer.c_in), F)
            for ky, kx, (sy, sx) in _taps(layer):
                dxp[sy, sx] += cols[:, :, ky, kx]
            return dxp[top : top + h, left : left + w]

        def grad_w():
            return gm.T @ _im2col(np.pad(x, pads), layer)

        return fwd, grad_in, grad_w

    if layer.kind == "dwconv2d":
        def fwd():
            xp, y = np.pad(x, pads), np.zeros((out_h, out_w, layer.c_in), F)
            for ky, kx, (sy, sx) in _taps(layer):
                y += xp[sy, sx] * wt[ky, kx]
            return y

        def grad_in():
            dxp = np.zeros((h + sum(pads[0]), w + sum(pads[1]), layer.c_in), F)
            for ky, kx, (sy, sx) in _taps(layer):
                dxp[sy, sx] += g * wt[ky, kx]
            return dxp[top : top + h, left : left + w]

        def grad_w():
            xp, dw = np.pad(x, pads), np.empty_like(wt)
            for ky, kx, (sy, sx) in _taps(layer):
                dw[ky, kx] = np.einsum("hwc,hwc->c", xp[sy, sx], g)
            return dw

        return fwd, grad_in, grad_w

    raise ValueError(f"no numpy baseline for layer kind {layer.kind!r}")
