# SPDX-License-Identifier: MIT
"""`microtrain profile`: where a predict and a learn step spend their instructions or time."""

import tempfile
from pathlib import Path

import click

from ..mpy.arches import OPT_FLAGS
from ..bundle.boards import board_names, load_board
from ..compiler import compile_model
from ..formats.data_files import load_samples
from ..formats.int8_graph import load_graph
from ..policy.definition import load_policy
from ..emulator.step_profile import TARGETS, format_profile, profile_model, sample_input


@click.command(help="Run MODEL's (.mtg) predict and learn programs for POLICY op by op and "
               "print, per op, its shape, MACs, cost and share of the step: executed "
               "instructions on an emulated core (unicorn and the arch's cross compiler: the "
               "module's code and flags), or nanoseconds on this host (the unix port's code). "
               "Then the same summed by kind of op.")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--policy", "policy_path", required=True, type=click.Path(exists=True),
              help="sparse update policy (.json)")
@click.option("--target", "targets", multiple=True, type=click.Choice(list(TARGETS)),
              help="core to profile on (repeat for several) [m4]")
@click.option("--board", "boards", multiple=True,
              help=f"profile on a board's arch at its optimisation level: {', '.join(board_names())}")
@click.option("--opt", type=click.Choice(list(OPT_FLAGS)), default="size", show_default=True,
              help="for --target: size (-Os, the default build) or speed (-O2)")
@click.option("--input-dtype", type=click.Choice(["float32", "int8"]), default="float32",
              show_default=True)
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False),
              help="an .npz (x, y): its first sample is the step's input [random]")
@click.option("--top", type=click.IntRange(min=1), help="only the N costliest ops")
@click.option("--program", type=click.Choice(["predict", "learn", "both"]), default="both",
              show_default=True)
def command(model, policy_path, targets, boards, opt, input_dtype, data_path, top, program):
    graph = load_graph(model)
    compiled = compile_model(graph, load_policy(policy_path, graph), input_dtype=input_dtype)
    if data_path:
        xs, ys = load_samples(data_path)
        x, y = xs[0], ys[0]
    else:
        x, y = sample_input(compiled)
    runs = [(t, opt) for t in targets]
    for name in boards:
        board = load_board(name)
        runs.append((board.arch.name, board.opt))
    which = ["predict", "learn"] if program == "both" else [program]
    with tempfile.TemporaryDirectory(prefix="microtrain-profile-") as tmp:
        for i, (target, level) in enumerate(runs or [("m4", opt)]):
            work = Path(tmp) / str(i)
            work.mkdir()
            prof = profile_model(compiled, x, y, target, work, level)
            for w in which:
                if w in prof.ops:
                    click.echo(format_profile(prof, w, top) + "\n")
