# SPDX-License-Identifier: MIT
"""The compiler: (int8 graph, update plan) -> predict and learn programs over one arena.

    compiled = compile_model(graph, plan)
    compiled.predict, compiled.learn      # OpCall lists with fixed buffer references
    compiled.weights, compiled.params     # the frozen and the trainable region's initial bytes
    compiled.arena_size

Autodiff happens here, once, on the host: the learn program is the forward, the loss, and the
backward of only the layers the plan updates, each update emitted right after its gradient
(operator reordering), so no gradient buffer outlives its layer.
"""

from dataclasses import dataclass, field

from ..errors import MicrotrainError
from ..formats.int8_graph import Int8Graph
from ..formats.model import INPUT
from ..formats.program import BufRef, Region
from . import forward
from .backward import TrainPlan, emit_learn
from .layout import ArenaTensor, Blob, Emitter, Sized, place, resolve
from .recompute import check_recompute
from .stream import Segment, Tiling

PARAM_ARRAYS = ("weight", "bias", "multiplier", "shift", "w_scale")
FINAL_PLACEMENT_TRIES = 48  # seeded placement orders the chosen plan is also tried with
# A pointwise layer that learns some input channels runs from flash + its learned columns
# (mt_pwconv2d_split_s8_fwd), merging up to this many bytes of filter rows (and their outputs)
# at once instead of holding a whole copy of its weight; groups of 4 rows where they fit (the
# Cortex-M 1x1 kernel takes output channels in pairs).
SPLIT_SCRATCH_BYTES = 2048


@dataclass
class Compiled:
    graph: Int8Graph
    predict: list
    learn: list
    weights: bytes
    params: bytes
    arena_size: int
    input_dtype: str
    n_outputs: int
    loss: str
    tensors: dict = field(default_factory=dict)  # ArenaTensor -> offset, for reports and tests
    program_arenas: list = field(default_factory=list)  # arena bytes of predict, learn
    symbolic: list = field(default_factory=list)  # predict and learn ops over ArenaTensors
    blob_entries: dict = field(default_factory=dict)  # (region, name) -> BufRef
    stages: list = field(default_factory=list)  # per program: [(label, first op index)]
    layer_at: list = field(default_factory=list)  # per program: {layer name: first op index}
    tiling: object = None  # stream.TilingReport of the streamed segment, or None
    recomputed: list = field(default_factory=list)  # recompute.Recompute of each rebuilt input


class _Builder:
    def __init__(self, graph, input_dtype, trainable, compact, tiling=None, sizing=False,
                 split_pointwise=True):
        self.graph = graph
        self.input_dtype = input_dtype
        self.tiling = tiling  # stream.Tiling: layers[:split] run band by band
        self.sizing = sizing  # only the arena plan is wanted: the segment's footprint will do
        self.tiling_report = None
        self.weights = Blob(Region.WEIGHTS)
        self.params = Blob(Region.PARAMS)
        self.layer_refs = {}  # layer name -> {array name -> BufRef}
        # Layers that learn some of their input channels: the whole weight stays frozen in
        # flash, only the learned channels live in RAM ("weight" in params, compact).
        self.compact = compact  # layer name -> CompactWeight
        self.split_pointwise = split_pointwise  # see runs_split (TrainPlan.split_pointwise)
        for ly in graph.layers:
            refs = {}
            for key in PARAM_ARRAYS:
                if key in ly.arrays:
                    blob = self.params if (ly.name, key) in trainable else self.weights
                    refs[key] = blob.add(f"{ly.name}/{key}", ly.arrays[key])
            if ly.name in compact:
                cw = compact[ly.name]
                refs["weight_compact"] = self.params.add(f"{ly.name}/weight", cw.initial(ly))
                refs["channels"] = self.weights.add(f"{ly.name}/channels", cw.channel_array())
            self.layer_refs[ly.name] = refs
        self.activations = {}

    def merged_weight(self, e, ly) -> ArenaTensor:
        """A whole-weight copy in the arena: frozen channels from flash, learned ones from RAM."""
        cw = self.compact[ly.name]
        refs = self.layer_refs[ly.name]
        copy = ArenaTensor(f"w_{ly.name}", cw.rows * cw.c_total, "weight copy")
        e.emit("mt_chanmerge_s8_fwd", [1, 1, cw.rows, cw.c_total, cw.k],
               [refs["weight"], refs["weight_compact"], refs["channels"], copy],
               f"{ly.name}: whole weight from flash + {cw.k} learned channels")
        return copy

    def store_compact(self, e, ly, copy) -> None:
        """After an update of the arena copy: keep the learned channels in RAM."""
        cw = self.compact[ly.name]
        refs = self.layer_refs[ly.name]
        e.emit("mt_chansel_s8_fwd", [1, 1, cw.rows, cw.c_total, cw.k],
               [copy, refs["channels"], refs["weight_compact"]],
               f"{ly.name}: keep the {cw.k} learned channels")

    def runs_split(self, ly) -> bool:
        """A pointwise layer learning some input channels: no whole-weight copy, its kernels
        read the frozen filter from flash and the learned columns from RAM."""
        return ly.name in self.compact and ly.op == "pwconv2d" and self.split_pointwise

    def emit_split_forward(self, e, ly, x, y) -> None:
        cw = self.compact[ly.name]
        refs = self.layer_refs[ly.name]
        h, w, _ = self.graph.tensors[ly.name].shape
        row = cw.c_total + h * w  # one merged filter row and its output channel
        fit = SPLIT_SCRATCH_BYTES // row
        group = min(cw.rows, fit - fit % 4 if fit >= 4 else max(1, fit))
        scratch = ArenaTensor(f"split_scratch_{ly.name}", group * row, "scratch")
        e.emit("mt_pwconv2d_split_s8_fwd", forward.conv_args(self.graph, ly) + [cw.k],
               [refs["multiplier"], refs["shift"], x, refs["weight"], refs["bias"], y,
                refs["weight_compact"], refs["channels"], scratch],
               f"{ly.name}: pwconv2d forward, {cw.k} learned input channels from RAM")

    def forward_refs(self, e, ly) -> dict:
        refs = self.layer_refs[ly.name]
        if ly.name not in self.compact:
            return refs
        return {**refs, "weight": self.merged_weight(e, ly)}

    def activation(self, name) -> ArenaTensor:
        """The arena tensor of graph tensor `name` (flatten outputs share their input's)."""
        if name not in self.activations:
            h, w, c = self.graph.tensors[name].shape
            self.activations[name] = ArenaTensor(name, h * w * c, "activation")
        return self.activations[name]

    def emit_forward(self, e, x_region_ref, after_layer=None):
        g = self.graph
        layers = g.layers
        if self.tiling is not None:
            e.stage("streamed segment")
            for ly in layers[: self.tiling.split]:
                e.layer_at[ly.name] = len(e.ops)
            segment = Segment(g, self.tiling, quantized_input=self.input_dtype == "float32")
            emit = segment.emit_footprint if self.sizing else segment.emit
            self.tiling_report = emit(e, x_region_ref, self.activation, self.layer_refs)
            layers = layers[self.tiling.split:]
        e.stage("forward")
        if self.tiling is None:  # else the segment has read or quantized the input by bands
            if self.input_dtype == "float32":
                forward.emit_quantize_input(e, g.input, x_region_ref, self.activation(INPUT))
            else:
                self.activations[INPUT] = x_region_ref  # int8 input: read where the caller has it
        for ly in layers:
            e.layer_at[ly.name] = len(e.ops)
            if ly.op == "flatten":
                self.activations[ly.name] = self.activation(ly.inputs[0])
                continue
            rule = forward.FORWARD.get(ly.op)
            if rule is None:
                raise MicrotrainError(f"layer {ly.name!r}: the compiler has no rule for {ly.op!r}")
            xs = [self.activation(name) for name in ly.inputs]
            if self.runs_split(ly):
                self.emit_split_forward(e, ly, xs[0], self.activation(ly.name))
            else:
                rule(e, g, ly, self.forward_refs(e, ly), xs, self.activation(ly.name))
            if after_layer is not None:
                after_layer(ly)


def io_refs(graph, input_dtype):
    h, w, c = graph.input.shape
    n_out = graph.output.shape[-1]
    itemsize = 4 if input_dtype == "float32" else 1
    x = BufRef(Region.INPUT, 0, h * w * c * itemsize)
    logits = BufRef(Region.OUTPUT, 0, 4 * n_out)
    loss = BufRef(Region.OUTPUT, 4 * n_out, 4)
    return x, logits, loss


def compile_predict(graph: Int8Graph, input_dtype: str = "float32") -> Compiled:
    """A model with nothing to learn: the predict program only."""
    return compile_model(graph, None, input_dtype=input_dtype)


def compile_model(graph: Int8Graph, plan=None, input_dtype: str = "float32",
                  grad_format: str = "q8", in_place: bool = True, tiling="auto",
                  placement_tries: int = 0, sizing: bool = False) -> Compiled:
    """tiling: "auto" (stream the frozen prefix and recompute saved inputs where that makes
    the arena smaller: compiler/auto.py), None (neither, unless the plan names recomputes), or
    a stream.Tiling to force. placement_tries: more arena placement orders to try
    (planner.plan); "auto" gives its final plan FINAL_PLACEMENT_TRIES. sizing: return only
    the arena size and op count (layout.Sized), the same as the whole compile's."""
    if tiling == "auto":
        from .auto import compile_auto

        return compile_auto(graph, plan, input_dtype, grad_format, in_place)
    if input_dtype not in ("float32", "int8"):
        raise MicrotrainError(f"input dtype must be float32 or int8, got {input_dtype!r}")
    if graph.output.shape[:2] != (1, 1):
        raise MicrotrainError(f"the last layer must give (1, 1, n) logits, "
                              f"got {graph.output.shape}")
    if plan is not None and not isinstance(plan, TrainPlan):
        plan = TrainPlan.from_policy(plan, grad_format)
    recomputed = check_recompute(graph, plan) if plan is not None else []
    trainable = plan.trainable_arrays() if plan is not None else set()
    compact = plan.compact_weights(graph) if plan is not None else {}
    trainable -= {(name, "weight") for name in compact}
    if tiling is not None:
        from .tiling import check_tiling

        if not isinstance(tiling, Tiling):
            raise MicrotrainError(f"tiling must be 'auto', None or a Tiling, got {tiling!r}")
        check_tiling(graph, plan, tiling)
    b = _Builder(graph, input_dtype, trainable, compact, tiling, sizing,
                 split_pointwise=plan is None or plan.split_pointwise)
    x, logits, _ = io_refs(graph, input_dtype)

    pred = Emitter()
    b.emit_forward(pred, x)
    forward.emit_dequantize(pred, graph.output, b.activation(graph.layers[-1].name), logits)

    programs = [pred.ops]
    emitters = [pred]
    learn_ops = []
    loss = "none"
    if plan is not None:
        b.activations = {}  # each program has its own arena plan: nothing persists between runs
        learn = emit_learn(b, plan, x)
        learn_ops = learn.ops
        programs.append(learn_ops)
        emitters.append(learn)
        loss = plan.loss
    program_arenas = []
    arena_size, offsets = place(programs, sizes_out=program_arenas, in_place=in_place,
                                tries=placement_tries)
    if sizing:
        return Sized(arena_size, len(pred.ops) + len(learn_ops), tiling, plan)
    return Compiled(
        graph=graph,
        predict=resolve(pred.ops, offsets),
        learn=resolve(learn_ops, offsets),
        weights=bytes(b.weights.data),
        params=bytes(b.params.data),
        arena_size=arena_size,
        input_dtype=input_dtype,
        n_outputs=graph.output.shape[-1],
        loss=loss,
        tensors=offsets,
        program_arenas=program_arenas,
        symbolic=programs,
        blob_entries={**{(Region.WEIGHTS, k): v for k, v in b.weights.entries.items()},
                      **{(Region.PARAMS, k): v for k, v in b.params.entries.items()}},
        stages=[em.stages for em in emitters],
        layer_at=[em.layer_at for em in emitters],
        tiling=b.tiling_report,
        recomputed=recomputed,
    )
