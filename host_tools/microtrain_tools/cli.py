# SPDX-License-Identifier: MIT
"""The `microtrain` command: one click group, one module per command under commands/."""

import importlib
import sys

import click

from . import __version__
from .errors import MicrotrainError

# command name -> module in microtrain_tools.commands that defines `command`
COMMANDS = {
    "link": "link",
    "inspect": "inspect",
    "natmod": "natmod",
    "import": "import_model",
    "deploy": "deploy",
    "learn": "learn",
    "policy": "policy",
    "pack": "pack",
    "mem": "mem",
    "profile": "profile",
}


class LazyGroup(click.Group):
    """Imports a command's module only when it runs, so `--help` stays fast."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"microtrain_tools.commands.{COMMANDS[name]}")
        return module.command


@click.group(cls=LazyGroup, help="On-device int8 training for MicroPython boards.")
@click.version_option(__version__, prog_name="microtrain")
def group():
    pass


def main(argv=None):
    try:
        group.main(args=argv, prog_name="microtrain", standalone_mode=False)
    except MicrotrainError as err:
        click.echo(f"microtrain: error: {err}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
