# SPDX-License-Identifier: MIT
"""`microtrain natmod build --arch A [-o PATH]`: build the native module for one arch, into
PATH or (without -o) into the user cache that `pack` reads."""

import click

from ..mpy.arches import ARCHES, DEFAULT_OPT, OPT_FLAGS


@click.group(name="natmod", help="Build the native module _microtrain.")
def command():
    pass


@command.command(name="build", help="Compile natmod/ for ARCH and link a .mpy: into OUTPUT, "
                 "or without -o into the user cache where `microtrain pack` finds it (reused "
                 "there while the C sources are unchanged).")
@click.option("--arch", required=True, type=click.Choice(sorted(ARCHES)), help="target arch")
@click.option(
    "-o",
    "--output",
    "out_path",
    type=click.Path(dir_okay=False),
    help="where to write the .mpy (default: the user cache)",
)
@click.option(
    "--externs",
    type=click.Path(exists=True, dir_okay=False),
    help="xtensa: the ESP8266 ROM symbol list (eagle.rom.addr.v6.ld) for the soft-float and "
    "division helpers Debian's lx106 libgcc lacks",
)
@click.option(
    "--opt",
    type=click.Choice(sorted(OPT_FLAGS)),
    default=DEFAULT_OPT,
    show_default=True,
    help="size: -Os, the smallest code (bare-metal ports copy a module's code into RAM); "
    "speed: -O2, 1.25-2.2x faster kernels on a Cortex-M4 for a few KB more (docs/bench.md)",
)
def build(arch, out_path, externs, opt):
    from ..mpy.natmod_build import build_module, cached_module

    if out_path is not None:
        build_module(arch, out_path, externs=externs, log=click.echo, opt=opt)
        return
    path, was_cached = cached_module(arch, opt, externs=externs, log=click.echo)
    click.echo(f"{path}" + (" (cached: the sources are unchanged)" if was_cached else ""))
