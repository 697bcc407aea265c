# SPDX-License-Identifier: MIT
import pytest

from microtrain_tools.mpy.arches import ARCHES
from microtrain_tools.bundle.boards import board_names, load_board
from microtrain_tools.errors import MicrotrainError


def test_every_board_file_loads_and_names_a_known_arch():
    names = board_names()
    assert "unix" in names and "rp2040" in names
    for name in names:
        board = load_board(name)
        assert board.name == name, f"{name}.toml says name={board.name}"
        assert board.arch.name in ARCHES
        assert 0 < board.default_budget_kb <= board.ram_kb


def test_unix_board_is_x64():
    assert load_board("unix").arch.name == "x64"


def test_unknown_board_error_lists_known_boards():
    with pytest.raises(MicrotrainError, match="unknown board 'nope'.*rp2040"):
        load_board("nope")


def test_opt_defaults_to_size_and_unknown_opt_is_named(tmp_path, monkeypatch):
    from microtrain_tools.bundle import boards

    # A board file without `opt` builds at -Os; those with one chose it by measurement.
    for name in board_names():
        text = (boards.BOARDS_DIR / f"{name}.toml").read_text()
        if "\nopt = " not in text:
            assert load_board(name).opt == "size", name
    assert load_board("stm32f746").opt == "speed" and load_board("stm32f103").opt == "size"
    assert load_board("unix").opt == "speed"  # its code is no board's scarce RAM
    text = (boards.BOARDS_DIR / "stm32f103.toml").read_text()
    (tmp_path / "fast.toml").write_text(text + 'opt = "speed"\n')
    (tmp_path / "odd.toml").write_text(text + 'opt = "O3"\n')
    monkeypatch.setattr(boards, "BOARDS_DIR", tmp_path)
    assert boards.load_board("fast").opt == "speed"
    with pytest.raises(MicrotrainError, match=r"odd.toml: unknown optimisation level 'O3'"):
        boards.load_board("odd")
