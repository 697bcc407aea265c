# SPDX-License-Identifier: MIT
"""`microtrain policy search|show|validate|paper`: find, read, check and write sparse update
policies. `microtrain policy --budget 96KB --data d.npz --graph m.mtg` is `policy search`."""

import json
from pathlib import Path

import click

from ..importers import paper_models
from ..policy import search as ps
from ..compiler import compile_model
from ..compiler.memory import format_plans, memory_plan
from ..formats.data_files import load_samples
from ..errors import MicrotrainError
from ..formats.int8_graph import load_graph
from ..policy.definition import CHANNEL_RULES, ROUNDINGS, load_policy, save_policy


def describe(p, graph=None) -> str:
    o = p.optimizer
    lines = [f"policy for graph {p.graph_name!r}" + (f" ({p.note})" if p.note else ""),
             f"  loss {p.loss}; optimizer lr {o.lr} momentum {o.momentum} rounding "
             f"{o.rounding} qas {o.qas}",
             f"  bias: rule {p.bias_rule}" + (f" n={p.bias_n}" if p.bias_rule == "last_n" else "")
             + f", {len(p.bias_layers)} layers: {', '.join(p.bias_layers)}"]
    for w in p.weights:
        total = f" of {graph.layer(w.layer).c_in}" if graph else ""
        lines.append(f"  weights {w.layer}: {len(w.channels)}{total} input channels "
                     f"(fraction {w.fraction}, {w.rule})")
    return "\n".join(lines)


SEARCH_OPTIONS = [
    click.option("--graph", "graph_path", type=click.Path(dir_okay=False),
                 help="int8 graph (.mtg) [required]"),
    click.option("--data", "data_path", type=click.Path(dir_okay=False),
                 help="samples (.npz with x and y), split into fine-tune and held-out parts "
                 "[required]"),
    click.option("--budget", help="training memory budget: 96KB, 96K, 98304 or 0.1MB "
                 "(KB = 1024 bytes) [required]"),
    click.option("-o", "--output", type=click.Path(dir_okay=False), default="policy.json",
                 show_default=True, help="where to write the chosen policy"),
    click.option("--report", type=click.Path(dir_okay=False),
                 help="also write the measured numbers as JSON"),
    click.option("--steps", type=int, default=300, show_default=True,
                 help="learn steps of each short fine-tune"),
    click.option("--repeats", type=int, default=1, show_default=True,
                 help="fine-tunes per candidate (other sample orders), averaged"),
    click.option("--top", type=int, default=3, show_default=True,
                 help="fine-tune the best TOP combinations that fit and keep the best measured; "
                 "0 trusts the summed gains (the paper's method)"),
    click.option("--lr", default="auto", show_default=True,
                 help="learning rate, or 'auto': try 0.003, 0.01, 0.03, 0.1 on the last layer, "
                 "measure candidates at the best, then try the chosen policy at the two rates "
                 "below it (docs/policy.md has a table of rates on the examples)"),
    click.option("--rounding", type=click.Choice(ROUNDINGS), default="stochastic",
                 show_default=True, help="how an int8 weight takes a step"),
    click.option("--rule", type=click.Choice(CHANNEL_RULES), default="first_k",
                 show_default=True, help="which input channels a fraction takes"),
    click.option("--bias-layers", type=int, default=None,
                 help="bias candidates: up to this many layers below the head [all]"),
    click.option("--weight-layers", type=int, default=4, show_default=True,
                 help="weight candidates: the last this many weight layers below the head"),
    click.option("--val-fraction", type=float, default=0.3, show_default=True,
                 help="of the data held out to measure accuracy"),
    click.option("--seed", type=int, default=0, show_default=True),
    click.option("--input-dtype", type=click.Choice(["float32", "int8"]), default="float32",
                 show_default=True),
]


def search_options(f):
    for option in reversed(SEARCH_OPTIONS):
        f = option(f)
    return f


def parse_lr(text):
    """'auto' -> (a first rate, the grid to try); '0.01' -> (0.01, ())."""
    if str(text).strip().lower() == "auto":
        return ps.LR_GRID[0], ps.LR_GRID
    try:
        return float(text), ()
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a number or 'auto'", param_hint="--lr")


def run_search(graph_path, data_path, budget, output, report, steps, repeats, top, lr,
               rounding, rule, bias_layers, weight_layers, val_fraction, seed, input_dtype):
    missing = [name for name, v in (("--graph", graph_path), ("--data", data_path),
                                    ("--budget", budget)) if v is None]
    if missing:
        raise click.UsageError(f"policy search needs {', '.join(missing)}")
    lr, lrs = parse_lr(lr)
    nbytes = ps.parse_budget(budget)
    graph = load_graph(graph_path)
    x, y = load_samples(data_path)
    cfg = ps.SearchConfig(steps=steps, lr=lr, lrs=lrs, rounding=rounding, rule=rule,
                          bias_layers=bias_layers, weight_layers=weight_layers,
                          val_fraction=val_fraction, seed=seed, repeats=repeats,
                          input_dtype=input_dtype, top=top)
    result = ps.search_policy(graph, x, y, nbytes, cfg, log=click.echo)
    click.echo("")
    click.echo(ps.format_table(result))
    click.echo("")
    click.echo(ps.format_summary(result))
    click.echo("")
    click.echo(format_plans({"chosen policy": result.plan}))
    save_policy(result.policy, output)
    click.echo(f"wrote {output}")
    if report:
        Path(report).write_text(json.dumps(ps.to_json(result), indent=1) + "\n")
        click.echo(f"wrote {report}")
    if result.warning:  # last, where it is seen
        click.echo(click.style("WARNING: " + result.warning, fg="red", bold=True), err=True)


class PolicyGroup(click.Group):
    """`--budget 1 KiB` (a space before the unit) leaves the unit where a subcommand goes:
    say that, instead of click's "No such command 'KiB'"."""

    UNITS = ("b", "k", "kb", "kib", "m", "mb", "mib")

    def resolve_command(self, ctx, args):
        if args and args[0].lower() in self.UNITS and self.get_command(ctx, args[0]) is None:
            number = ctx.params.get("budget") or "96"
            raise click.UsageError(f"{args[0]!r} after the budget: write the size as one word, "
                                   f"--budget {number}{args[0]}")
        return super().resolve_command(ctx, args)


@click.group(cls=PolicyGroup, invoke_without_command=True,
             help="Find, show, check or write a sparse update policy (.json). With --budget "
             "and no subcommand, runs `search`.")
@search_options
@click.pass_context
def command(ctx, **options):
    given = [name for name in options
             if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT]
    if ctx.invoked_subcommand is not None:
        if given:
            raise click.UsageError(f"search options go without a subcommand or after "
                                   f"'search', not before {ctx.invoked_subcommand!r}")
        return
    if not given:
        click.echo(ctx.get_help())
        return
    run_search(**options)


@command.command(help="Find the sparse update policy that learns best within a training "
                 "memory budget: each candidate (bias of more layers, a fraction of a "
                 "layer's weights) is fine-tuned briefly in the int8 graph, then the best "
                 "combination that fits is chosen (docs/policy_search.md).")
@search_options
def search(**options):
    run_search(**options)


@command.command(help="Print a policy; with --graph, check it against the graph first and "
                 "print its memory plan.")
@click.argument("policy", type=click.Path(dir_okay=False))
@click.option("--graph", type=click.Path(dir_okay=False), help="int8 graph (.mtg)")
@click.option("--input-dtype", type=click.Choice(["float32", "int8"]), default="float32",
              show_default=True, help="input of the compiled model the plan is for")
def show(policy, graph, input_dtype):
    g = load_graph(graph) if graph else None
    p = load_policy(policy, g)
    click.echo(describe(p, g))
    if g is not None:
        click.echo("")
        try:
            plan = memory_plan(compile_model(g, p, input_dtype=input_dtype))
        except MicrotrainError as err:
            raise MicrotrainError(f"{policy} is valid for {graph} but does not compile: "
                                  f"{err}") from None
        click.echo(format_plans({"policy": plan}))


@command.command(help="Check a policy against an int8 graph; errors name the field.")
@click.argument("policy", type=click.Path(dir_okay=False))
@click.option("--graph", required=True, type=click.Path(dir_okay=False),
              help="int8 graph (.mtg)")
def validate(policy, graph):
    load_policy(policy, load_graph(graph))
    click.echo(f"{policy}: valid for {graph}")


@command.command(help="Write one of the paper's schemes (e.g. mcunet-5fps 49kb) as a policy.")
@click.argument("model", type=click.Choice(paper_models.MODELS))
@click.argument("scheme")
@click.option("--rule", type=click.Choice(["first_k", "largest_norm"]), default="first_k",
              show_default=True, help="channel choice: the paper's engine or its simulator")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
def paper(model, scheme, rule, output):
    p = paper_models.paper_policy(model, scheme, rule=rule)
    save_policy(p, output)
    click.echo(describe(p))
    click.echo(f"wrote {output}")
