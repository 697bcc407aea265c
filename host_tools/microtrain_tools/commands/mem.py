# SPDX-License-Identifier: MIT
"""`microtrain mem`: the byte-exact memory plan of predict and learn."""

import click

from ..compiler import compile_model
from ..compiler.memory import (
    format_plans,
    format_recomputes,
    format_stages,
    format_tiling,
    memory_plan,
)
from ..formats.int8_graph import load_graph
from ..policy.definition import load_policy, make_policy


def reference_policies(graph):
    """Full update (every weight and bias) and last-layer-only, to compare a policy with."""
    names = [ly.name for ly in graph.weight_layers()]
    full = make_policy(graph, bias_last_n=len(names),
                       weights=[(n, 1.0, "first_k") for n in names])
    last = make_policy(graph, bias_last_n=1, weights=[(names[-1], 1.0, "first_k")])
    return full, last


def heap_beside_plan(compiled, native_path=None) -> str:
    """What load() costs in heap besides the plan, for the policy (m.memory() on the board)."""
    from pathlib import Path

    from ..bundle.pack import make_bundle, native_code_size

    bundle = make_bundle(compiled)
    constants = len(bundle.predict) + len(bundle.learn) + len(bundle.params)
    lines = ["heap beside the plan, policy (m.memory() keys):",
             f"  weights      {len(bundle.weights):>10,}  frozen weights in RAM from a file; "
             "0 from ROMFS",
             f"  bundle       {constants:>10,}  programs + initial params as bytes objects "
             "from a file (plus module objects); a few hundred bytes from ROMFS"]
    if native_path:
        lines.append(f"  native_code  {native_code_size(Path(native_path)):>10,}  "
                     "_microtrain.mpy's code, copied into RAM (shared by all models)")
    else:
        lines.append("  native_code  (pass --native dist/_microtrain.mpy)")
    return "\n".join(lines)


def plans(graph, policy, input_dtype, compare=True, tiling="auto") -> dict:
    columns = {}

    def plan_of(p):
        return memory_plan(compile_model(graph, p, input_dtype=input_dtype, tiling=tiling))

    if policy is not None:
        columns["policy"] = plan_of(policy)
    if compare or policy is None:
        full, last = reference_policies(graph)
        columns["full update"] = plan_of(full)
        columns["last layer"] = plan_of(last)
    return columns


@click.command(help="Print the memory plan of MODEL (.mtg): arena of predict and learn, "
               "trainable state, I/O, and flash, for a POLICY beside full update and "
               "last-layer-only update.")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--policy", "policy_path", type=click.Path(exists=True),
              help="sparse update policy (.json); without it only the two references")
@click.option("--input-dtype", type=click.Choice(["float32", "int8"]), default="float32",
              show_default=True)
@click.option("--no-compare", is_flag=True, help="only the policy's column")
@click.option("--ops", is_flag=True, help="also list the learn program's ops")
@click.option("--no-tiling", is_flag=True, help="never stream the frozen prefix (to compare "
              "with the default, which streams it where the arena gets smaller)")
@click.option("--native", "native_path", type=click.Path(exists=True, dir_okay=False),
              help="a _microtrain.mpy (dist/ of `microtrain pack`): add the heap its code "
              "takes on the board (text + rodata + bss; copied into RAM on every port)")
def command(model, policy_path, input_dtype, no_compare, ops, no_tiling, native_path):
    graph = load_graph(model)
    policy = load_policy(policy_path, graph) if policy_path else None
    tiling = None if no_tiling else "auto"
    columns = plans(graph, policy, input_dtype, compare=not no_compare, tiling=tiling)
    click.echo(format_plans(columns))
    if policy is None:
        return
    compiled = compile_model(graph, policy, input_dtype=input_dtype, tiling=tiling)
    untiled = None
    if compiled.tiling is not None:
        untiled = compile_model(graph, policy, input_dtype=input_dtype, tiling=None).arena_size
    click.echo(format_tiling(compiled.tiling, untiled))
    click.echo(format_recomputes(compiled.recomputed))
    click.echo("peak per stage, policy (the largest tensors alive there):")
    click.echo(format_stages(columns["policy"]))
    click.echo(heap_beside_plan(compiled, native_path))
    if ops:
        for i, op in enumerate(compiled.learn):
            click.echo(f"{i:4d} {op.name:26s} {op.comment}")
