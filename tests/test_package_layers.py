# SPDX-License-Identifier: MIT
"""microtrain_tools is grouped by stage of the path host -> bundle -> device, and every import
points down the list: a format never imports the compiler, the compiler never imports the packer,
and so on. A newcomer finds a module by its stage; this test keeps the order true."""

import ast
from pathlib import Path

import microtrain_tools

PACKAGE = Path(microtrain_tools.__file__).parent
# Top of the path first. A module may import its own stage and any stage below it.
STAGES = ("cli", "commands", "importers", "device", "policy", "bundle", "compiler", "emulator",
          "quantize", "sim", "reference", "mpy", "formats", "errors", "paths")
RANK = {stage: len(STAGES) - i for i, stage in enumerate(STAGES)}


def _imports(path: Path):
    """(stage imported, line) of every import of this package in one file."""
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    package = list(rel[:-1])  # the package the file is in (an __init__ is in its own)
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[: len(package) - (node.level - 1)] + (node.module or "").split(".")
        elif (node.module or "").split(".")[0] == "microtrain_tools":
            base = node.module.split(".")[1:]
        else:
            continue
        base = [part for part in base if part]
        for alias in node.names:
            target = base or [alias.name]
            yield target[0], node.lineno


def test_every_module_is_in_a_known_stage():
    strays = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
              if p.relative_to(PACKAGE).parts[0].removesuffix(".py") not in (*RANK, "__init__")]
    assert not strays, f"modules outside the stage folders: {strays}"


def test_imports_point_down_the_path():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        stage = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for target, line in _imports(path):
            if RANK.get(target, 0) > RANK.get(stage, 0):
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {target}")
    assert not upward, "imports that run back up the path:\n" + "\n".join(upward)
