# SPDX-License-Identifier: MIT
"""Static libraries: only needed members are pulled, transitively; damaged archives are
refused."""

import subprocess

import pytest
from linker_fixtures.build import compile_c, require_tool, run_micropython
from microtrain_tools.mpy.errors import LinkError
from microtrain_tools.mpy.linker import link


def make_archive(path, objects):
    ar = require_tool("ar", "binutils")
    subprocess.run([ar, "rcs", str(path), *map(str, objects)], check=True)
    return path


def test_pulls_needed_members_transitively(tmp_path):
    main = compile_c("x64", "fx_main.c", tmp_path)
    members = [compile_c("x64", s, tmp_path) for s in ("chain_a.c", "chain_b.c", "bad_data.c")]
    lib = make_archive(tmp_path / "libfx.a", members)
    result = link([main], "x64", tmp_path / "fx.mpy", libs=[lib])
    # bad_data.o defines nothing fx_main.o needs, so it stays in the archive.
    assert sorted(result.members) == ["libfx.a(chain_a_x64.o)", "libfx.a(chain_b_x64.o)"]
    proc = run_micropython("import fx\nprint(fx.call_chain(5))", tmp_path)
    assert proc.stdout.strip() == "16", proc.stderr


def test_objects_win_over_library_members(tmp_path):
    objects = [compile_c("x64", s, tmp_path) for s in ("fx_main.c", "fx_other.c")]
    lib = make_archive(tmp_path / "libfx.a", [compile_c("x64", "chain_a.c", tmp_path)])
    result = link(objects, "x64", tmp_path / "fx.mpy", libs=[lib])
    assert result.members == []


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not an archive", "not an ar archive"),
        (b"!<thin>\n", "thin archives"),
        (b"!<arch>\n" + b"x" * 60, "damaged archive member header"),
    ],
)
def test_damaged_archive(tmp_path, content, message):
    main = compile_c("x64", "fx_main.c", tmp_path)
    lib = tmp_path / "bad.a"
    lib.write_bytes(content)
    with pytest.raises(LinkError, match=message):
        link([main], "x64", tmp_path / "fx.mpy", libs=[lib])


def test_archive_without_index(tmp_path):
    ar = require_tool("ar", "binutils")
    lib = tmp_path / "noindex.a"
    subprocess.run([ar, "rcS", str(lib), str(compile_c("x64", "chain_b.c", tmp_path))], check=True)
    main = compile_c("x64", "fx_main.c", tmp_path)
    with pytest.raises(LinkError, match="ranlib"):
        link([main], "x64", tmp_path / "fx.mpy", libs=[lib])


def test_scribbled_archives_give_link_errors(tmp_path):
    import random

    main = compile_c("x64", "fx_main.c", tmp_path)
    members = [compile_c("x64", "fx_other.c", tmp_path)]
    good = make_archive(tmp_path / "libfx.a", members).read_bytes()
    rng = random.Random(256)
    lib = tmp_path / "damaged.a"
    for i in range(150):
        data = bytearray(good[: rng.randrange(len(good))] if i < 50 else good)
        for _ in range(0 if i < 50 else rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        lib.write_bytes(bytes(data))
        try:
            link([main], "x64", tmp_path / "x.mpy", libs=[lib])
        except LinkError:
            pass
