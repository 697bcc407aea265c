# SPDX-License-Identifier: MIT
"""`microtrain natmod build --arch A -o PATH`: build the native module for one arch."""

import click

from ..arches import ARCHES


@click.group(name="natmod", help="Build the native module _microtrain.")
def command():
    pass


@command.command(name="build", help="Compile natmod/ for ARCH and link a .mpy.")
@click.option("--arch", required=True, type=click.Choice(sorted(ARCHES)), help="target arch")
@click.option(
    "-o", "--output", "out_path", required=True, type=click.Path(dir_okay=False),
    help="where to write the .mpy",
)
def build(arch, out_path):
    from ..natmod_build import build_module

    build_module(arch, out_path, log=click.echo)
