# SPDX-License-Identifier: MIT
"""Fine-tuning a small int8 classifier in the real int8 graph with the C kernels, to measure
QAS, the rounding of the weight update and the number format of gradient tensors.

The task (scikit-learn's digits): an MLP 64 -> 32 (ReLU) -> 10 is pretrained in float on
"source" images, quantized (per-channel int8 weights, int32 biases, int8 activations), then
fine-tuned on "target" images, the same digits seen by a sensor moved one pixel down and right
(the pretrained model gets ~14% there). Every run sees the same samples in the same order, so
runs differ only by the arithmetic. The fp32 run is plain float SGD from the float weights.

Each int8 step runs the training program a compiler would emit, op by op through the host
library: fc forward x2, cross-entropy, then per layer (top first) clamp mask, input gradient
(before the update), and the QAS update of weights and bias. grad_format "f32" keeps gradient
tensors in float32 and updates through a weight-gradient buffer (grad_w, grad_b, then
mt_qas_*_update); "q8" keeps them in int8 with a per-tensor scale and uses the fused updates
(mt_fc_q8_update, mt_bias_q8_update), as the compiler should. "f32" with grad_bits 16 or 8
rounds the float32 gradient tensors to that many bits in numpy (a simulation, for the table).
"""

from dataclasses import dataclass

import numpy as np

from ..sim import hostlib
from ..quantize.ptq import quantize_bias, quantize_weights, scale_zero_point
from ..reference import args as A
from ..reference import grad_in_q8
from ..reference.qas_update import Rounding
from ..formats.tflite_params import activation_range, conv_multipliers

HIDDEN = 32
CLASSES = 10


@dataclass
class Data:
    x_pre: np.ndarray  # source images for pretraining, floats in [0, 1]
    y_pre: np.ndarray
    x_ft: np.ndarray  # target images to fine-tune on
    y_ft: np.ndarray
    x_test: np.ndarray  # target images never fine-tuned on
    y_test: np.ndarray


def _shift(x, dy=1, dx=1):
    im = x.reshape(-1, 8, 8)
    out = np.zeros_like(im)
    out[:, dy:, dx:] = im[:, : 8 - dy, : 8 - dx]
    return out.reshape(-1, 64)


def load_data(seed=0) -> Data:
    from sklearn.datasets import load_digits

    d = load_digits()
    order = np.random.default_rng(seed).permutation(len(d.target))
    x, y = d.data[order] / 16.0, d.target[order].astype(np.int32)
    target = _shift(x)
    test = np.r_[0:900, 1400 : len(y)]
    return Data(x[:900], y[:900], target[900:1400], y[900:1400], target[test], y[test])


# ---- float ---------------------------------------------------------------------------------


def float_forward(p, x):
    h = np.maximum(x @ p["w1"].T + p["b1"], 0.0)
    return h, h @ p["w2"].T + p["b2"]


def float_step(p, x, labels, lr, momentum=0.0, velocity=None):
    h, z = float_forward(p, x)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    g = e / e.sum(axis=1, keepdims=True)
    g[np.arange(len(labels)), labels] -= 1.0
    g /= len(labels)
    gh = (g @ p["w2"]) * (h > 0)
    for name, grad in (("w2", g.T @ h), ("b2", g.sum(0)), ("w1", gh.T @ x), ("b1", gh.sum(0))):
        if momentum:
            velocity[name] = momentum * velocity.get(name, 0.0) + grad
            grad = velocity[name]
        p[name] -= lr * grad


def float_accuracy(p, x, y) -> float:
    return float(np.mean(float_forward(p, x)[1].argmax(axis=1) == y))


def batches(n, batch, epochs, seed):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(n)
        for i in range(0, n, batch):
            yield order[i : i + batch]


def pretrain(data: Data, seed=0, epochs=30, lr=0.1, batch=16) -> dict:
    rng = np.random.default_rng(seed)
    p = {"w1": rng.standard_normal((HIDDEN, 64)) * np.sqrt(2 / 64), "b1": np.zeros(HIDDEN),
         "w2": rng.standard_normal((CLASSES, HIDDEN)) * np.sqrt(1 / HIDDEN),
         "b2": np.zeros(CLASSES)}
    for idx in batches(len(data.y_pre), batch, epochs, seed + 1):
        float_step(p, data.x_pre[idx], data.y_pre[idx], lr)
    return p


def fine_tune_float(p, data: Data, lr, epochs, batch, seed=1, momentum=0.0) -> float:
    p = {k: v.copy() for k, v in p.items()}
    velocity = {}
    for idx in batches(len(data.y_ft), batch, epochs, seed):
        float_step(p, data.x_ft[idx], data.y_ft[idx], lr, momentum, velocity)
    return float_accuracy(p, data.x_test, data.y_test)


# ---- int8 ----------------------------------------------------------------------------------


@dataclass
class Int8Layer:
    wq: np.ndarray  # int8 [c_out, c_in], updated in place
    bq: np.ndarray  # int32 [c_out]
    s_w: np.ndarray  # float32 [c_out]
    s_b: np.ndarray  # float32 [c_out]: s_x * s_w
    mult: np.ndarray
    shift: np.ndarray
    s_x: float
    zp_x: int
    s_y: float
    zp_y: int
    act_min: int
    act_max: int
    master_w: np.ndarray = None
    master_b: np.ndarray = None
    velocity_w: np.ndarray = None  # momentum state (float32 per parameter)
    velocity_b: np.ndarray = None


def quantize_mlp(p, calib) -> tuple[tuple[float, int], list[Int8Layer]]:
    """Per-tensor activation ranges from float calibration, per-channel symmetric weights."""
    h, z = float_forward(p, calib)
    s_in, zp_in = scale_zero_point(0.0, 1.0)
    s_h, zp_h = scale_zero_point(0.0, float(h.max()))
    s_z, zp_z = scale_zero_point(float(z.min()), float(z.max()))
    layers = []
    for w, b, (s_x, zp_x), (s_y, zp_y, act) in (
        (p["w1"], p["b1"], (s_in, zp_in), (s_h, zp_h, "relu")),
        (p["w2"], p["b2"], (s_h, zp_h), (s_z, zp_z, "none")),
    ):
        wq, s_w = quantize_weights(w, depthwise=False)
        mult, shift = conv_multipliers(s_x, s_w, s_y)
        lo, hi = activation_range(act, s_y, zp_y)
        s_b = (np.float32(s_x) * s_w).astype(np.float32)
        layers.append(Int8Layer(wq, quantize_bias(b, s_x, s_w), s_w, s_b, mult, shift, s_x,
                                zp_x, s_y, zp_y, lo, hi))
    return (s_in, zp_in), layers


def quantize_input(x, s_in, zp_in):
    v = x / s_in
    return np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5) + zp_in, -128, 127).astype(np.int8)


def _fc_args(ly: Int8Layer, n):
    c_out, c_in = ly.wq.shape
    return [-ly.zp_x, ly.zp_y, ly.act_min, ly.act_max, n, 1, 1, c_in, c_out, 1, 1, c_in,
            n, 1, 1, c_out]


def int8_forward(layers, xq, run=hostlib.run_op):
    acts = [xq]
    for ly in layers:
        out = np.zeros((len(xq), ly.wq.shape[0]), np.int8)
        run("mt_fc_s8_fwd", _fc_args(ly, len(xq)),
                       [ly.mult, ly.shift, acts[-1].ravel(), ly.wq.ravel(), ly.bq, out.ravel()])
        acts.append(out)
    return acts


def int8_accuracy(layers, xq, y, run=hostlib.run_op) -> float:
    return float(np.mean(int8_forward(layers, xq, run)[-1].argmax(axis=1) == y))


def fake_quantize_grad(g, bits):
    """The gradient tensor stored as int<bits> with a dynamic per-tensor scale (max |g|)."""
    if bits is None:
        return g
    top = 2 ** (bits - 1) - 1
    amax = np.float32(np.abs(g).max())
    if amax == 0:
        return g
    s = amax / np.float32(top)
    q = np.clip(np.round(g / s), -top, top)
    return (q * s).astype(np.float32)


@dataclass
class UpdateConfig:
    lr: float = 0.1
    momentum: float = 0.0
    qas: bool = True
    rounding: Rounding = Rounding.MASTER
    grad_format: str = "q8"  # "q8": int8 gradient tensors and fused updates; "f32"
    grad_bits: int | None = None  # with "f32": simulate storing them with this many bits
    mask_saturation: bool = True  # False: no clamp mask on layers without an activation


def _empty():
    return np.zeros(0, np.float32)


def _update(ly: Int8Layer, grad_w, grad_b, cfg: UpdateConfig, rng_state, run):
    c_out, c_in = ly.wq.shape
    lr, mom = A.f32_bits(cfg.lr), A.f32_bits(cfg.momentum)
    run("mt_qas_s8_update",
                   [c_out, 1, c_in, c_in, 0, int(cfg.qas), int(cfg.rounding), lr, mom],
                   [ly.wq.reshape(-1), grad_w, ly.s_w, np.zeros(0, np.int32),
                    *_state(ly, cfg, rng_state, True)])
    run("mt_qas_s32_update", [c_out, int(cfg.qas), int(cfg.rounding), lr, mom],
                   [ly.bq, grad_b, ly.s_b, *_state(ly, cfg, rng_state, False)])


def _state(ly: Int8Layer, cfg: UpdateConfig, rng_state, weights: bool):
    master = ly.master_w if weights else ly.master_b
    velocity = ly.velocity_w if weights else ly.velocity_b
    return [velocity if cfg.momentum else _empty(),
            master if cfg.rounding == Rounding.MASTER else _empty(), rng_state]


def int8_step_q8(layers, xq, labels, cfg: UpdateConfig, rng_state,
                 run=hostlib.run_op) -> float:
    """One learn step with int8 gradient tensors (q8 ops) and fused updates."""
    n = len(xq)
    acts = int8_forward(layers, xq, run)
    top = layers[-1]
    loss = np.zeros(1, np.float32)
    grad, grad_scale = np.zeros(n * CLASSES, np.int8), np.zeros(1, np.float32)
    run("mt_xent_q8_grad_in", [n, CLASSES, -top.zp_y, A.f32_bits(top.s_y)],
                   [acts[-1].ravel(), labels.astype(np.int32), loss, grad, grad_scale])
    upd = [int(cfg.qas), int(cfg.rounding), A.f32_bits(cfg.lr), A.f32_bits(cfg.momentum)]
    for i in reversed(range(len(layers))):
        ly = layers[i]
        c_out, c_in = ly.wq.shape
        if cfg.mask_saturation or (ly.act_min, ly.act_max) != (-128, 127):
            run("mt_clamp_q8_grad_in", [ly.act_min, ly.act_max, n, 1, 1, c_out],
                           [acts[i + 1].ravel(), grad])
        args = _fc_args(ly, n)
        if i > 0:  # no input gradient below the lowest updated layer; taken before the update
            grad_in, in_scale = np.zeros(n * c_in, np.int8), np.zeros(1, np.float32)
            scratch = np.zeros(grad_in_q8.scratch_bytes(c_in, c_out, 1, 1) // 4, np.int32)
            run("mt_fc_q8_grad_in", args + [0],
                           [ly.s_w, grad_in, in_scale, ly.wq.ravel(), grad, grad_scale,
                            scratch.view(np.int8)])
        run("mt_fc_q8_update", args + [A.f32_bits(ly.s_x)] + upd,
                       [acts[i].ravel(), np.zeros(0, np.int32), ly.wq.reshape(-1), ly.s_w,
                        grad, grad_scale, *_state(ly, cfg, rng_state, True)])
        run("mt_bias_q8_update", [n, 1, 1, c_out] + upd,
                       [ly.bq, ly.s_b, grad, grad_scale, *_state(ly, cfg, rng_state, False)])
        if i > 0:
            grad, grad_scale = grad_in, in_scale
    return float(loss[0])


def int8_step(layers, xq, labels, cfg: UpdateConfig, rng_state, run=hostlib.run_op) -> float:
    """One learn step: forward, loss gradient, then per layer top-down: mask, grads, update."""
    n = len(xq)
    acts = int8_forward(layers, xq, run)
    top = layers[-1]
    loss = np.zeros(1, np.float32)
    grad = np.zeros(n * CLASSES, np.float32)
    run("mt_xent_s8_grad_in", [n, CLASSES, -top.zp_y, A.f32_bits(top.s_y)],
                   [acts[-1].ravel(), labels.astype(np.int32), loss, grad])
    for i in reversed(range(len(layers))):
        ly = layers[i]
        c_out, c_in = ly.wq.shape
        run("mt_clamp_s8_grad_in", [ly.act_min, ly.act_max, n, 1, 1, c_out],
                       [acts[i + 1].ravel(), grad])
        grad = fake_quantize_grad(grad, cfg.grad_bits)
        args = _fc_args(ly, n)
        grad_w = np.zeros(c_out * c_in, np.float32)
        grad_b = np.zeros(c_out, np.float32)
        run("mt_fc_s8_grad_w", args + [A.f32_bits(ly.s_x)],
                       [acts[i].ravel(), grad_w, grad])
        run("mt_bias_f32_grad_b", [n, 1, 1, c_out], [grad, grad_b])
        if i > 0:  # no input gradient below the lowest updated layer
            grad_in = np.zeros(n * c_in, np.float32)
            run("mt_fc_s8_grad_in", args + [0], [ly.s_w, grad_in, ly.wq.ravel(), grad])
        _update(ly, grad_w, grad_b, cfg, rng_state, run)
        if i > 0:
            grad = grad_in
    return float(loss[0])


def fine_tune_int8(p, data: Data, cfg: UpdateConfig, epochs, batch, seed=1,
                   run=hostlib.run_op) -> dict:
    """Quantize the pretrained float model, fine-tune it in int8; accuracies before/after."""
    (s_in, zp_in), layers = quantize_mlp(p, data.x_pre)
    for ly in layers:
        ly.master_w = ly.wq.astype(np.float32).ravel()
        ly.master_b = ly.bq.astype(np.float32)
        ly.velocity_w = np.zeros(ly.wq.size, np.float32)
        ly.velocity_b = np.zeros(ly.bq.size, np.float32)
    xq_ft = quantize_input(data.x_ft, s_in, zp_in)
    xq_test = quantize_input(data.x_test, s_in, zp_in)
    before = int8_accuracy(layers, xq_test, data.y_test, run)
    rng_state = np.array([0x12345678], np.uint32).view(np.int32)
    step = int8_step_q8 if cfg.grad_format == "q8" else int8_step
    for idx in batches(len(data.y_ft), batch, epochs, seed):
        step(layers, xq_ft[idx], data.y_ft[idx], cfg, rng_state, run)
    return {"before": before, "after": int8_accuracy(layers, xq_test, data.y_test, run)}
