# SPDX-License-Identifier: MIT
"""The user cache of built modules and the host library (build_cache.py): keyed by what shapes
the build, written atomically, never in the checkout; a refused pack leaves no folder."""

import shutil

import pytest

from conftest import ROOT
from e2e_models import small_graph
from microtrain_tools.mpy import build_cache, natmod_build
from microtrain_tools.sim import hostlib
from microtrain_tools.bundle.boards import load_board
from microtrain_tools.compiler import compile_model
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.bundle.pack import make_bundle, pack
from microtrain_tools.policy.definition import make_policy


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(build_cache.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_cached_file_appears_whole_and_is_reused(cache):
    target = cache / "kind" / "key" / "thing.bin"
    calls = []

    def build(tmp):
        assert not target.exists(), "the final name must not exist before the file is whole"
        tmp.write_bytes(b"half")
        assert not target.exists()
        tmp.write_bytes(b"whole")
        calls.append(tmp)

    assert build_cache.cached_file("kind", "key", "thing.bin", build) == (target, False)
    assert target.read_bytes() == b"whole" and calls[0].parent == target.parent
    assert build_cache.cached_file("kind", "key", "thing.bin", build) == (target, True)
    assert len(calls) == 1
    assert sorted(p.name for p in target.parent.iterdir()) == ["thing.bin"]  # no temporaries


def test_a_failed_build_leaves_nothing(cache):
    def build(tmp):
        tmp.write_bytes(b"partial")
        raise MicrotrainError("compiler exploded")

    with pytest.raises(MicrotrainError, match="compiler exploded"):
        build_cache.cached_file("natmod", "k", "m.mpy", build)
    assert not (cache / "natmod" / "k").exists()


def test_the_module_key_follows_sources_opt_and_arch(tmp_path, monkeypatch):
    natmod = tmp_path / "natmod"
    shutil.copytree(natmod_build.NATMOD_DIR, natmod)
    monkeypatch.setattr(natmod_build, "NATMOD_DIR", natmod)
    key = natmod_build.module_key("x64")
    assert key == natmod_build.module_key("x64")
    assert key.startswith("x64-")
    assert natmod_build.module_key("x64", "speed") != key
    header = natmod / "kernels" / "mt_types.h"
    header.write_text(header.read_text() + "\n/* an edit */\n")
    assert natmod_build.module_key("x64") != key, "a header edit must give a new module"


def test_the_host_library_lives_in_the_user_cache():
    path = hostlib.build()
    assert path.is_relative_to(build_cache.cache_root())
    assert not path.resolve().is_relative_to(ROOT.resolve())


def test_a_refused_board_leaves_no_output_folder(cache, tmp_path, monkeypatch):
    def no_compiler(arch):
        raise MicrotrainError(f"arch {arch.name}: compiler {arch.cc} not found")

    monkeypatch.setattr(natmod_build, "find_compiler", no_compiler)
    graph = small_graph()
    bundle = make_bundle(compile_model(graph, make_policy(graph, bias_last_n=1)), "small")
    out = tmp_path / "out"
    with pytest.raises(MicrotrainError, match="clang-22 not found"):
        pack(bundle, load_board("esp32"), out, log=lambda *a: None)
    assert not out.exists()
    assert not list(cache.glob("natmod/*")), "nothing of the refused build may stay in the cache"
