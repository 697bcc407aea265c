# SPDX-License-Identifier: MIT
"""Everything microtrain.load reads on the device, damaged (tests/fuzzing.py's mutators), then
load + predict + learn in the unix port (tests/device_fuzz.py): each case is refused with a
ValueError/OSError naming the file, or (the damage left the file as packed) gives the intact
numbers; never a crash, a hang, a MemoryError or other numbers. FUZZ_CASES scales it (make fuzz).
"""

import shutil

import pytest
from device_fuzz import fuzz_load
from e2e_models import small_graph
from fuzzing import damaged, fuzz_cases
from microtrain_tools.bundle.boards import load_board
from microtrain_tools.compiler import compile_model
from microtrain_tools.bundle.pack import make_bundle, pack
from microtrain_tools.policy.definition import make_policy

# file -> (seed of its cases, reader name in the report)
CHECKED = {
    "small.mpy": (31, "bundle NAME.mpy (device load)"),
    "small.weights": (32, "weights NAME.weights (device load)"),
    "microtrain/manifest.bin": (33, "manifest microtrain/manifest.bin"),
    "microtrain/model.mpy": (34, "package microtrain/model.mpy"),
    "microtrain/state.mpy": (35, "package microtrain/state.mpy"),
    "_microtrain.mpy": (36, "native module _microtrain.mpy"),
}


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    """dist/ of the small model, and of another model for splices of two packed files."""
    graph = small_graph()
    folder = tmp_path_factory.mktemp("packs")
    for name, bias_last_n in (("small", 2), ("other", 1)):
        compiled = compile_model(graph, make_policy(graph, bias_last_n=bias_last_n))
        pack(make_bundle(compiled, "small"), load_board("unix"), folder / name,
             log=lambda *a: None)
    return folder


def fuzz_file(packs, tmp_path, micropython, target, seed, reader, n, allowed_other=False):
    dist = tmp_path / "dist"
    shutil.copytree(packs / "small", dist)
    seeds = [(packs / "small" / target).read_bytes(), (packs / "other" / target).read_bytes()]
    cases = damaged(seeds[:1] if seeds[0] == seeds[1] else seeds, n, seed)
    report = fuzz_load(micropython, dist, target, cases, tmp_path / "work", reader,
                       allowed_other=allowed_other)
    report.extra["cases_per_second"] = round(report.tried / report.seconds, 1)
    return report


@pytest.mark.parametrize("target", sorted(CHECKED))
def test_fuzz_checked_files(packs, tmp_path, micropython, target):
    seed, reader = CHECKED[target]
    report = fuzz_file(packs, tmp_path, micropython, target, seed, reader, fuzz_cases(300))
    report.check()


ROOT = ("microtrain/__init__", "microtrain/integrity")  # imported before anything is checked


@pytest.mark.parametrize("module", ROOT)
def test_fuzz_root_of_trust(packs, tmp_path, micropython, module):
    """The two files that do the checking, damaged: shipped as source, damage is a SyntaxError
    or other Python that names the file, or is caught by the check once they run."""
    target = next(module + ext for ext in (".py", ".mpy") if (packs / "small" / (module + ext)).exists())
    report = fuzz_file(packs, tmp_path, micropython, target, 37 + ROOT.index(module),
                       f"root {target}", fuzz_cases(300), allowed_other=True)
    report.extra["other_errors"] = report.others
    report.check()
