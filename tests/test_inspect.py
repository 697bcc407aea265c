# SPDX-License-Identifier: MIT
"""read_mpy / `microtrain inspect` on good and damaged files, and what micropython does with
damaged ones (an exception, never a crash)."""

import pytest
from linker_fixtures.build import compile_c, run_micropython
from microtrain_tools.cli import main
from microtrain_tools.mpy import vuint
from microtrain_tools.mpy.errors import MpyFormatError
from microtrain_tools.mpy.linker import link
from microtrain_tools.mpy.reader import read_mpy


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    out = tmp_path_factory.mktemp("inspect")
    objects = [compile_c("x64", s, out) for s in ("fx_main.c", "fx_other.c")]
    result = link(objects, "x64", out / "fx.mpy")
    return result.out_path.read_bytes(), out


def cli(args, capsys):
    with pytest.raises(SystemExit) as stop:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return stop.value.code, out.out, out.err


def test_vuint_is_msb_first():
    assert vuint.encode(1282) == bytes([0x8A, 0x02])
    assert vuint.decode(bytes([0x8A, 0x02]), 0) == (1282, 2)
    for v in (0, 1, 127, 128, 16383, 16384, 2**32 + 5):
        assert vuint.decode(vuint.encode(v), 0) == (v, len(vuint.encode(v)))


def test_good_file_reads_back(good):
    data, _ = good
    mpy = read_mpy(data)
    assert (mpy.version, mpy.sub_version, mpy.arch, mpy.small_int_bits) == (6, 3, "x64", 31)
    assert mpy.scope_flags == 0x50 and mpy.bss_size > 0 and mpy.rodata_size == 0


def test_inspect_prints_contents(good, capsys):
    _, out = good
    code, text, _ = cli(["inspect", str(out / "fx.mpy")], capsys)
    assert code == 0
    assert "mpy 6.3, arch x64" in text and "hello_world" in text
    assert "+ mp_fun_table[78] (mp_type_fun_builtin_1)" in text and "+ &mp_fun_table" in text
    assert "+ qstr_table" in text and "+ bss" in text


@pytest.mark.parametrize("fraction", [0.0, 0.001, 0.01, 0.05, 0.3, 0.8, 0.95, 0.999])
def test_truncated_file_is_rejected(good, fraction):
    data, _ = good
    cut = data[: int(len(data) * fraction)]
    with pytest.raises(MpyFormatError, match="truncated"):
        read_mpy(cut)


def test_every_cut_is_rejected_cleanly(good):
    data, _ = good
    for n in range(len(data)):
        with pytest.raises(MpyFormatError):
            read_mpy(data[:n])


@pytest.mark.parametrize(
    "pos, value, message",
    [
        (0, 0x43, "not a .mpy file"),
        (1, 5, "unsupported .mpy version 5"),
        (2, 0x0B ^ 0x01, "sub-version"),
        (2, (14 << 2) | 3, "unknown arch code 14"),
        (2, 3, "arch 0"),
        (2, 0x8B, "bit 7"),
    ],
)
def test_damaged_header(good, pos, value, message):
    data = bytearray(good[0])
    data[pos] = value
    with pytest.raises(MpyFormatError, match=message):
        read_mpy(bytes(data))


def test_reloc_outside_text_is_rejected(good):
    data, _ = good
    mpy = read_mpy(data)
    # Replace the op stream by one op that points one word past the end of text.
    words = mpy.text_size // 8
    body = data[: len(data) - _reloc_stream_length(data, mpy)]
    bad = body + bytes([0x01]) + vuint.encode(words << 1) + b"\xff"
    with pytest.raises(MpyFormatError, match="points outside the text"):
        read_mpy(bad)


def _reloc_stream_length(data, mpy):
    from microtrain_tools.mpy.writer import encode_relocs

    return len(encode_relocs(mpy.relocs, 8))


def test_cli_reports_damage_with_exit_1(good, tmp_path, capsys):
    data, _ = good
    bad = tmp_path / "cut.mpy"
    bad.write_bytes(data[:100])
    code, _, err = cli(["inspect", str(bad)], capsys)
    assert code == 1 and "cut.mpy: truncated" in err and "Traceback" not in err
    code, _, err = cli(["inspect", str(tmp_path / "absent.mpy")], capsys)
    assert code == 1 and "cannot read" in err


def test_micropython_rejects_damaged_modules(good, tmp_path):
    # Measured on the unix port (1.29 preview): a wrong arch and a cut inside the header raise
    # ValueError; a cut after the header makes its loader loop for ever (EOF reads as 0xff, a
    # vuint that never ends) or crash in the relocation stream. So only those two cases are
    # run here, and files must be checked with read_mpy before they are deployed.
    data, _ = good
    wrong_arch = bytearray(data)
    wrong_arch[2] = (4 << 2) | 3  # armv6m
    (tmp_path / "wrongarch.mpy").write_bytes(bytes(wrong_arch))
    (tmp_path / "cut.mpy").write_bytes(data[:3])
    script = "\n".join(
        [
            "for name in ('wrongarch', 'cut'):",
            "    try:",
            "        __import__(name)",
            "        print(name, 'imported')",
            "    except Exception as e:",
            "        print(name, type(e).__name__, e)",
        ]
    )
    proc = run_micropython(script, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "wrongarch ValueError incompatible .mpy arch",
        "cut ValueError incompatible .mpy file",
    ]


def test_random_damage_never_escapes_as_another_error(good):
    import random

    data, _ = good
    rng = random.Random(20221)
    for _ in range(3000):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            read_mpy(bytes(damaged))
        except MpyFormatError:
            pass
