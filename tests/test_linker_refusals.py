# SPDX-License-Identifier: MIT
"""What the linker refuses, per arch family: each message names the symbol, the object and
what to write instead, and no .mpy is left behind."""

import re

import pytest
from linker_fixtures.build import compile_c
from microtrain_tools.mpy.errors import LinkError
from microtrain_tools.mpy.linker import link

FAMILIES = ["x64", "armv7m", "rv32imc"]


def refuse(arch, sources, tmp_path, extra=()):
    objects = [compile_c(arch, s, tmp_path, extra) for s in sources]
    out = tmp_path / "refused.mpy"
    with pytest.raises(LinkError) as err:
        link(objects, arch, out)
    assert not out.exists(), "a refused link must not write a .mpy"
    assert not list(tmp_path.glob("*.tmp")), "no temporary file may be left"
    return str(err.value)


@pytest.mark.parametrize("arch", FAMILIES)
def test_initialised_data(arch, tmp_path):
    msg = refuse(arch, ["bad_data.c"], tmp_path)
    assert "`fx_tally`" in msg and f"bad_data_{arch}.o" in msg
    assert "initialised writable data (.data)" in msg and "make it `const`" in msg


@pytest.mark.parametrize(
    "arch, reloc",
    [
        ("x64", "R_X86_64_PC32 (type 2)"),
        ("armv7m", "R_ARM_REL32 (type 3)"),
        ("armv6m", "R_ARM_REL32 (type 3)"),
        ("rv32imc", "R_RISCV_PCREL_HI20 (type 23)"),
    ],
)
def test_static_bss_reached_pc_relatively(arch, reloc, tmp_path):
    msg = refuse(arch, ["bad_static_bss.c"], tmp_path)
    assert reloc in msg and "`fx_hidden_count`" in msg and f"bad_static_bss_{arch}.o" in msg
    assert "BSS" in msg and "non-static global" in msg


def test_hidden_bss_reached_pc_relatively(tmp_path):
    msg = refuse("x64", ["bad_static_bss.c"], tmp_path, ("-fvisibility=hidden",))
    assert "R_X86_64_PC32" in msg and "`fx_hidden_count`" in msg


@pytest.mark.parametrize("arch", FAMILIES)
def test_common_symbol(arch, tmp_path):
    msg = refuse(arch, ["bad_common.c"], tmp_path, ("-fcommon",))
    assert "`fx_shared_thing`" in msg and "COMMON" in msg and "-fno-common" in msg


@pytest.mark.parametrize("arch", FAMILIES)
def test_missing_symbols(arch, tmp_path):
    msg = refuse(arch, ["bad_missing.c"], tmp_path)
    assert f"undefined symbol `fx_not_defined_anywhere`, needed by bad_missing_{arch}.o" in msg
    assert "define it" in msg
    if arch != "x64":  # x64 gcc zeroes the struct inline
        assert "undefined symbol `memset`" in msg and "natmod SDK must define memset" in msg


def test_missing_libgcc_helper_says_link_libgcc(tmp_path):
    objects = [compile_c("armv6m", s, tmp_path) for s in ("fx_main.c", "fx_other.c")]
    with pytest.raises(LinkError, match=r"`__aeabi_uidivmod`.*--libgcc"):
        link(objects, "armv6m", tmp_path / "x.mpy")


@pytest.mark.parametrize(
    "arch, extra, reloc",
    [
        ("x64", ("-fno-pic",), "R_X86_64_32 (type 10)"),
        ("armv7m", ("-fno-pic", "-mpure-code"), "R_ARM_THM_MOVW_ABS_NC (type 47)"),
        ("rv32imc", ("-fno-pic",), "R_RISCV_HI20 (type 26)"),
    ],
)
def test_unsupported_relocation(arch, extra, reloc, tmp_path):
    msg = refuse(arch, ["bad_abs.c"], tmp_path, extra)
    assert reloc in msg and f"bad_abs_{arch}.o" in msg


@pytest.mark.parametrize("arch", FAMILIES)
def test_thread_local(arch, tmp_path):
    msg = refuse(arch, ["bad_tls.c"], tmp_path)
    assert "`fx_per_thread`" in msg and "thread-local" in msg


def test_no_entry_point(tmp_path):
    msg = refuse("x64", ["fx_other.c"], tmp_path)
    assert "`mpy_init`" in msg


def test_duplicate_definition(tmp_path):
    msg = refuse("x64", ["dup_a.c", "dup_b.c"], tmp_path)
    assert "`fx_twice` is defined twice" in msg


def test_wrong_arch_object(tmp_path):
    obj = compile_c("armv7m", "fx_other.c", tmp_path)
    with pytest.raises(LinkError, match="built for EM_ARM, but arch x64 needs EM_X86_64"):
        link([obj], "x64", tmp_path / "x.mpy")


def test_xtensawin_refuses_an_x64_object(tmp_path):
    obj = compile_c("x64", "fx_other.c", tmp_path)
    with pytest.raises(LinkError, match="built for EM_X86_64, but arch xtensawin needs EM_XTENSA"):
        link([obj], "xtensawin", tmp_path / "x.mpy")


@pytest.mark.parametrize(
    "built_for, linked_as, message",
    [
        ("armv7m", "armv6m", "built for ARM v7(-M) (Tag_CPU_arch 10), which an armv6m board"),
        ("armv7emsp", "armv7m", "built for ARM v7E-M (Tag_CPU_arch 13)"),
        ("armv7m", "armv7emsp", "passes floats in core registers (soft-float ABI)"),
        ("armv7emdp", "armv7emsp", None),  # same CPU arch and float ABI: accepted
    ],
)
def test_arm_objects_must_fit_the_arch(built_for, linked_as, message, tmp_path):
    obj = compile_c(built_for, "fx_qtable.c", tmp_path)
    if message is None:
        link([obj], linked_as, tmp_path / "ok.mpy")
        return
    with pytest.raises(LinkError, match=re.escape(message)):
        link([obj], linked_as, tmp_path / "x.mpy")
    assert not (tmp_path / "x.mpy").exists()


def test_armv6m_objects_link_into_armv7m(tmp_path):
    # The Thumb rule: v6-M code runs on every later Cortex-M.
    link([compile_c("armv6m", "fx_qtable.c", tmp_path)], "armv7m", tmp_path / "ok.mpy")


def test_riscv_float_register_abi(tmp_path):
    obj = compile_c("rv32imc", "fx_qtable.c", tmp_path, ("-march=rv32imafc", "-mabi=ilp32f"))
    with pytest.raises(LinkError, match=r"float-register or RV32E ABI \(e_flags 0x3\)"):
        link([obj], "rv32imc", tmp_path / "x.mpy")


def test_damaged_objects_give_link_errors(tmp_path):
    # Cut or scribbled-on objects must end in a LinkError (or, when only code bytes changed,
    # a link), never in another exception.
    import random

    good = compile_c("x64", "fx_main.c", tmp_path).read_bytes()
    other = compile_c("x64", "fx_other.c", tmp_path)
    rng = random.Random(2206)
    damaged = tmp_path / "damaged.o"
    for i in range(150):
        data = bytearray(good[: rng.randrange(len(good))] if i < 50 else good)
        for _ in range(0 if i < 50 else rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        damaged.write_bytes(bytes(data))
        try:
            link([damaged, other], "x64", tmp_path / "x.mpy")
        except LinkError:
            pass
