# SPDX-License-Identifier: MIT
"""Batched float forward/backward of a FloatModel in numpy, and a small trainer.

Used to pretrain models on the host and as the float side of the quantizer's report. The layer
maths is reference.float_layers (convs as one matrix product per filter tap over the whole
batch), so a small CNN trains on two cores in seconds. Each layer's backward sits beside its
forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MicrotrainError
from ..formats.model import INPUT, FloatModel, Layer
from ..reference import float_layers as FL

# ---- activations: a fused relu/relu6 is a clamp --------------------------------------------

CLAMPS = {"relu": (0.0, np.inf), "relu6": (0.0, 6.0)}


def act_forward(y, act):
    return FL.clamp_forward(y, *CLAMPS[act]) if act in CLAMPS else y


def act_backward(dy, y, act):
    """dy through the activation, given its output y (the gradient is 0 where it clamped)."""
    return FL.clamp_backward(dy, y, *CLAMPS[act]) if act in CLAMPS else dy


# ---- layers: forward returns (output, tape), backward(tape, dy) -> (dx list, param grads) ----
# The maths of conv, depthwise conv, fc, add and avgpool is reference.float_layers (shared with
# the kernels' gradient checks); here it is wired to the model description and batched.


def _out_hw(ly: Layer, x):
    (kh, kw), (sh, sw), (ph, pw) = ly.attrs["kernel"], ly.attrs["stride"], ly.attrs["padding"]
    return ((x.shape[1] + 2 * ph - kh) // sh + 1, (x.shape[2] + 2 * pw - kw) // sw + 1)


def conv2d_forward(ly: Layer, x):
    w, b = ly.params["weight"], ly.params["bias"]
    geometry = (ly.attrs["stride"], ly.attrs["padding"], _out_hw(ly, x))
    if ly.depthwise:  # our depthwise layout (kh, kw, c) is the kernels' {1, kh, kw, c}
        y = FL.dwconv2d_forward(x, w[None], b, *geometry)
    else:
        y = FL.conv2d_forward(x, w, b, *geometry)
    y = act_forward(y.astype(x.dtype, copy=False), ly.act)
    return y, (x, y)


def conv2d_backward(ly: Layer, tape, dy):
    x, y = tape
    dy = act_backward(dy, y, ly.act)
    w = ly.params["weight"]
    geometry = (ly.attrs["stride"], ly.attrs["padding"])
    if ly.depthwise:
        dx, dw, db = FL.dwconv2d_backward(x, w[None], dy, *geometry)
        dw = dw[0]
    else:
        dx, dw, db = FL.conv2d_backward(x, w, dy, *geometry)
    return [dx], {"weight": dw, "bias": db}


def fc_forward(ly: Layer, x):
    y = FL.fc_forward(x, ly.params["weight"], ly.params["bias"]).astype(x.dtype, copy=False)
    y = act_forward(y, ly.act)
    return y.reshape(x.shape[0], 1, 1, -1), (x, y)


def fc_backward(ly: Layer, tape, dy):
    x, y = tape
    dy = act_backward(dy.reshape(y.shape), y, ly.act)
    dx, dw, db = FL.fc_backward(x, ly.params["weight"], dy)
    return [dx], {"weight": dw, "bias": db}


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
    y = act_forward(FL.add_forward(a, b), ly.act)
    return y, y


def add_backward(ly: Layer, y, dy):
    return list(FL.add_backward(act_backward(dy, y, ly.act))), {}


def avgpool_forward(ly: Layer, x):
    return FL.avgpool_forward(x), x.shape


def avgpool_backward(ly: Layer, in_shape, dy):
    return [FL.avgpool_backward(dy, in_shape)], {}


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
    loss, grad = FL.xent(z, np.asarray(labels, dtype=np.int64))
    return float(loss), grad.astype(logits.dtype)


def mse(outputs, targets):
    y = outputs.reshape(outputs.shape[0], -1)
    loss, grad = FL.mse(y, np.asarray(targets, dtype=y.dtype).reshape(y.shape))
    return float(loss), grad.astype(outputs.dtype)


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
