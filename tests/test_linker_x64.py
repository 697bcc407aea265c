# SPDX-License-Identifier: MIT
"""x64: link the fixture module, check its words, and run it in the unix-port micropython."""

import pytest
from linker_fixtures.build import build_fixture_module, run_micropython
from linker_fixtures.checks import EXPECTED, check_linked_words
from microtrain_tools.mpy.reader import read_mpy


@pytest.fixture(scope="module")
def x64_module(tmp_path_factory):
    out = tmp_path_factory.mktemp("x64")
    result, _ = build_fixture_module("x64", out)
    return result, read_mpy(result.out_path.read_bytes()), out


def test_words_and_entry(x64_module):
    result, _, _ = x64_module
    check_linked_words(result, 8)


def test_module_runs_in_micropython(x64_module):
    _, _, out = x64_module
    lines = ["import fx", "r = []"]
    for name, cases in EXPECTED.items():
        lines += [f"r.append(fx.{name}(*{args!r}))" for args, _ in cases]
    lines += [
        "r += [fx.count(), fx.count(), fx.greet()]",
        "print(r)",
        "try:",
        "    fx.fail()",
        "except ValueError as e:",
        "    print('ValueError', e)",
    ]
    proc = run_micropython("\n".join(lines), out)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    want = [r for cases in EXPECTED.values() for _, r in cases] + [1, 2, "hello_world"]
    assert proc.stdout.splitlines() == [repr(want), "ValueError fixture says no"]
