# SPDX-License-Identifier: MIT
"""Board files (boards/*.toml): arch, RAM, flash, default memory budget, FPU, optimisation."""

import tomllib
from dataclasses import dataclass

from ..mpy.arches import DEFAULT_OPT, Arch, check_opt, get_arch
from ..errors import MicrotrainError
from ..paths import BOARDS_DIR

FPU_KINDS = ("none", "sp", "dp")
REQUIRED = ("name", "description", "arch", "ram_kb", "flash_kb", "default_budget_kb", "fpu")


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    arch: Arch
    ram_kb: int
    flash_kb: int
    default_budget_kb: int
    fpu: str
    opt: str = DEFAULT_OPT  # optional `opt = "speed"`: build the module at -O2 (arches.OPT_FLAGS)


def board_names() -> list[str]:
    return sorted(p.stem for p in BOARDS_DIR.glob("*.toml"))


def load_board(name: str) -> Board:
    path = BOARDS_DIR / f"{name}.toml"
    if not path.is_file():
        raise MicrotrainError(f"unknown board {name!r}; known boards: {', '.join(board_names())}")
    try:
        fields = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise MicrotrainError(f"{path}: not valid TOML: {err}") from None
    missing = [k for k in REQUIRED if k not in fields]
    if missing:
        raise MicrotrainError(f"{path}: missing field(s) {', '.join(missing)}")
    if fields["fpu"] not in FPU_KINDS:
        raise MicrotrainError(f"{path}: fpu must be one of {FPU_KINDS}, got {fields['fpu']!r}")
    for key in ("ram_kb", "flash_kb", "default_budget_kb"):
        if not isinstance(fields[key], int) or fields[key] < 0:
            raise MicrotrainError(f"{path}: {key} must be a non-negative integer")
    if fields["default_budget_kb"] > fields["ram_kb"]:
        raise MicrotrainError(f"{path}: default_budget_kb exceeds ram_kb")
    try:
        opt = check_opt(fields.get("opt", DEFAULT_OPT))
    except MicrotrainError as err:
        raise MicrotrainError(f"{path}: {err}") from None
    return Board(**{k: fields[k] for k in REQUIRED if k != "arch"}, arch=get_arch(fields["arch"]),
                 opt=opt)
