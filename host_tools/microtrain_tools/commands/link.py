# SPDX-License-Identifier: MIT
"""`microtrain link`: ELF objects -> natmod .mpy for one arch."""

import click

from ..mpy.arches import ARCHES, get_arch
from ..mpy.libgcc import libgcc_path
from ..mpy.linker import link


@click.command(help="Link ELF objects (gcc -c) into a native module .mpy (v6.3).")
@click.option("--arch", "arch_name", required=True, type=click.Choice(list(ARCHES)))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option(
    "--lib",
    "libs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="static library (.a) to pull needed members from; repeatable",
)
@click.option("--libgcc", is_flag=True, help="also pull helpers from the arch's libgcc.a")
@click.option(
    "--externs",
    type=click.Path(exists=True, dir_okay=False),
    help="linker script of `name = 0x...;` ROM addresses (ESP8266)",
)
@click.option("--source-name", default=None, help="qstr entry 0 (default: the output name)")
@click.argument("objects", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def command(arch_name, output, libs, libgcc, externs, source_name, objects):
    arch = get_arch(arch_name)
    libs = list(libs) + ([str(libgcc_path(arch))] if libgcc else [])
    result = link(list(objects), arch, output, libs=libs, source_name=source_name, externs=externs)
    click.echo(
        f"{result.out_path}: {result.mpy_size} bytes, text {result.text_size} "
        f"(GOT {result.got_size}), bss {result.bss_size}, {len(result.qstrs)} qstrs, "
        f"{result.n_loader_relocs} loader relocations"
        + (f", {len(result.members)} library members" if result.members else "")
    )
