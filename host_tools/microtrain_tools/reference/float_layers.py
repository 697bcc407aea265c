# SPDX-License-Identifier: MIT
"""A float64 model of the layers the int8 kernels train, for gradient checks: each layer's
forward and backward side by side, NHWC tensors, the weight layouts of mt_types.h.

Not a kernel reference (no `OPS`): tests run it on dequantized int8 tensors and compare the
kernels' float32 gradients with it, and check it against finite differences.
"""

import numpy as np


def _pad(x, pad, k, stride, out_hw):
    """Zero-pad top/left by pad and bottom/right as far as the last window reaches."""
    n, h, w, c = x.shape
    need = [(o - 1) * s + kk for o, s, kk in zip(out_hw, stride, k)]
    xp = np.zeros((n, max(need[0], h + pad[0]), max(need[1], w + pad[1]), c), np.float64)
    xp[:, pad[0] : pad[0] + h, pad[1] : pad[1] + w] = x
    return xp


def _window(xp, ky, kx, stride, out_hw):
    return xp[:, ky : ky + (out_hw[0] - 1) * stride[0] + 1 : stride[0],
              kx : kx + (out_hw[1] - 1) * stride[1] + 1 : stride[1]]


def conv2d_forward(x, w, b, stride, pad, out_hw):
    """x {n,h,w,c_in}, w {c_out,kh,kw,c_in}, b {c_out} -> {n,oh,ow,c_out}."""
    c_out, kh, kw, _ = w.shape
    xp = _pad(x, pad, (kh, kw), stride, out_hw)
    y = np.zeros((x.shape[0], *out_hw, c_out)) + b
    for ky in range(kh):
        for kx in range(kw):
            y += _window(xp, ky, kx, stride, out_hw) @ w[:, ky, kx, :].T
    return y


def conv2d_backward(x, w, dy, stride, pad):
    """(dL/dx, dL/dW, dL/db) of conv2d_forward given dL/dy."""
    c_out, kh, kw, _ = w.shape
    out_hw = dy.shape[1:3]
    xp = _pad(x, pad, (kh, kw), stride, out_hw)
    dxp, dw = np.zeros_like(xp), np.zeros(w.shape)
    for ky in range(kh):
        for kx in range(kw):
            _window(dxp, ky, kx, stride, out_hw)[...] += dy @ w[:, ky, kx, :]
            dw[:, ky, kx, :] = np.einsum("nyxo,nyxi->oi", dy, _window(xp, ky, kx, stride, out_hw))
    h, wd = x.shape[1:3]
    return dxp[:, pad[0] : pad[0] + h, pad[1] : pad[1] + wd], dw, dy.sum(axis=(0, 1, 2))


def dwconv2d_forward(x, w, b, stride, pad, out_hw):
    """Depthwise: w {1,kh,kw,c}."""
    _, kh, kw, c = w.shape
    xp = _pad(x, pad, (kh, kw), stride, out_hw)
    y = np.zeros((x.shape[0], *out_hw, c)) + b
    for ky in range(kh):
        for kx in range(kw):
            y += _window(xp, ky, kx, stride, out_hw) * w[0, ky, kx]
    return y


def dwconv2d_backward(x, w, dy, stride, pad):
    _, kh, kw, c = w.shape
    out_hw = dy.shape[1:3]
    xp = _pad(x, pad, (kh, kw), stride, out_hw)
    dxp, dw = np.zeros_like(xp), np.zeros(w.shape)
    for ky in range(kh):
        for kx in range(kw):
            _window(dxp, ky, kx, stride, out_hw)[...] += dy * w[0, ky, kx]
            dw[0, ky, kx] = np.sum(dy * _window(xp, ky, kx, stride, out_hw), axis=(0, 1, 2))
    h, wd = x.shape[1:3]
    return dxp[:, pad[0] : pad[0] + h, pad[1] : pad[1] + wd], dw, dy.sum(axis=(0, 1, 2))


def fc_forward(x, w, b):
    """x {n, ...} read as n rows of features, w {c_out, features} -> {n, c_out}."""
    return x.reshape(x.shape[0], -1) @ w.T + b


def fc_backward(x, w, dy):
    flat = x.reshape(x.shape[0], -1)
    return (dy @ w).reshape(x.shape), dy.T @ flat, dy.sum(axis=0)


def clamp_forward(y, lo, hi):
    return np.clip(y, lo, hi)


def clamp_backward(dy, y, lo, hi):
    """Zero where the clamped output sits on a bound (the int8 kernels' convention)."""
    return np.where((y <= lo) | (y >= hi), 0.0, dy)


def add_forward(a, b):
    return a + b


def add_backward(dy):
    return dy, dy


def avgpool_forward(x):
    return x.mean(axis=(1, 2), keepdims=True)


def avgpool_backward(dy, in_shape):
    n, h, w, c = in_shape
    return np.broadcast_to(dy.reshape(n, 1, 1, c) / (h * w), in_shape).copy()


def xent(z, labels):
    """Mean softmax cross-entropy over the batch and its gradient at the logits z {n, c}."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    total = e.sum(axis=1, keepdims=True)
    n = z.shape[0]
    rows = np.arange(n)
    loss = np.mean(np.log(total[:, 0]) - z[rows, labels])
    grad = e / total
    grad[rows, labels] -= 1.0
    return loss, grad / n


def mse(y, t):
    d = y - t
    return np.mean(d * d), 2.0 * d / d.size
