# SPDX-License-Identifier: MIT
"""`microtrain policy show|validate|paper`: read, check and write sparse update policies."""

import click

from .. import paper_models
from ..int8_graph import load_graph
from ..policy import load_policy, save_policy


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


@click.group(help="Show, check or write a sparse update policy (.json).")
def command():
    pass


@command.command(help="Print a policy; with --graph, check it against the graph first.")
@click.argument("policy", type=click.Path(dir_okay=False))
@click.option("--graph", type=click.Path(dir_okay=False), help="int8 graph (.mtg)")
def show(policy, graph):
    g = load_graph(graph) if graph else None
    click.echo(describe(load_policy(policy, g), g))


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
