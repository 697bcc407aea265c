# SPDX-License-Identifier: MIT
"""Reference of the q8 backward ops: int8 gradient tensors with a float32 per-tensor scale.

The conv-shaped grad_in ops sum integers (grad_in_q8). The other kernels compute every value
exactly as their float32 ops do (reading an int8 gradient as scale * (float)q) and quantize the
output in a second pass, so each reference here is the f32 reference on dequantized inputs,
followed by `quantize`. The fused updates are the f32 weight
(or bias) gradient followed by the QAS update, in the same element order.
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


def _conv_update(kind):
    """mt_<kind>_q8_update: args conv/act params, in dims {n,h,w,k}, filter dims (whole),
    out dims, input_scale, qas, rounding, lr, momentum."""

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
        k = in_dims[3] if kind != "fc" else int(np.prod(in_dims[1:]))
        ch = channels[:k] if channels.size else None
        gout = dequantize(gout_q, gout_s[0]).reshape(out_dims)
        offset = params.act.input_offset
        if kind == "dwconv2d":
            xs = A.tensor(x, in_dims)
            g = dw_ref.dwconv2d_grad_w(params, xs, ch, offset, s_x, gout, f_dims[1], f_dims[2])
            layout = (1, f_dims[1] * f_dims[2], f_dims[3], k, 1, ch)
        else:
            if kind == "fc":
                in_dims = (in_dims[0], 1, 1, k)
                if f_dims[1:3] != (1, 1) or f_dims[3] < k:
                    raise MicrotrainError(f"fc: filter {f_dims} does not fit input {in_dims}")
            xs = A.tensor(x, in_dims)
            g = conv_ref.conv2d_grad_w(params, xs, offset, s_x, gout, f_dims[1], f_dims[2])
            layout = (f_dims[0], f_dims[1] * f_dims[2], f_dims[3], k, 0, ch)
        state = {"momentum": mom if mom.size else None, "master": master if master.size else None,
                 "rng": rng.view(np.uint32) if rng.size else None}
        qas.s8_update(weights.reshape(-1), g.ravel(), w_scale, layout, lr, momentum, qas_on,
                      rounding, state)

    return op


def _bias_update(args, bufs):
    bias, b_scale, gout_q, gout_s, mom, master, rng = bufs
    out_dims = A.dims(args[:4])
    qas_on, rounding = int(args[4]), int(args[5])
    lr, momentum = float(A.bits_f32(args[6])), float(A.bits_f32(args[7]))
    g = grad_misc.bias_grad(dequantize(gout_q, gout_s[0]).reshape(out_dims))
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
