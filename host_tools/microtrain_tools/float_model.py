# SPDX-License-Identifier: MIT
"""Batched float forward/backward of a FloatModel in numpy, and a small trainer.

Used to pretrain models on the host and as the float side of the quantizer's report. Convs run
as one matrix product over im2col patches (a strided view, no copy until the reshape), so a
small CNN trains on two cores in seconds. Each layer's backward sits beside its forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .errors import MicrotrainError
from .model import INPUT, FloatModel, Layer

# ---- im2col ----------------------------------------------------------------------------------


def _pad(x, ph, pw, oh, ow, kh, kw, sh, sw):
    """Zero-pad top/left by (ph, pw) and bottom/right just enough for the output size."""
    n, h, w, c = x.shape
    need_h = (oh - 1) * sh + kh
    need_w = (ow - 1) * sw + kw
    out = np.zeros((n, need_h, need_w, c), dtype=x.dtype)
    hh = min(h, need_h - ph)
    ww = min(w, need_w - pw)
    out[:, ph:ph + hh, pw:pw + ww] = x[:, :hh, :ww]
    return out


def _patches(xp, oh, ow, kh, kw, sh, sw):
    """(n, oh, ow, kh, kw, c) view of the padded input."""
    n, _, _, c = xp.shape
    s = xp.strides
    return as_strided(xp, (n, oh, ow, kh, kw, c),
                      (s[0], s[1] * sh, s[2] * sw, s[1], s[2], s[3]), writeable=False)


def _unpatch(dcols, in_shape, ph, pw, sh, sw):
    """Adjoint of _pad + _patches: scatter-add patch gradients back onto the input."""
    n, oh, ow, kh, kw, c = dcols.shape
    _, h, w, _ = in_shape
    need_h = (oh - 1) * sh + kh
    need_w = (ow - 1) * sw + kw
    dxp = np.zeros((n, need_h, need_w, c), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += dcols[:, :, :, i, j]
    hh = min(h, need_h - ph)
    ww = min(w, need_w - pw)
    dx = np.zeros(in_shape, dtype=dcols.dtype)
    dx[:, :hh, :ww] = dxp[:, ph:ph + hh, pw:pw + ww]
    return dx


# ---- activations -----------------------------------------------------------------------------


def act_forward(y, act):
    if act == "relu":
        return np.maximum(y, 0)
    if act == "relu6":
        return np.clip(y, 0, 6)
    return y


def act_backward(dy, y, act):
    """dy through the activation, given its output y (the gradient is 0 where it clamped)."""
    if act == "relu":
        return dy * (y > 0)
    if act == "relu6":
        return dy * ((y > 0) & (y < 6))
    return dy


# ---- layers: forward returns (output, tape), backward(tape, dy) -> (dx list, param grads) ----


def conv2d_forward(ly: Layer, x):
    kh, kw = ly.attrs["kernel"]
    sh, sw = ly.attrs["stride"]
    ph, pw = ly.attrs["padding"]
    n, h, w, c = x.shape
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (w + 2 * pw - kw) // sw + 1
    cols = _patches(_pad(x, ph, pw, oh, ow, kh, kw, sh, sw), oh, ow, kh, kw, sh, sw)
    wt = ly.params["weight"]
    if ly.depthwise:
        y = np.einsum("nhwijc,ijc->nhwc", cols, wt, optimize=True)
    else:
        y = cols.reshape(n * oh * ow, -1) @ wt.reshape(wt.shape[0], -1).T
        y = y.reshape(n, oh, ow, -1)
    y = act_forward(y + ly.params["bias"], ly.act)
    return y, (x.shape, cols, y)


def conv2d_backward(ly: Layer, tape, dy):
    in_shape, cols, y = tape
    dy = act_backward(dy, y, ly.act)
    wt = ly.params["weight"]
    ph, pw = ly.attrs["padding"]
    sh, sw = ly.attrs["stride"]
    db = dy.sum(axis=(0, 1, 2))
    if ly.depthwise:
        dw = np.einsum("nhwijc,nhwc->ijc", cols, dy, optimize=True)
        dcols = dy[:, :, :, None, None, :] * wt
    else:
        n, oh, ow, co = dy.shape
        dy2 = dy.reshape(-1, co)
        dw = (dy2.T @ cols.reshape(dy2.shape[0], -1)).reshape(wt.shape)
        dcols = (dy2 @ wt.reshape(co, -1)).reshape(cols.shape)
    dx = _unpatch(dcols, in_shape, ph, pw, sh, sw)
    return [dx], {"weight": dw, "bias": db}


def fc_forward(ly: Layer, x):
    x2 = x.reshape(x.shape[0], -1)
    y = act_forward(x2 @ ly.params["weight"].T + ly.params["bias"], ly.act)
    return y.reshape(x.shape[0], 1, 1, -1), (x.shape, x2, y)


def fc_backward(ly: Layer, tape, dy):
    in_shape, x2, y = tape
    dy = act_backward(dy.reshape(y.shape), y, ly.act)
    dx = (dy @ ly.params["weight"]).reshape(in_shape)
    return [dx], {"weight": dy.T @ x2, "bias": dy.sum(axis=0)}


def batchnorm_forward(ly: Layer, x, training=False, momentum=0.1):
    """Batch statistics while training (and the running ones updated), running ones otherwise."""
    eps = ly.attrs["eps"]
    p = ly.params
    if training:
        mean = x.mean(axis=(0, 1, 2))
        var = x.var(axis=(0, 1, 2))
        count = x.size // x.shape[-1]
        p["mean"] = ((1 - momentum) * p["mean"] + momentum * mean).astype(np.float32)
        unbiased = var * count / max(count - 1, 1)
        p["var"] = ((1 - momentum) * p["var"] + momentum * unbiased).astype(np.float32)
    else:
        mean, var = p["mean"], p["var"]
    inv = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv
    y = act_forward(p["gamma"] * xhat + p["beta"], ly.act)
    return y, (xhat, inv, y, training)


def batchnorm_backward(ly: Layer, tape, dy):
    xhat, inv, y, training = tape
    dy = act_backward(dy, y, ly.act)
    axes = (0, 1, 2)
    dgamma = (dy * xhat).sum(axis=axes)
    dbeta = dy.sum(axis=axes)
    dxhat = dy * ly.params["gamma"]
    if training:  # the batch statistics depend on x too
        dx = inv * (dxhat - dxhat.mean(axis=axes) - xhat * (dxhat * xhat).mean(axis=axes))
    else:
        dx = dxhat * inv
    return [dx], {"gamma": dgamma, "beta": dbeta}


def add_forward(ly: Layer, a, b):
    y = act_forward(a + b, ly.act)
    return y, y


def add_backward(ly: Layer, y, dy):
    dy = act_backward(dy, y, ly.act)
    return [dy, dy], {}


def avgpool_forward(ly: Layer, x):
    return x.mean(axis=(1, 2), keepdims=True), x.shape


def avgpool_backward(ly: Layer, in_shape, dy):
    n, h, w, c = in_shape
    return [np.broadcast_to(dy / (h * w), in_shape).copy()], {}


def flatten_forward(ly: Layer, x):
    return x.reshape(x.shape[0], 1, 1, -1), x.shape


def flatten_backward(ly: Layer, in_shape, dy):
    return [dy.reshape(in_shape)], {}


# op -> (forward, backward)
LAYERS = {
    "conv2d": (conv2d_forward, conv2d_backward),
    "fc": (fc_forward, fc_backward),
    "batchnorm": (batchnorm_forward, batchnorm_backward),
    "add": (add_forward, add_backward),
    "avgpool": (avgpool_forward, avgpool_backward),
    "flatten": (flatten_forward, flatten_backward),
}


# ---- the whole model -------------------------------------------------------------------------


def _check_input(model: FloatModel, x):
    x = np.asarray(x)
    if x.dtype != np.float64:  # float64 only for gradient checks; float32 otherwise
        x = x.astype(np.float32)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[1:] != model.input_shape:
        raise MicrotrainError(
            f"input has shape {x.shape}, expected (n, {', '.join(map(str, model.input_shape))})"
        )
    return x


def forward(model: FloatModel, x, training=False, keep=False):
    """Run the model on a batch (n, h, w, c). Returns the output (n, 1, 1, k) or, with
    keep=True, (output, tensors, tapes) where tensors maps every tensor name to its value."""
    tensors = {INPUT: _check_input(model, x)}
    tapes = {}
    for ly in model.layers:
        fwd = LAYERS[ly.op][0]
        args = [tensors[name] for name in ly.inputs]
        if ly.op == "batchnorm":
            y, tape = fwd(ly, *args, training=training)
        else:
            y, tape = fwd(ly, *args)
        tensors[ly.name] = y
        if keep or training:
            tapes[ly.name] = tape
    out = tensors[model.output]
    return (out, tensors, tapes) if keep else out


def backward(model: FloatModel, tapes, grad_out):
    """Gradients of every parameter (layer name -> param -> array) and of the input."""
    grads_t = {model.output: np.asarray(grad_out).reshape(
        (-1,) + model.output_shape)}
    grads = {}
    for ly in reversed(model.layers):
        dy = grads_t.pop(ly.name, None)
        if dy is None:  # the output of this layer does not reach the loss
            continue
        dxs, dparams = LAYERS[ly.op][1](ly, tapes[ly.name], dy)
        if dparams:
            grads[ly.name] = dparams
        for name, dx in zip(ly.inputs, dxs):
            grads_t[name] = grads_t[name] + dx if name in grads_t else dx
    return grads, grads_t.get(INPUT)


# ---- losses ----------------------------------------------------------------------------------


def softmax_ce(logits, labels):
    """Mean cross-entropy over the batch and its gradient with respect to the logits."""
    z = logits.reshape(logits.shape[0], -1).astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = z.shape[0]
    labels = np.asarray(labels, dtype=np.int64)
    loss = -np.log(np.maximum(p[np.arange(n), labels], 1e-30)).mean()
    p[np.arange(n), labels] -= 1
    return float(loss), (p / n).astype(np.float32)


def mse(outputs, targets):
    y = outputs.reshape(outputs.shape[0], -1)
    d = y - np.asarray(targets, dtype=np.float32).reshape(y.shape)
    return float((d * d).mean()), (2 * d / d.size).astype(np.float32)


LOSSES = {"softmax_ce": softmax_ce, "mse": mse}


def predict(model: FloatModel, x, batch=256):
    outs = [forward(model, x[i:i + batch]) for i in range(0, len(x), batch)]
    return np.concatenate(outs).reshape(len(x), -1)


def accuracy(model: FloatModel, x, y) -> float:
    return float((predict(model, x).argmax(axis=1) == np.asarray(y)).mean())


# ---- trainer ---------------------------------------------------------------------------------


@dataclass
class TrainConfig:
    epochs: int = 10
    batch: int = 32
    lr: float = 1e-2
    optimizer: str = "adam"  # "adam" | "sgd" (with momentum)
    momentum: float = 0.9
    weight_decay: float = 0.0
    loss: str = "softmax_ce"
    seed: int = 0


TRAINABLE = {"conv2d": ("weight", "bias"), "fc": ("weight", "bias"),
             "batchnorm": ("gamma", "beta")}


def train(model: FloatModel, x, y, config: TrainConfig = TrainConfig(), log=None):
    """Train the model in place on (x, y); returns the mean loss of each epoch."""
    if config.optimizer not in ("adam", "sgd"):
        raise MicrotrainError(f"optimizer must be 'adam' or 'sgd', got {config.optimizer!r}")
    if config.loss not in LOSSES:
        raise MicrotrainError(f"loss must be one of {sorted(LOSSES)}, got {config.loss!r}")
    x = _check_input(model, x)
    rng = np.random.default_rng(config.seed)
    state = {}
    step = 0
    history = []
    for epoch in range(config.epochs):
        order = rng.permutation(len(x))
        losses = []
        for i in range(0, len(x), config.batch):
            idx = order[i:i + config.batch]
            out, _, tapes = forward(model, x[idx], training=True, keep=True)
            loss, dout = LOSSES[config.loss](out, y[idx])
            grads, _ = backward(model, tapes, dout)
            step += 1
            _apply(model, grads, state, step, config)
            losses.append(loss)
        history.append(float(np.mean(losses)))
        if log:
            log(f"epoch {epoch + 1}/{config.epochs}: loss {history[-1]:.4f}")
    return history


def _apply(model, grads, state, step, cfg: TrainConfig):
    for ly in model.layers:
        for p in TRAINABLE.get(ly.op, ()):
            if ly.name not in grads:
                continue
            g = grads[ly.name][p]
            w = ly.params[p]
            if cfg.weight_decay and p == "weight":
                g = g + cfg.weight_decay * w
            key = (ly.name, p)
            if cfg.optimizer == "sgd":
                v = state.get(key, 0) * cfg.momentum + g
                state[key] = v
                ly.params[p] = (w - cfg.lr * v).astype(np.float32)
            else:
                m, v = state.get(key, (0, 0))
                m = 0.9 * m + 0.1 * g
                v = 0.999 * v + 0.001 * g * g
                state[key] = (m, v)
                mhat = m / (1 - 0.9**step)
                vhat = v / (1 - 0.999**step)
                ly.params[p] = (w - cfg.lr * mhat / (np.sqrt(vhat) + 1e-8)).astype(np.float32)
