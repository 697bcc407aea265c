# SPDX-License-Identifier: MIT
"""`microtrain link` end to end, and the official `mp_native_qstr_table[i]` convention."""

import pytest
from linker_fixtures.build import compile_c, run_micropython
from microtrain_tools.cli import main
from microtrain_tools.mpy.mpy_format import K_QSTR_TABLE
from microtrain_tools.mpy.reader import read_mpy


def cli(args, capsys):
    with pytest.raises(SystemExit) as stop:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return stop.value.code, out.out, out.err


def test_link_command_x64_runs(tmp_path, capsys):
    obj = compile_c("x64", "fx_qtable.c", tmp_path)
    out = tmp_path / "qtable.mpy"
    code, text, err = cli(["link", "--arch", "x64", "-o", str(out), str(obj)], capsys)
    assert code == 0, err
    assert text.startswith(f"{out}: ") and "loader relocations" in text
    assert read_mpy(out.read_bytes()).qstrs == ["qtable.mpy", "qtable_probe"]
    proc = run_micropython("import qtable\nprint(qtable.qtable_probe())", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "qtable_probe"


def test_link_command_with_libgcc(tmp_path, capsys):
    objects = [compile_c("armv6m", s, tmp_path) for s in ("fx_main.c", "fx_other.c")]
    out = tmp_path / "fx.mpy"
    args = ["link", "--arch", "armv6m", "-o", str(out), "--libgcc", *map(str, objects)]
    code, text, err = cli(args, capsys)
    assert code == 0, err
    assert "library members" in text and read_mpy(out.read_bytes()).arch == "armv6m"


def test_link_command_error_exits_1(tmp_path, capsys):
    obj = compile_c("x64", "bad_data.c", tmp_path)
    out = tmp_path / "bad.mpy"
    code, _, err = cli(["link", "--arch", "x64", "-o", str(out), str(obj)], capsys)
    assert code == 1 and "microtrain: error:" in err and "`fx_tally`" in err
    assert "Traceback" not in err and not out.exists()


def test_qstr_table_with_addend_on_xtensa(tmp_path):
    from microtrain_tools.mpy.linker import link

    obj = compile_c("xtensa", "fx_qtable.c", tmp_path)
    result = link([obj], "xtensa", tmp_path / "q.mpy")
    mpy = read_mpy(result.out_path.read_bytes())
    # The literal `mp_native_qstr_table + 2` holds 2 and gets the qstr-table base.
    qstr_words = [r.offset for r in mpy.relocs if r.kind == K_QSTR_TABLE]
    assert sorted(mpy.word_at("text", w) for w in qstr_words) == [2, 2]
