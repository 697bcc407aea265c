# SPDX-License-Identifier: MIT
"""The module builds for every packaged arch, links with no unresolved symbol, and reads back
with the right arch; missing compilers and unbuildable arches fail with a clear error."""

import dataclasses

import pytest
from conftest import skip_or_fail
from microtrain_tools.mpy import arches, natmod_build
from microtrain_tools.mpy.arches import get_arch
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.mpy.reader import read_mpy

EXPORTS = {"info", "op", "op_count", "op_info", "dot_s8", "f32_bits", "f32_from_bits", "requant"}
EXPORTS |= {"run", "check", "typecode"}
# xtensa links the helpers Debian's lx106 libgcc lacks from natmod/kernels/mt_softfloat.c;
# xtensawin (LLVM, no libgcc) takes __divsf3 from there.
BUILT_ARCHES = ("x64", "armv6m", "armv7m", "armv7emsp", "armv7emdp", "rv32imc", "xtensa",
                "xtensawin")


def check_module(path, arch):
    mpy = read_mpy(path.read_bytes())
    assert mpy.arch == arch
    assert mpy.arch_code == get_arch(arch).mpy_code
    assert mpy.qstrs[0] == "_microtrain.mpy"
    assert EXPORTS <= set(mpy.qstrs), EXPORTS - set(mpy.qstrs)
    # The SDK and glue keep no state; x64 keeps one word, the CPU's SIMD level, asked once
    # (natmod/kernels/mt_x64_cpu.c).
    assert mpy.bss_size == (8 if arch == "x64" else 0)
    assert mpy.text_size > 1000


@pytest.mark.parametrize("arch", BUILT_ARCHES)
def test_module_builds_and_reads_back(built_module, arch):
    path = built_module(arch)
    check_module(path, arch)
    result = built_module.results[arch]
    # Soft-float and division helpers come from the arch's own libgcc multilib.
    assert bool(result.libs) == get_arch(arch).needs_libgcc
    assert all(lib.name == "libgcc.a" for lib in result.libs)


# Helpers the ESP8266 ROM provides and Debian's lx106 libgcc lacks. The addresses here are
# placeholders: this checks that `--externs` (the ROM list, eagle.rom.addr.v6.ld of the
# ESP8266 SDK) still links and reads back.
ROM_HELPERS = [
    "__addsf3",
    "__subsf3",
    "__mulsf3",
    "__divsf3",
    "__floatsisf",
    "__floatunsisf",
    "__fixsfsi",
    "__fixunssfsi",
    "__divsi3",
    "__udivsi3",
    "__umodsi3",
    "__muldi3",
    "__divdi3",
    "__udivdi3",
    "__umoddi3",
    "__adddf3",
    "__subdf3",
    "__muldf3",
    "__divdf3",
    "__floatsidf",
    "__floatunsidf",
    "__fixdfsi",
    "__fixunsdfsi",
    "__extendsfdf2",
    "__truncdfsf2",
]


def test_xtensa_module_links_with_rom_helpers(tmp_path):
    arch = get_arch("xtensa")
    try:
        natmod_build.find_compiler(arch)
    except MicrotrainError as err:
        skip_or_fail(str(err))
    externs = {name: 0x4000_0000 + 16 * i for i, name in enumerate(ROM_HELPERS)}
    out = tmp_path / "_microtrain.mpy"
    natmod_build.build_module(
        "xtensa", out, build_dir=tmp_path / "build", externs=externs, log=lambda _: None
    )
    check_module(out, "xtensa")


def test_xtensawin_rodata_is_a_separate_blob(built_module):
    """ESP32 code memory (IRAM) allows only 32-bit loads: strings and pointer tables go to the
    rodata blob, the text blob holds code and literal pools only."""
    built_module("xtensawin")
    result = built_module.results["xtensawin"].link
    mpy = read_mpy(result.out_path.read_bytes())
    assert mpy.rodata_size == result.rodata_size > 0
    message = b"length not a multiple of 4"  # a string literal of natmod/module
    assert message in mpy.rodata and message not in mpy.text
    # Function objects in rodata point at code: the loader relocates words of both blobs.
    assert {r.blob for r in mpy.relocs} == {"text", "rodata"}


def test_missing_llvm_tool_names_the_packages(monkeypatch, tmp_path):
    arch = dataclasses.replace(get_arch("xtensawin"), llc="llc-missing")
    monkeypatch.setitem(arches.ARCHES, "xtensawin", arch)
    with pytest.raises(MicrotrainError, match=r"llc-missing not found.*clang-22 llvm-22"):
        natmod_build.build_module("xtensawin", tmp_path / "m.mpy", build_dir=tmp_path)


def test_missing_compiler_names_the_package(monkeypatch, tmp_path):
    arch = dataclasses.replace(get_arch("armv7m"), cc="arm-none-eabi-gcc-missing")
    monkeypatch.setitem(arches.ARCHES, "armv7m", arch)
    with pytest.raises(MicrotrainError, match="install the Debian packages gcc-arm-none-eabi"):
        natmod_build.build_module("armv7m", tmp_path / "m.mpy", build_dir=tmp_path)


def test_unknown_arch(tmp_path):
    with pytest.raises(MicrotrainError, match="unknown arch 'pdp11'"):
        natmod_build.build_module("pdp11", tmp_path / "m.mpy")


def test_compile_error_names_the_file(tmp_path):
    bad = tmp_path / "broken.c"
    bad.write_text("int f(void) { return missing; }\n")
    with pytest.raises(MicrotrainError, match=r"compiling .*broken\.c for x64 failed"):
        natmod_build.compile_source(get_arch("x64"), bad, tmp_path / "broken.o")


def test_cli_reports_a_clear_error(capsys, monkeypatch):
    from microtrain_tools.cli import main

    arch = dataclasses.replace(get_arch("xtensawin"), cc="clang-missing")
    monkeypatch.setitem(arches.ARCHES, "xtensawin", arch)
    with pytest.raises(SystemExit) as exit_info:
        main(["natmod", "build", "--arch", "xtensawin", "-o", "unused.mpy"])
    assert exit_info.value.code == 1
    assert "clang-missing not found" in capsys.readouterr().err


def test_inspect_reads_the_xtensawin_module_back(built_module, capsys):
    from microtrain_tools.cli import main

    path = built_module("xtensawin")
    with pytest.raises(SystemExit) as stop:
        main(["inspect", str(path)])
        raise SystemExit(0)
    text = capsys.readouterr().out
    assert stop.value.code == 0
    assert "arch xtensawin (code 10)" in text and "(RELOC|RODATA)" in text
    assert "code and literal pools" in text and "rodata+0x" in text and "+ rodata" in text
