# SPDX-License-Identifier: MIT
"""Gradients of the int8 training kernels against a float64 model of the same layers.

1. The float model (microtrain_tools.reference.float_layers) agrees with central finite
   differences, so it can be trusted as the yardstick.
2. On dequantized tensors (x = s_x (q - z), W = s_w[c] Wq: exact in float64) the kernels compute
   the same sums as the float model, only in float32. Each kernel output is a recursive float32
   sum of T terms, each term made with at most two roundings, then at most one more rounding
   (the final * s_x). Higham's bound for such a sum gives
       |kernel - exact| <= gamma(T + 3) * sum_i |term_i|,   gamma(k) = k u / (1 - k u), u = 2^-24,
   and sum_i |term_i| is the float model run on |x|, |W| and |dy|. Tests assert that bound.
3. Through the int8 forward, the quantization step enters: an int8 logit differs from the float
   logit on the same dequantized inputs by delta <= s_out (1/2 + 2^-16) + |z| 2^-30 (the final
   rounding of the requantization, the rounding of its fixed-point high multiply, and the Q31
   multiplier's relative error). Softmax's Jacobian diag(p) - p p^T has row sums of absolute
   values 2 p_i (1 - p_i) <= 1/2, so each element of the cross-entropy gradient (a batch mean)
   moves by at most delta / (2 n); the fc weight gradient sum_b g_b x_b then by at most
   delta / (2 n) * sum_b |x_b|. Tests assert these bounds (plus float32 rounding of 1e-6).
"""

import numpy as np
import pytest

from kernels_fwd_cases import same_out
from microtrain_tools.sim import hostlib
from microtrain_tools.formats.quant import quantize_multipliers
from microtrain_tools.reference import args as A
from microtrain_tools.reference import float_layers as FL

U = 2.0**-24


def gamma(k):
    return k * U / (1 - k * U)


# ---- 1. the float model against finite differences ------------------------------------------


def numeric_grad(f, x, idx, h=1e-5):
    out = []
    for i in idx:
        old = x.flat[i]
        x.flat[i] = old + h
        up = f()
        x.flat[i] = old - h
        down = f()
        x.flat[i] = old
        out.append((up - down) / (2 * h))
    return np.array(out)


@pytest.mark.parametrize("kind", ["conv2d", "dwconv2d", "fc", "avgpool"])
def test_float_layers_match_finite_differences(kind):
    rng = np.random.default_rng(len(kind))
    x = rng.standard_normal((2, 5, 6, 3))
    stride, pad, out_hw = (2, 1), (1, 1), (3, 6)
    if kind == "conv2d":
        w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
        fwd = lambda: FL.conv2d_forward(x, w, b, stride, pad, out_hw)  # noqa: E731
        bwd = lambda dy: FL.conv2d_backward(x, w, dy, stride, pad)  # noqa: E731
    elif kind == "dwconv2d":
        w, b = rng.standard_normal((1, 3, 3, 3)), rng.standard_normal(3)
        fwd = lambda: FL.dwconv2d_forward(x, w, b, stride, pad, out_hw)  # noqa: E731
        bwd = lambda dy: FL.dwconv2d_backward(x, w, dy, stride, pad)  # noqa: E731
    elif kind == "fc":
        w, b = rng.standard_normal((7, 90)), rng.standard_normal(7)
        fwd = lambda: FL.fc_forward(x, w, b)  # noqa: E731
        bwd = lambda dy: FL.fc_backward(x, w, dy)  # noqa: E731
    else:
        w = b = np.zeros(1)
        fwd = lambda: FL.avgpool_forward(x)  # noqa: E731
        bwd = lambda dy: (FL.avgpool_backward(dy, x.shape), np.zeros(1), np.zeros(1))  # noqa
    r = rng.standard_normal(fwd().shape)
    loss = lambda: np.sum(r * fwd())  # noqa: E731  -- so dL/dy = r
    grads = bwd(r)
    for tensor, grad in zip((x, w, b), grads):
        idx = rng.choice(tensor.size, size=min(12, tensor.size), replace=False)
        assert np.allclose(grad.ravel()[idx], numeric_grad(loss, tensor, idx), rtol=1e-6,
                           atol=1e-7)


@pytest.mark.parametrize("loss_name", ["xent", "mse"])
def test_float_losses_match_finite_differences(loss_name):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((3, 5)) * 2
    labels, target = rng.integers(0, 5, size=3), rng.standard_normal((3, 5))
    fn = (lambda: FL.xent(z, labels)) if loss_name == "xent" else (lambda: FL.mse(z, target))
    _, grad = fn()
    idx = np.arange(z.size)
    assert np.allclose(grad.ravel(), numeric_grad(lambda: fn()[0], z, idx), rtol=1e-6,
                       atol=1e-9)


# ---- 2. the kernels on dequantized tensors --------------------------------------------------


def quantized_conv(rng, depthwise, n=2, h=7, w=6, c_in=5, c_out=6, k=3, stride=2):
    (out_h, pad_h), (out_w, pad_w) = same_out(h, k, stride), same_out(w, k, stride)
    c_out = c_in if depthwise else c_out
    zp = int(rng.integers(-20, 20))
    s_x = np.float32(0.02)
    xq = rng.integers(-128, 128, size=(n, h, w, c_in), dtype=np.int8)
    f_dims = (1, k, k, c_in) if depthwise else (c_out, k, k, c_in)
    wq = rng.integers(-127, 128, size=f_dims, dtype=np.int8)
    s_w = np.exp(rng.uniform(-6, -3, size=c_out)).astype(np.float32)
    dy = (rng.standard_normal((n, out_h, out_w, c_out)) * 1e-2).astype(np.float32)
    conv = A.Conv(stride, stride, pad_h, pad_w, A.Act(-zp, 0))
    return conv, zp, s_x, xq, wq, s_w, dy


@pytest.mark.parametrize("depthwise", [False, True])
def test_conv_kernels_match_the_float_model_within_float32_rounding(depthwise):
    rng = np.random.default_rng(10 + depthwise)
    conv, zp, s_x, xq, wq, s_w, dy = quantized_conv(rng, depthwise)
    n, h, w, c_in = xq.shape
    _, out_h, out_w, c_out = dy.shape
    kh, kw = wq.shape[1:3]
    x = np.float64(s_x) * (xq.astype(np.float64) - zp)
    if depthwise:
        W = wq.astype(np.float64) * s_w.astype(np.float64)
        back = FL.dwconv2d_backward
    else:
        W = wq.astype(np.float64) * s_w.astype(np.float64)[:, None, None, None]
        back = FL.conv2d_backward
    stride, pad = (conv.stride_h, conv.stride_w), (conv.pad_h, conv.pad_w)
    dx, dW, db = back(x, W, dy.astype(np.float64), stride, pad)
    adx, adW, adb = back(np.abs(x), np.abs(W), np.abs(dy.astype(np.float64)), stride, pad)

    kind = "dwconv2d" if depthwise else "conv2d"
    f_dims = list(wq.shape)
    base = A.pack_conv(conv) + [n, h, w, c_in, *f_dims, n, out_h, out_w, c_out]
    grad_in = np.zeros(xq.size, np.float32)
    hostlib.run_op(f"mt_{kind}_s8_grad_in", base + [0], [s_w, grad_in, wq.ravel(), dy.ravel()])
    terms_in = kh * kw * (1 if depthwise else c_out)
    assert np.all(np.abs(grad_in - dx.ravel()) <= gamma(terms_in + 3) * adx.ravel())

    sel = np.array([3, 0, 4], np.int32)  # a channel subset, not the first k
    x_saved = np.ascontiguousarray(xq[..., sel])
    f_sub = [1 if depthwise else c_out, kh, kw, len(sel)]
    args = A.pack_conv(conv) + [n, h, w, len(sel), *f_sub, n, out_h, out_w, c_out,
                                A.f32_bits(float(s_x))]
    grad_w = np.zeros(int(np.prod(f_sub)), np.float32)
    bufs = [x_saved.ravel(), grad_w, dy.ravel()]
    if depthwise:
        bufs.insert(1, sel)
    hostlib.run_op(f"mt_{kind}_s8_grad_w", args, bufs)
    terms_w = n * out_h * out_w
    want, bound = dW[..., sel].ravel(), gamma(terms_w + 3) * adW[..., sel].ravel()
    assert np.all(np.abs(grad_w - want) <= bound)

    grad_b = np.zeros(c_out, np.float32)
    hostlib.run_op("mt_bias_f32_grad_b", [n, out_h, out_w, c_out], [dy.ravel(), grad_b])
    assert np.all(np.abs(grad_b - db) <= gamma(terms_w) * adb)


def test_avgpool_and_add_kernels_match_the_float_model():
    rng = np.random.default_rng(12)
    dy = rng.standard_normal((2, 1, 1, 5)).astype(np.float32)
    shape = (2, 3, 4, 5)
    out = np.zeros(int(np.prod(shape)), np.float32)
    hostlib.run_op("mt_avgpool_f32_grad_in", [*shape, 0], [dy.ravel(), out])
    want = FL.avgpool_backward(dy.astype(np.float64), shape)
    assert np.all(np.abs(out - want.ravel()) <= U * np.abs(want.ravel()))  # one rounding
    out = np.zeros(dy.size, np.float32)
    hostlib.run_op("mt_add_f32_grad_in", [2, 1, 1, 5, 0], [dy.ravel(), out])
    assert np.array_equal(out, FL.add_backward(dy)[0].ravel())


# ---- 3. through the int8 forward: the quantization step --------------------------------------


def test_fc_xent_gradient_is_within_the_quantization_bound():
    rng = np.random.default_rng(13)
    n, c_in, c_out = 4, 20, 10
    s_x, zp_x = np.float32(0.05), 3
    s_out, zp_out = np.float32(0.12), -5
    xq = rng.integers(-128, 128, size=(n, c_in), dtype=np.int8)
    wq = rng.integers(-127, 128, size=(c_out, c_in), dtype=np.int8)
    s_w = np.exp(rng.uniform(-7, -5, size=c_out)).astype(np.float32)
    bq = rng.integers(-3000, 3000, size=c_out).astype(np.int32)
    labels = rng.integers(0, c_out, size=n).astype(np.int32)
    mult, shift = quantize_multipliers(np.float64(s_x) * s_w.astype(np.float64) / s_out)
    logits = np.zeros(n * c_out, np.int8)
    fwd_args = [-zp_x, zp_out, -128, 127, n, 1, 1, c_in, c_out, 1, 1, c_in, n, 1, 1, c_out]
    hostlib.run_op("mt_fc_s8_fwd", fwd_args, [mult, shift, xq.ravel(), wq.ravel(), bq, logits])

    x = np.float64(s_x) * (xq.astype(np.float64) - zp_x)
    W = wq * s_w.astype(np.float64)[:, None]
    b = bq * (np.float64(s_x) * s_w.astype(np.float64))
    z = FL.fc_forward(x, W, b)
    lo, hi = (-128 - zp_out) * s_out, (127 - zp_out) * s_out
    assert np.all((z > lo + s_out) & (z < hi - s_out)), "logits must not saturate for this bound"
    delta = s_out * (0.5 + 2.0**-16) + np.abs(z).max() * 2.0**-30
    zq = np.float64(s_out) * (logits.reshape(n, c_out).astype(np.float64) - zp_out)
    assert np.all(np.abs(zq - z) <= delta)

    _, g_float = FL.xent(z, labels)
    loss, g = np.zeros(1, np.float32), np.zeros(n * c_out, np.float32)
    hostlib.run_op("mt_xent_s8_grad_in", [n, c_out, -zp_out, A.f32_bits(float(s_out))],
                   [logits, labels, loss, g])
    g_bound = delta / (2 * n) + 1e-6
    assert np.all(np.abs(g.reshape(n, c_out) - g_float) <= g_bound)

    grad_w = np.zeros(c_out * c_in, np.float32)
    hostlib.run_op("mt_fc_s8_grad_w", fwd_args + [A.f32_bits(float(s_x))],
                   [xq.ravel(), grad_w, g])
    _, dW, _ = FL.fc_backward(x, W, g_float)
    w_bound = g_bound * np.abs(x).sum(axis=0)[None, :] + 1e-6
    assert np.all(np.abs(grad_w.reshape(c_out, c_in) - dW) <= w_bound)
    # The bound is not vacuous: it is well below the gradient's own size (measured: largest
    # |dW| 2.2, bound 0.16, error 0.03).
    assert np.abs(dW).max() > 10 * w_bound.max()


def test_relu_mask_from_the_int8_output_matches_the_float_mask_off_the_boundary():
    """The clamp kernel's mask (from the saved int8 output) equals the float ReLU mask wherever
    the float pre-activation is more than delta from the bound."""
    rng = np.random.default_rng(14)
    n, c_in, c_out = 8, 16, 12
    s_x, s_out, zp_out = np.float32(0.05), np.float32(0.04), -128
    xq = rng.integers(-128, 128, size=(n, c_in), dtype=np.int8)
    wq = rng.integers(-127, 128, size=(c_out, c_in), dtype=np.int8)
    s_w = np.full(c_out, 0.002, np.float32)
    bq = np.zeros(c_out, np.int32)
    mult, shift = quantize_multipliers(np.float64(s_x) * s_w.astype(np.float64) / s_out)
    out = np.zeros(n * c_out, np.int8)
    args = [0, zp_out, zp_out, 127, n, 1, 1, c_in, c_out, 1, 1, c_in, n, 1, 1, c_out]
    hostlib.run_op("mt_fc_s8_fwd", args, [mult, shift, xq.ravel(), wq.ravel(), bq, out])
    z = FL.fc_forward(s_x * xq.astype(np.float64), wq * s_w.astype(np.float64)[:, None], 0.0)
    g = np.ones(n * c_out, np.float32)
    hostlib.run_op("mt_clamp_s8_grad_in", [zp_out, 127, n, 1, 1, c_out], [out, g])
    float_mask = FL.clamp_backward(np.ones_like(z), z, 0.0, (127 - zp_out) * s_out).ravel()
    delta = s_out * (0.5 + 2.0**-16)
    z = z.ravel()
    clear = (np.abs(z) > delta) & (np.abs(z - (127 - zp_out) * s_out) > delta)
    assert clear.sum() > 0.8 * z.size and 0 < float_mask.sum() < z.size
    assert np.array_equal(g[clear], float_mask[clear])
