# SPDX-License-Identifier: MIT
"""compile_model(..., tiling="auto"): the streamed prefix and the recomputes that make the arena
smallest, then one real compile of that choice.

Choosing takes about 30 trial compiles of the model (compiler/tiling.py: each split point at two
band heights; compiler/recompute.py: each input it could rebuild). A trial only needs the arena
size and the op count, so it is a sizing compile (compile_model(..., sizing=True)): no resolved
programs, and each streamed segment stands as its footprint (stream.Segment.emit_footprint:
the same tensor lifetimes as its band ops, so the same arena plan); a program placed before
(the predict program of another policy updating the same layers) is looked up (planner.plan).
The chosen plan is then compiled for real, with FINAL_PLACEMENT_TRIES more placement orders.
"""


def compile_auto(graph, plan, input_dtype, grad_format, in_place):
    from . import FINAL_PLACEMENT_TRIES, TrainPlan, compile_model
    from .recompute import choose_recompute
    from .tiling import choose_tiling

    if plan is not None and not isinstance(plan, TrainPlan):
        plan = TrainPlan.from_policy(plan, grad_format)
    best = choose_tiling(graph, plan, input_dtype, grad_format, in_place)
    chosen = best.tiling
    if plan is not None:
        plan, best = choose_recompute(graph, plan, lambda p: compile_model(
            graph, p, input_dtype, grad_format, in_place, tiling=chosen, sizing=True), best)
    final = compile_model(graph, plan, input_dtype, grad_format, in_place, tiling=chosen,
                          placement_tries=FINAL_PLACEMENT_TRIES)
    if final.arena_size <= best.arena_size:  # more orders tried: never larger in practice
        return final
    return compile_model(graph, plan, input_dtype, grad_format, in_place, tiling=chosen)
