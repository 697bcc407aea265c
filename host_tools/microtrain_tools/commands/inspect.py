# SPDX-License-Identifier: MIT
"""`microtrain inspect`: decode a natmod .mpy and print what it holds."""

from pathlib import Path

import click

from ..errors import MicrotrainError
from ..mpy.describe import describe
from ..mpy.reader import read_mpy


@click.command(help="Show header, qstrs, sizes and relocations of a native module .mpy.")
@click.argument("path", type=click.Path(dir_okay=False))
def command(path):
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise MicrotrainError(f"cannot read {path}: {err.strerror}") from None
    try:
        mpy = read_mpy(data)
    except MicrotrainError as err:
        raise MicrotrainError(f"{path}: {err}") from None
    click.echo(describe(mpy, str(path), len(data)))
