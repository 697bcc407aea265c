# SPDX-License-Identifier: MIT
"""The learn program: forward, loss, and the pruned backward with the updates reordered.

Compile-time autodiff over the int8 graph (the paper's Sec. 3): walk the layers from the loss
down to the lowest updated layer, emit for each the gradient ops it needs and no others:

  - the clamp mask of its fused activation (from its saved int8 output),
  - dL/dx for its input, only if a layer below it still needs a gradient (never for the lowest
    updated layer: that is the pruning),
  - dL/db and dL/dW (for the selected input channels only) if the policy updates them, each
    followed at once by its QAS update (operator reordering: the gradient buffer dies there).

dL/dx is computed before the layer's own update so it uses the weights of the forward pass.
Gradient tensors are float32 in real units (docs/numerics.md). Arguments follow natmod/ops/.
"""

from dataclasses import dataclass

import numpy as np

from ..errors import MicrotrainError
from ..formats.model import INPUT
from ..formats.program import BufRef, Region
from ..reference.grad_in_q8 import scratch_bytes as grad_in_scratch_bytes
from ..reference.grad_q8 import MAX_UPDATE_PIXELS
from . import forward
from .forward import act_args, conv_args, dims, emit_dequantize, filter_dims, float_bits
from .layout import ArenaTensor, Emitter
from .recompute import plan_recompute

ROUNDING_CODES = {"truncate": 0, "nearest": 1, "stochastic": 2, "master_fp32": 3}
# Gradient tensors: "q8" int8 values + a float32 scale, weight/bias gradients fused into their
# update (no dL/dW buffer); "f32" float32 tensors and separate dL/dW, dL/db buffers.
# docs/numerics.md has the measurements that made q8 the default.
GRAD_FORMATS = ("q8", "f32")
# An absent optional buffer: length 0, in a writable region (the executor refuses writes to
# the weights region even of zero bytes).
EMPTY = BufRef(Region.ARENA, 0, 0)


@dataclass
class CompactWeight:
    """A weight tensor seen as rows x c_total channels, of which `channels` learn."""

    channels: list
    rows: int
    c_total: int

    @property
    def k(self) -> int:
        return len(self.channels)

    def initial(self, ly) -> np.ndarray:
        return ly.arrays["weight"].reshape(self.rows, self.c_total)[:, self.channels].ravel()

    def channel_array(self) -> np.ndarray:
        return np.array(self.channels, np.int32)


@dataclass
class TrainPlan:
    """What the compiler needs from a policy, resolved on the graph."""

    bias_layers: set
    weight_channels: dict  # layer name -> sorted channel list (depthwise: its channels)
    lr: float
    momentum: float
    rounding: str
    qas: bool
    loss: str
    grad_format: str = "q8"  # GRAD_FORMATS
    clamp_masks: bool = True  # activation clamps from 1-bit masks, not the int8 outputs
    # Pointwise layers learning some input channels read flash + learned columns (no copy).
    split_pointwise: bool = True
    recompute: frozenset = frozenset()  # layers whose input is rebuilt, not kept (recompute.py)

    @classmethod
    def from_policy(cls, policy, grad_format="q8"):
        opt = policy.optimizer
        return cls(
            bias_layers=set(policy.bias_layers),
            weight_channels={w.layer: sorted(w.channels) for w in policy.weights},
            lr=opt.lr, momentum=opt.momentum, rounding=opt.rounding, qas=opt.qas,
            loss=policy.loss, grad_format=grad_format,
        )

    def trainable_arrays(self) -> set:
        arrays = {(name, "bias") for name in self.bias_layers}
        arrays |= {(name, "weight") for name in self.weight_channels}
        return arrays

    def updated_layers(self) -> set:
        return self.bias_layers | set(self.weight_channels)

    def compact_weights(self, graph) -> dict:
        """Layers that learn only some channels: {name: CompactWeight}."""
        out = {}
        for name, channels in self.weight_channels.items():
            ly = graph.layer(name)
            outer, inner, c_total, _ = _weight_layout(ly, len(channels))
            if len(channels) < c_total:
                out[name] = CompactWeight(list(channels), ly.arrays["weight"].size // c_total,
                                          c_total)
        return out


def _weight_layout(ly, k):
    """(outer, inner, c_total, scale_on_channel) of the QAS update (mt_qas_s8_update)."""
    w = ly.arrays["weight"]
    if ly.op == "dwconv2d":
        kh, kw, c = w.shape
        return 1, kh * kw, c, 1
    if ly.op == "fc":
        return w.shape[0], 1, w.shape[1], 0
    c_out, kh, kw, c_in = w.shape
    return c_out, kh * kw, c_in, 0


class _Learn:
    def __init__(self, builder, plan: TrainPlan):
        self.b = builder
        self.g = builder.graph
        self.plan = plan
        self.e = Emitter()
        self.grads = {}  # tensor name -> ArenaTensor of dL/d(tensor), float32
        self.saved_inputs = {}  # layer name -> (ArenaTensor or activation, k)
        self.seed = 0x9E3779B9
        names = [ly.name for ly in self.g.layers]
        updated = plan.updated_layers()
        unknown = updated - set(names)
        if unknown:
            raise MicrotrainError(f"policy updates layers not in the graph: {sorted(unknown)}")
        if not updated:
            raise MicrotrainError("policy updates nothing: give it at least one bias or weight")
        self.lowest = min(names.index(n) for n in updated)
        self.index = {n: i for i, n in enumerate(names)}
        self.masks = {}  # layer name -> ArenaTensor of its clamp's bit mask
        self.masked = self._masked_layers() if plan.clamp_masks else set()

    # ---- helpers -------------------------------------------------------------------------
    def in_region(self, tensor: str) -> bool:
        """Does a gradient w.r.t. this tensor serve any update? (pruning)"""
        return tensor != INPUT and self.index[tensor] >= self.lowest

    @property
    def q8(self) -> bool:
        return self.plan.grad_format == "q8"

    @property
    def grad_kind(self) -> str:
        """The dtype part of gradient op names: mt_conv2d_{s8|q8}_grad_in."""
        return "q8" if self.q8 else "s8"

    @property
    def pass_kind(self) -> str:
        """... and of ops on gradients alone: mt_add_{f32|q8}_grad_in."""
        return "q8" if self.q8 else "f32"

    def grad_of(self, tensor: str):
        """The buffers of a tensor's gradient ([values] or [values, scale]), and whether ops
        must add into it (a tensor read by two layers gets two contributions)."""
        if tensor in self.grads:
            return self.grads[tensor], 1
        h, w, c = self.g.tensors[tensor].shape
        if self.q8:
            bufs = [ArenaTensor(f"d_{tensor}", h * w * c, "gradient"),
                    ArenaTensor(f"d_{tensor}_scale", 4, "gradient")]
        else:
            bufs = [ArenaTensor(f"d_{tensor}", 4 * h * w * c, "gradient")]
        self.grads[tensor] = bufs
        return bufs, 0

    def weights_blob(self, name, array):
        key = name
        if key in self.b.weights.entries:
            return self.b.weights.entries[key]
        return self.b.weights.add(key, array)

    def state(self, name, count, needed) -> BufRef:
        """A float32 state buffer (momentum or master) in the params region, or absent."""
        if not needed:
            return EMPTY
        return self.b.params.add(name, np.zeros(count, np.float32))

    def rng(self, name) -> BufRef:
        if self.plan.rounding != "stochastic":
            return EMPTY
        self.seed = (self.seed * 1664525 + 1013904223) & 0xFFFFFFFF or 1
        return self.b.params.add(name, np.array([self.seed], dtype=np.uint32).view(np.int32))

    def update_args(self):
        return [int(self.plan.qas), ROUNDING_CODES[self.plan.rounding],
                float_bits(self.plan.lr), float_bits(self.plan.momentum)]

    def _grad_layers(self) -> set:
        """The layers whose output gets a gradient (the backward's walk, without emitting)."""
        has = {self.g.layers[-1].name}
        for ly in reversed(self.g.layers[self.lowest:]):
            if ly.name not in has:
                continue
            if ly.has_weights and self.index[ly.name] <= self.lowest:
                continue
            has |= {src for src in ly.inputs if self.in_region(src)}
        return has

    def _masked_layers(self) -> set:
        """Layers whose clamp reads a bit mask saved in the forward instead of their int8
        output: every clamped layer that gets a gradient, unless its output is kept for the
        backward anyway (the logits, or the whole input of a weight update)."""
        kept = {self.g.layers[-1].name}
        for name, channels in self.plan.weight_channels.items():
            if name in self.plan.recompute:
                continue  # its input is rebuilt for the update: not kept through the backward
            src = self.g.layer(name).inputs[0]
            while src != INPUT and self.g.layer(src).op == "flatten":
                src = self.g.layer(src).inputs[0]
            kept.add(src)
        clamped = {ly.name for ly in self.g.layers if ly.has_weights or ly.op == "add"}
        return {name for name in (self._grad_layers() & clamped) - kept
                if self.g.layer(name).attrs.get("act", "none") != "none"}

    # ---- forward hooks -------------------------------------------------------------------
    def after_forward(self, ly):
        self.save_selected_channels(ly)
        if ly.name in self.masked:
            t = self.g.tensors[ly.name]
            count = int(np.prod(t.shape))
            mask = ArenaTensor(f"mask_{ly.name}", (count + 7) // 8, "saved mask")
            self.e.emit("mt_clampmask_s8_fwd", [ly.attrs["act_min"], ly.attrs["act_max"]]
                        + dims(t.shape), [self.b.activation(ly.name), mask],
                        f"{ly.name}: save its activation's mask (1 bit a value)")
            self.masks[ly.name] = mask

    def save_selected_channels(self, ly):
        """After a sparsely updated layer's forward: keep only the channels its update needs."""
        channels = self.plan.weight_channels.get(ly.name)
        if channels is None:
            return
        x = self.b.activation(ly.inputs[0])
        h, w, c = self.g.tensors[ly.inputs[0]].shape
        if ly.op == "fc":
            h, w, c = 1, 1, h * w * c
        k = len(channels)
        if k == c and ly.name in self.plan.recompute:
            return  # rebuilt right before its update (recompute_input)
        if k == c:
            self.saved_inputs[ly.name] = (x, k)
            return
        saved = ArenaTensor(f"saved_{ly.name}", h * w * k, "saved")
        ch = self.weights_blob(f"{ly.name}/channels", np.array(channels, np.int32))
        self.e.emit("mt_chansel_s8_fwd", [1, h, w, c, k], [x, ch, saved],
                    f"{ly.name}: save {k} of {c} input channels")
        self.saved_inputs[ly.name] = (saved, k)

    # ---- backward rules ------------------------------------------------------------------
    def clamp(self, ly, g_out):
        if ly.attrs.get("act", "none") == "none":
            return  # straight-through at int8 saturation: see docs/numerics.md
        t = self.g.tensors[ly.name]
        if ly.name in self.masks:
            self.e.emit(f"mt_clampmask_{self.pass_kind}_grad_in", dims(t.shape),
                        [self.masks[ly.name], g_out[0]], f"{ly.name}: activation mask (bits)")
            return
        self.e.emit(f"mt_clamp_{self.grad_kind}_grad_in",
                    [ly.attrs["act_min"], ly.attrs["act_max"]] + dims(t.shape),
                    [self.b.activation(ly.name), g_out[0]], f"{ly.name}: activation mask")

    def weight_layer(self, ly, g_out):
        refs = self.b.layer_refs[ly.name]
        compact = ly.name in self.b.compact
        # A split pointwise layer (int8 gradients) reads flash + learned columns in dL/dx and
        # updates the learned columns where they live; others rebuild the whole weight for
        # dL/dx and the update, and store the learned channels back after.
        split = compact and self.q8 and self.b.runs_split(ly)
        if compact and not split:
            refs = {**refs, "weight": self.b.merged_weight(self.e, ly)}
        self.clamp(ly, g_out)
        src = ly.inputs[0]
        if self.index[ly.name] > self.lowest and self.in_region(src):
            g_in, acc = self.grad_of(src)
            if ly.op == "fc":
                c_in = ly.arrays["weight"].shape[1]
                args = act_args(self.g, ly) + [1, 1, 1, c_in] + filter_dims(ly) \
                    + dims(self.g.tensors[ly.name].shape) + [acc]
            else:
                args = conv_args(self.g, ly) + [acc]
            bufs = [refs["w_scale"], *g_in, refs["weight"], *g_out]
            name = f"mt_{ly.op}_{self.grad_kind}_grad_in"
            if split:
                cw = self.b.compact[ly.name]
                size = grad_in_scratch_bytes(cw.c_total, cw.rows, 1, 1)
                bufs += [ArenaTensor(f"gin_scratch_{ly.name}", size, "scratch"),
                         refs["weight_compact"], refs["channels"]]
                args, name = args + [cw.k], "mt_pwconv2d_split_q8_grad_in"
            elif self.q8 and ly.op != "dwconv2d":  # the integer kernel's q*m and sums
                f_dims = filter_dims(ly)
                size = grad_in_scratch_bytes(f_dims[3], f_dims[0], f_dims[1], f_dims[2])
                bufs.append(ArenaTensor(f"gin_scratch_{ly.name}", size, "scratch"))
            self.e.emit(name, args, bufs, f"{ly.name}: dL/dx")
        if ly.name in self.plan.bias_layers:
            self.bias_update(ly, g_out, refs)
        if ly.name in self.plan.weight_channels:
            self.weight_update(ly, g_out, refs, split)
        if compact and not split:
            self.b.store_compact(self.e, ly, refs["weight"])

    def bias_state(self, ly):
        c_out = len(ly.arrays["bias"])
        master = self.plan.rounding == "master_fp32"
        return [self.state(f"{ly.name}/bias_momentum", c_out, self.plan.momentum != 0),
                (self.b.params.add(f"{ly.name}/bias_master",
                                   ly.arrays["bias"].astype(np.float32)) if master else EMPTY),
                self.rng(f"{ly.name}/bias_rng")]

    def bias_update(self, ly, g_out, refs):
        c_out = len(ly.arrays["bias"])
        t_out = self.g.tensors[ly.name]
        s_x = self.g.tensors[ly.inputs[0]].scale
        scale = (np.float32(s_x) * ly.arrays["w_scale"].astype(np.float32)).astype(np.float32)
        scale_ref = self.weights_blob(f"{ly.name}/bias_scale", scale)
        if self.q8:  # gradient and update fused: no dL/db buffer
            self.e.emit("mt_bias_q8_update", dims(t_out.shape) + self.update_args(),
                        [refs["bias"], scale_ref, *g_out, *self.bias_state(ly)],
                        f"{ly.name}: dL/db and update bias")
            return
        grad_b = ArenaTensor(f"db_{ly.name}", 4 * c_out, "scratch")
        self.e.emit("mt_bias_f32_grad_b", dims(t_out.shape), [g_out[0], grad_b],
                    f"{ly.name}: dL/db")
        self.e.emit("mt_qas_s32_update", [c_out] + self.update_args(),
                    [refs["bias"], grad_b, scale_ref, *self.bias_state(ly)],
                    f"{ly.name}: update bias")

    def weight_state(self, ly, channels, count, layout):
        outer, inner, c_total, _ = layout
        master = None
        if self.plan.rounding == "master_fp32":
            w = ly.arrays["weight"]
            if ly.op == "dwconv2d":
                init = w.reshape(inner, c_total)[:, channels]
            else:
                init = w.reshape(outer, inner, c_total)[:, :, channels]
            master = self.b.params.add(f"{ly.name}/weight_master",
                                       init.astype(np.float32).ravel())
        return [self.state(f"{ly.name}/weight_momentum", count, self.plan.momentum != 0),
                master or EMPTY, self.rng(f"{ly.name}/weight_rng")]

    def recompute_input(self, ly):
        """The whole input of ly, run again from tensors the backward keeps anyway."""
        r = plan_recompute(self.g, self.plan, ly.name)
        if r is None:
            raise MicrotrainError(f"layer {ly.name!r}: its input cannot be recomputed")
        again = {src: self.b.activation(src) for src in r.sources}
        for name in r.layers:
            layer = self.g.layer(name)
            h, w, c = self.g.tensors[name].shape
            again[name] = ArenaTensor(f"again_{name}", h * w * c, "recomputed")
            tmp = Emitter()
            forward.FORWARD[layer.op](tmp, self.g, layer, self.b.layer_refs[name],
                                      [again[src] for src in layer.inputs], again[name])
            for op in tmp.ops:
                op.comment = f"{name}: forward again, for {ly.name}'s update"
            self.e.ops.extend(tmp.ops)
        return again[ly.inputs[0]], self.g.tensors[ly.inputs[0]].shape[-1]

    def weight_update(self, ly, g_out, refs, split=False):
        """split: update the learned columns in RAM as a weight of their own (c_in = k)."""
        if ly.name in self.saved_inputs:
            saved, k = self.saved_inputs[ly.name]
        else:
            saved, k = self.recompute_input(ly)
        channels = self.plan.weight_channels[ly.name]
        layout = _weight_layout(ly, k)
        outer, inner, c_total, on_channel = layout
        count = outer * inner * k
        t_in = self.g.tensors[ly.inputs[0]]
        ch = EMPTY if k == c_total or split else self.weights_blob(
            f"{ly.name}/channels", np.array(channels, np.int32))
        s_x = float_bits(t_in.scale)
        if ly.op == "fc":
            args = act_args(self.g, ly) + [1, 1, 1, k]
            fd_whole, fd_k = filter_dims(ly), filter_dims(ly)[:3] + [k]
            tail = dims(self.g.tensors[ly.name].shape) + [s_x]
        else:
            h, w, _ = t_in.shape
            args = conv_args(self.g, ly)
            fd_k = args[12:15] + [k]
            fd_whole = fd_k if split else args[12:16]
            tail = args[16:20] + [s_x]
            args = args[:8] + [1, h, w, k]
        if self.q8:  # dL/dW of each weight computed and applied at once: no buffer
            pixels = int(np.prod(self.g.tensors[ly.name].shape[:-1]))  # batch 1
            if pixels > MAX_UPDATE_PIXELS:
                raise MicrotrainError(
                    f"layer {ly.name!r}: {pixels} output pixels, more than the "
                    f"{MAX_UPDATE_PIXELS} whose q8 weight-gradient sums are exact in int32; "
                    f"update fewer layers or use grad_format='f32'")
            weight = refs["weight_compact"] if split else refs["weight"]
            self.e.emit(f"mt_{ly.op}_q8_update", args + fd_whole + tail + self.update_args(),
                        [saved, ch, weight, refs["w_scale"], *g_out,
                         *self.weight_state(ly, channels, count, layout)],
                        f"{ly.name}: dL/dW and update for {k} of {c_total} channels")
            return
        grad_w = ArenaTensor(f"dw_{ly.name}", 4 * count, "scratch")
        bufs = [saved, grad_w, g_out[0]]
        if ly.op == "dwconv2d":
            bufs = [saved, ch, grad_w, g_out[0]]
        self.e.emit(f"mt_{ly.op}_s8_grad_w", args + fd_k + tail, bufs,
                    f"{ly.name}: dL/dW for {k} of {c_total} channels")
        self.e.emit("mt_qas_s8_update", [outer, inner, c_total, k, on_channel]
                    + self.update_args(),
                    [refs["weight"], grad_w, refs["w_scale"], ch,
                     *self.weight_state(ly, channels, count, layout)],
                    f"{ly.name}: update weights")

    def add_layer(self, ly, g_out):
        self.clamp(ly, g_out)
        shape = self.g.tensors[ly.name].shape
        for src in ly.inputs:
            if self.in_region(src):
                g_in, acc = self.grad_of(src)
                self.e.emit(f"mt_add_{self.pass_kind}_grad_in", dims(shape) + [acc],
                            [*g_out, *g_in], f"{ly.name}: dL/d{src}")

    def avgpool_layer(self, ly, g_out):
        src = ly.inputs[0]
        if self.in_region(src):
            g_in, acc = self.grad_of(src)
            self.e.emit(f"mt_avgpool_{self.pass_kind}_grad_in",
                        dims(self.g.tensors[src].shape) + [acc], [*g_out, *g_in],
                        f"{ly.name}: dL/dx")

    def flatten_layer(self, ly, g_out):
        src = ly.inputs[0]
        if not self.in_region(src):
            return
        if src in self.grads or len(self.g.consumers(src)) != 1:
            raise MicrotrainError(f"layer {ly.name!r}: a flatten whose input feeds other "
                                  f"layers is not supported in the backward pass")
        self.grads[src] = g_out  # same memory, same NHWC order

    # ---- the whole program ---------------------------------------------------------------
    def loss(self, logits_ref, loss_ref):
        last = self.g.layers[-1]
        t = self.g.output
        n = t.shape[-1]
        g_logits, _ = self.grad_of(last.name)
        target = BufRef(Region.TARGET, 0, 4 * (1 if self.plan.loss == "softmax_ce" else n))
        op = {"softmax_ce": "xent", "mse": "mse"}.get(self.plan.loss)
        if op is None:
            raise MicrotrainError(f"unknown loss {self.plan.loss!r}")
        self.e.emit(f"mt_{op}_{self.grad_kind}_grad_in", [1, n, -t.zero_point, float_bits(t.scale)],
                    [self.b.activation(last.name), target, loss_ref, *g_logits],
                    f"loss ({self.plan.loss}) and dL/dlogits")

    def emit(self, x_ref):
        from . import io_refs

        _, logits, loss = io_refs(self.g, self.b.input_dtype)
        self.b.emit_forward(self.e, x_ref, after_layer=self.after_forward)
        emit_dequantize(self.e, self.g.output, self.b.activation(self.g.layers[-1].name), logits)
        self.e.stage("loss and backward")
        self.loss(logits, loss)
        rules = {"add": self.add_layer, "avgpool": self.avgpool_layer,
                 "flatten": self.flatten_layer}
        for ly in reversed(self.g.layers[self.lowest:]):
            g_out = self.grads.get(ly.name)
            if g_out is None:
                continue  # its output reaches the loss through no updated path
            rule = self.weight_layer if ly.has_weights else rules.get(ly.op)
            if rule is None:
                raise MicrotrainError(f"layer {ly.name!r}: no backward rule for {ly.op!r}")
            rule(ly, g_out)
        return self.e


def emit_learn(builder, plan: TrainPlan, x_ref):
    if plan.grad_format not in GRAD_FORMATS:
        raise MicrotrainError(f"gradient format must be one of {GRAD_FORMATS}, "
                              f"got {plan.grad_format!r}")
    return _Learn(builder, plan).emit(x_ref)
