# SPDX-License-Identifier: MIT
"""`microtrain deploy --port PORT DIST_DIR`: copy a packed dist/ folder to a board, or with
--romfs write its romfs.img into the board's ROMFS partition."""

import sys
from pathlib import Path

import click

from ..errors import MicrotrainError
from ..bundle.romfs import ROMFS_IMAGE
from ..device.deploy import deploy_folder, deploy_romfs, dist_files
from ..device.link import DEFAULT_CHUNK, connect


@click.command(help="Copy every file of DIST_DIR (from `microtrain pack`) to the board on PORT "
               "through its raw REPL, then check the sizes on the board. With --romfs, write "
               f"DIST_DIR/{ROMFS_IMAGE} (from `microtrain pack --romfs`) into the board's ROMFS "
               "partition instead (MicroPython 1.25+ with ROMFS; it is mounted at /rom, and the "
               "weights are read in place from flash).")
@click.option("--port", required=True, help="serial device (/dev/ttyACM0, COM3) or pyserial URL")
@click.option("--baud", default=115200, show_default=True, help="baud rate (UART boards)")
@click.option("--target", default="", help="folder on the board (default: its current folder)")
@click.option("--chunk", default=DEFAULT_CHUNK, show_default=True,
              help="bytes per write; lower it for boards with little RAM")
@click.option("--reset", is_flag=True, help="soft-reset the board afterwards")
@click.option("--romfs", is_flag=True, help=f"write DIST_DIR/{ROMFS_IMAGE} into the board's ROMFS "
              "partition (as `mpremote romfs deploy`) instead of copying files")
@click.option("--partition", default=0, show_default=True, help="ROMFS partition (--romfs)")
@click.argument("dist_dir", type=click.Path(file_okay=False))
def command(port, baud, target, chunk, reset, romfs, partition, dist_dir):
    image = Path(dist_dir) / ROMFS_IMAGE
    if romfs and not image.is_file():
        raise MicrotrainError(f"{image}: no ROMFS image (pack with `microtrain pack --romfs`)")
    if not romfs:
        dist_files(dist_dir)  # a wrong folder is reported before the board is touched
    live = sys.stdout.isatty()  # a line that counts up while a file is being copied

    def progress(name, sent, total):
        click.echo(f"\r  {name}  {sent}/{total} bytes", nl=False)

    def log(line):
        click.echo(("\r\x1b[K" if live else "") + line)

    with connect(port, baud) as repl:
        if romfs:
            deploy_romfs(repl, image.read_bytes(), partition=partition, log=log,
                         progress=(lambda sent, n: progress(ROMFS_IMAGE, sent, n)) if live
                         else None)
        else:
            deploy_folder(repl, dist_dir, target=target, chunk_size=chunk, log=log,
                          progress=progress if live else None)
        if reset:
            repl.soft_reset()
            click.echo("soft reset done")
