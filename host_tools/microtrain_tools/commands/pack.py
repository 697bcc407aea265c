# SPDX-License-Identifier: MIT
"""`microtrain pack`: int8 graph + policy -> dist/ for a board."""

from pathlib import Path

import click

from ..bundle.boards import board_names, load_board
from ..compiler import compile_model
from ..compiler.memory import format_plans, memory_plan
from ..formats.int8_graph import load_graph
from ..bundle.pack import make_bundle, pack
from ..policy.definition import load_policy


@click.command(help="Compile MODEL (.mtg int8 graph) with a sparse update POLICY into a "
               "training program and write the bundle for a board: model .mpy, "
               "frozen weights (NAME.weights), _microtrain.mpy for the board's arch, the "
               "microtrain package and its manifest (every file's size and checksum, checked "
               "by load() before it imports anything).\n\n"
               "--romfs also writes OUTPUT/romfs.img: a ROMFS image of those files (the format "
               "MicroPython 1.25+ mounts at /rom; write it with `microtrain deploy --romfs` or "
               "`mpremote romfs deploy`). From /rom the weights are read in place from flash "
               "(0 bytes of RAM) at a 16-byte aligned address, and the bundle's constants stay "
               "in flash too.")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--policy", "policy_path", required=True, type=click.Path(exists=True),
              help="sparse update policy (.json, see docs/policy.md)")
@click.option("--board", required=True, help=f"target board: {', '.join(board_names())}")
@click.option("--name", default="model", show_default=True,
              help="module name of the bundle on the board (microtrain.load(NAME))")
@click.option("--input-dtype", type=click.Choice(["float32", "int8"]), default="float32",
              show_default=True, help="what predict/learn take: floats (quantized on the "
              "device) or int8 already quantized with the graph's input scale")
@click.option("-o", "--output", default="dist", show_default=True, type=click.Path(),
              help="output folder")
@click.option("--romfs", is_flag=True,
              help="also write OUTPUT/romfs.img, a ROMFS image of the packed files")
def command(model, policy_path, board, name, input_dtype, output, romfs):
    graph = load_graph(model)
    policy = load_policy(policy_path, graph)
    target = load_board(board)
    compiled = compile_model(graph, policy, input_dtype=input_dtype)
    plan = memory_plan(compiled)
    click.echo(format_plans({name: plan}))
    budget = target.default_budget_kb * 1024
    if plan.learn_total > target.ram_kb * 1024:
        click.echo(f"warning: training needs {plan.learn_total:,} B but {target.name} has "
                   f"{target.ram_kb} KB of RAM", err=True)
    elif plan.learn_total > budget:
        click.echo(f"note: training needs {plan.learn_total:,} B, above the board's default "
                   f"budget of {target.default_budget_kb} KB", err=True)
    pack(make_bundle(compiled, name), target, Path(output), log=click.echo, romfs=romfs)
