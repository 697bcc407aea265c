# SPDX-License-Identifier: MIT
"""Reference of the q8 backward ops: int8 gradient tensors with a float32 per-tensor scale.

The conv-shaped grad_in ops sum integers (grad_in_q8). The loss and the other grad_in kernels
compute every value exactly as their float32 ops do (reading an int8 gradient as scale *
(float)q) and quantize the output in a second pass, so each reference here is the f32 reference
on dequantized inputs, followed by `quantize`. The fused updates sum integers too
(docs/numerics.md): exact int64 sums here, bounded so that the C int32 sums are exact too, one
float32 conversion and multiply, then the QAS update in the same element order.
"""

import numpy as np

from ..errors import MicrotrainError
from . import args as A
from . import conv2d_s8_grad as conv_ref
from . import dwconv2d_s8_grad as dw_ref
from . import grad_in_q8, grad_misc, loss_s8
from . import qas_update as qas

F = np.float32


def quantize(v) -> tuple[np.ndarray, np.float32]:
    """mt_grad_begin + mt_grad_put: scale = max|v| / 127, q = round(v * 127 / max|v|); a
    tensor with max|v| < 1e-30 counts as zero."""
    v = np.asarray(v, F)
    amax = F(np.abs(v).max()) if v.size else F(0.0)
    if not np.isfinite(amax):
        raise MicrotrainError("gradient is not finite")
    zero = amax < F(1e-30)  # counts as an all-zero tensor (127 / amax would overflow)
    scale = F(0.0) if zero else amax / F(127.0)
    inv = F(0.0) if zero else F(127.0) / amax
    t = v * inv
    q = (t + np.where(t >= 0, F(0.5), F(-0.5))).astype(np.int64)
    return np.clip(q, -127, 127).astype(np.int8), F(scale)


def dequantize(q, scale) -> np.ndarray:
    return F(scale) * np.asarray(q).astype(F)


def _store(q_buf, scale_buf, values):
    q, s = quantize(values)
    q_buf.reshape(-1)[: q.size] = q.ravel()
    scale_buf[0] = s


# The most output pixels an integer update sum may have (mt_conv_q8_update.h,
# mt_bias_s32_update.h): the largest counts whose sums of extreme terms still fit int32.
MAX_UPDATE_PIXELS = 65793  # terms up to 128 * 255 = 32640
MAX_BIAS_PIXELS = 16777215  # terms up to 128
INT32_MAX = 2**31 - 1


def update_sums(conv: A.Conv, x, gq, k_h, k_w, channels=None) -> np.ndarray:
    """The exact sums of a q8 weight update, int64: acc[o,ky,kx,j] = sum over the valid output
    pixels of gq[n,oy,ox,o] * (x[n,iy,ix,j] + offset) (conv, {c_out,kh,kw,k}), or, with channels
    (depthwise, {kh,kw,k}), gq[n,oy,ox,channels[j]] * (x[...,j] + offset)."""
    n, out_h, out_w, _ = gq.shape
    if n * out_h * out_w > MAX_UPDATE_PIXELS:
        raise MicrotrainError(f"update: {n * out_h * out_w} output pixels, more than "
                              f"{MAX_UPDATE_PIXELS} overflow the int32 sums")
    xo = x.astype(np.int64) + conv.act.input_offset
    # Padding adds nothing: pad with zeros after the offset.
    xp = np.pad(xo, ((0, 0), (conv.pad_h, k_h), (conv.pad_w, k_w), (0, 0)))
    g = gq.astype(np.int64)
    sh, sw = conv.stride_h, conv.stride_w
    k = x.shape[3]
    acc = np.zeros((k_h, k_w, k) if channels is not None else (g.shape[3], k_h, k_w, k),
                   np.int64)
    for ky in range(k_h):
        for kx in range(k_w):
            win = xp[:, ky: ky + sh * (out_h - 1) + 1: sh, kx: kx + sw * (out_w - 1) + 1: sw]
            if channels is not None:
                acc[ky, kx] = np.einsum("nhwj,nhwj->j", g[..., channels], win)
            else:
                acc[:, ky, kx] = np.einsum("nhwo,nhwj->oj", g, win)
    assert np.abs(acc).max(initial=0) <= INT32_MAX, "the pixel bound keeps the sums in int32"
    return acc


def update_grad(acc, gout_scale, s_x) -> np.ndarray:
    """grad = (float)acc * (s_g * s_x): one int->float32 rounding, one float32 multiply."""
    return acc.astype(F) * (F(gout_scale) * F(s_x))


def _conv_update(kind):
    """mt_<kind>_q8_update: args conv/act params, in dims {n,h,w,k}, filter dims (whole),
    out dims, input_scale, qas, rounding, lr, momentum. Integer sums, then the QAS update."""

    def op(args, bufs):
        x, channels, weights, w_scale, gout_q, gout_s, mom, master, rng = bufs
        first = 4 if kind == "fc" else 8
        params = A.Conv(1, 1, 0, 0, A.act(args[:4])) if kind == "fc" else A.conv(args[:8])
        in_dims = A.dims(args[first : first + 4])
        f_dims = A.dims(args[first + 4 : first + 8])
        out_dims = A.dims(args[first + 8 : first + 12])
        s_x = A.bits_f32(args[first + 12])
        qas_on, rounding = int(args[first + 13]), int(args[first + 14])
        lr, momentum = float(A.bits_f32(args[first + 15])), float(A.bits_f32(args[first + 16]))
        if not (F(0) < F(s_x) < F(1e30)):
            raise MicrotrainError(f"update: input_scale {s_x} out of range")
        if not -127 <= params.act.input_offset <= 128:
            raise MicrotrainError(f"update: input_offset {params.act.input_offset} out of range")
        k = in_dims[3] if kind != "fc" else int(np.prod(in_dims[1:]))
        ch = channels[:k] if channels.size else None
        gq = A.tensor(gout_q, out_dims)
        if kind == "dwconv2d":
            xs = A.tensor(x, in_dims)
            sel = np.arange(k) if ch is None else np.asarray(ch)
            if np.any(sel < 0) or np.any(sel >= out_dims[3]):
                raise MicrotrainError(f"dwconv2d: channels {sel} out of range")
            conv_ref.check_conv(params, xs.shape, (k, f_dims[1], f_dims[2], k), out_dims[1],
                                out_dims[2])
            acc = update_sums(params, xs, gq, f_dims[1], f_dims[2], sel)
            layout = (1, f_dims[1] * f_dims[2], f_dims[3], k, 1, ch)
        else:
            if kind == "fc":
                in_dims = (in_dims[0], 1, 1, k)
                if f_dims[1:3] != (1, 1) or f_dims[3] < k:
                    raise MicrotrainError(f"fc: filter {f_dims} does not fit input {in_dims}")
            xs = A.tensor(x, in_dims)
            conv_ref.check_conv(params, xs.shape, (out_dims[3], f_dims[1], f_dims[2], k),
                                out_dims[1], out_dims[2])
            acc = update_sums(params, xs, gq, f_dims[1], f_dims[2])
            layout = (f_dims[0], f_dims[1] * f_dims[2], f_dims[3], k, 0, ch)
        g = update_grad(acc, gout_s[0], s_x)
        state = {"momentum": mom if mom.size else None, "master": master if master.size else None,
                 "rng": rng.view(np.uint32) if rng.size else None}
        qas.s8_update(weights.reshape(-1), g.ravel(), w_scale, layout, lr, momentum, qas_on,
                      rounding, state)

    return op


def _bias_update(args, bufs):
    """mt_bias_q8_update: acc[c] = sum of q[..., c] (exact), grad = (float)acc * s_g, then the
    s32 QAS update."""
    bias, b_scale, gout_q, gout_s, mom, master, rng = bufs
    out_dims = A.dims(args[:4])
    qas_on, rounding = int(args[4]), int(args[5])
    lr, momentum = float(A.bits_f32(args[6])), float(A.bits_f32(args[7]))
    pixels = out_dims[0] * out_dims[1] * out_dims[2]
    if pixels > MAX_BIAS_PIXELS:
        raise MicrotrainError(f"bias update: {pixels} output pixels, more than "
                              f"{MAX_BIAS_PIXELS} overflow the int32 sums")
    acc = A.tensor(gout_q, out_dims).astype(np.int64).sum(axis=(0, 1, 2))
    g = acc.astype(F) * F(gout_s[0])
    state = {"momentum": mom if mom.size else None, "master": master if master.size else None,
             "rng": rng.view(np.uint32) if rng.size else None}
    qas.s32_update(A.tensor(bias, (out_dims[3],)), g, b_scale, lr, momentum, qas_on, rounding,
                   state)


def _clamp(args, bufs):
    dims = A.dims(args[2:6])
    y, g = A.tensor(bufs[0], dims), A.tensor(bufs[1], dims)
    g[(y <= int(args[0])) | (y >= int(args[1]))] = 0


def _pass_through(float_op):
    def op(args, bufs):
        gout_q, gout_s, gin_q, gin_s = bufs
        gin_f = dequantize(gin_q, gin_s[0]) if int(args[4]) else np.zeros(gin_q.size, F)
        float_op(args, [dequantize(gout_q, gout_s[0]), gin_f])
        _store(gin_q, gin_s, gin_f)

    return op


def _loss(float_op):
    def op(args, bufs):
        out, target, loss, g_q, g_s = bufs
        g = np.zeros(g_q.size, F)
        float_op(args, [out, target, loss, g])
        _store(g_q, g_s, g)

    return op


OPS = {
    "mt_conv2d_q8_grad_in": grad_in_q8.conv_op(8, store=_store),
    "mt_pwconv2d_q8_grad_in": grad_in_q8.conv_op(8, pointwise=True, store=_store),
    "mt_dwconv2d_q8_grad_in": grad_in_q8.dw_op(_store),
    "mt_fc_q8_grad_in": grad_in_q8.conv_op(4, store=_store),
    "mt_conv2d_q8_update": _conv_update("conv2d"),
    "mt_pwconv2d_q8_update": _conv_update("pwconv2d"),
    "mt_dwconv2d_q8_update": _conv_update("dwconv2d"),
    "mt_fc_q8_update": _conv_update("fc"),
    "mt_bias_q8_update": _bias_update,
    "mt_clamp_q8_grad_in": _clamp,
    "mt_add_q8_grad_in": _pass_through(grad_misc.OPS["mt_add_f32_grad_in"]),
    "mt_avgpool_q8_grad_in": _pass_through(grad_misc.OPS["mt_avgpool_f32_grad_in"]),
    "mt_xent_q8_grad_in": _loss(loss_s8.OPS["mt_xent_s8_grad_in"]),
    "mt_mse_q8_grad_in": _loss(loss_s8.OPS["mt_mse_s8_grad_in"]),
}
