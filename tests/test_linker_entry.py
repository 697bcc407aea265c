# SPDX-License-Identifier: MIT
"""Objects built without -ffunction-sections: mpy_init sits deep inside .text, so the linker
puts a jump to it at text offset 0. The module must still run on every arch we can run."""

import pytest
from linker_fixtures.build import compile_c, libgcc, require_unicorn, run_micropython
from linker_fixtures.checks import EXPECTED, check_linked_words, run_expected
from linker_fixtures.emulator import DATA, NONE, TEXT_BASE, Machine
from microtrain_tools.mpy.arches import get_arch
from microtrain_tools.mpy.linker import link
from microtrain_tools.mpy.reader import read_mpy

NO_SECTIONS = ("-fno-function-sections",)


def link_without_sections(arch, out):
    objects = [compile_c(arch, s, out, NO_SECTIONS) for s in ("fx_main.c", "fx_other.c")]
    libs = [libgcc(arch)] if get_arch(arch).needs_libgcc else []
    result = link(objects, arch, out / "fx.mpy", libs=libs)
    assert result.symbols["mpy_init"].offset & ~1 > 0, "the test needs mpy_init off offset 0"
    check_linked_words(result, get_arch(arch).word_size, entry_at_zero=False)
    return result


def test_x64_runs_through_the_entry_jump(tmp_path):
    link_without_sections("x64", tmp_path)
    lines = ["import fx", "r = []"]
    for name, cases in EXPECTED.items():
        lines += [f"r.append(fx.{name}(*{args!r}))" for args, _ in cases]
    lines.append("print(r)")
    proc = run_micropython("\n".join(lines), tmp_path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert proc.stdout.strip() == repr([r for cases in EXPECTED.values() for _, r in cases])


@pytest.mark.parametrize("arch", ["armv6m", "armv7m", "rv32imc"])
def test_emulated_runs_through_the_entry_jump(arch, tmp_path):
    require_unicorn()
    result = link_without_sections(arch, tmp_path)
    machine = Machine(arch, read_mpy(result.out_path.read_bytes()))
    run_expected(machine)
    # The armv6m stub is push/bl/pop: mpy_init's return value must survive it.
    assert machine.call(TEXT_BASE, DATA, 0, 0, 0) == NONE
