# SPDX-License-Identifier: MIT
"""The learned-state store (python/microtrain/state.py) under power cuts, in the unix port.

tests/micropython/state_cuts.py mounts a simulated filesystem with FAT's or littlefs's rename
semantics and cuts the power before every step of a save (each byte, open, remove, rename, sync),
with and without the cached data reaching flash; after each cut the state must load as the old or
the new one, and a refused load must leave the parameters alone.
"""

import pytest

from conftest import ROOT
from microtrain_tools.device.micropython_runner import run_script

STATE_DIR = ROOT / "python" / "microtrain"
SCRIPTS = ROOT / "tests" / "micropython"


def enumerate_cuts(micropython, store, rename, n_params, *flags):
    out = run_script(SCRIPTS / "state_cuts.py", args=[store, rename, str(n_params), *flags],
                     path=[STATE_DIR, SCRIPTS], micropython=micropython, timeout=600)
    out.check()
    last = out.stdout.strip().splitlines()[-1].split()
    assert last[0] == "cases" and last[2] == "lost", out.stdout
    return int(last[1]), int(last[3]), out.stdout


@pytest.mark.parametrize("rename", ["fat", "littlefs"])
@pytest.mark.parametrize("n_params,flags", [(6, ("deep",)), (67, ())])
def test_no_power_cut_loses_state(micropython, rename, n_params, flags):
    cases, lost, out = enumerate_cuts(micropython, "state", rename, n_params, *flags)
    assert cases > 200
    assert lost == 0, out


@pytest.mark.parametrize("rename", ["fat", "littlefs"])
def test_the_enumeration_catches_the_old_rename_store(micropython, rename):
    """The store before issue 8 (tmp file renamed over the state, no sync) loses state: on FAT a
    cut between the remove and the rename, on both when the data never reached flash."""
    cases, lost, out = enumerate_cuts(micropython, "state_rename_store", rename, 6, "deep")
    assert lost > 0, out
    if rename == "fat":
        assert "(through) gave refused" in out, out


def _state_module():
    """python/microtrain/state.py is plain enough for CPython: it writes the seed files."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("device_state", STATE_DIR / "state.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("beside", ["alone", "with-b"])
def test_fuzz_damaged_state_files(micropython, tmp_path, beside):
    """Damaged slot files (seeded mutations of a version-2 and a version-1 file) to load_state
    in the unix port: a whole state or a refusal that leaves the parameters alone."""
    import struct

    from fuzzing import FuzzReport, damaged, fuzz_cases

    n_params = 40
    good = bytes((i * 7 + 1) % 256 for i in range(n_params))
    state = _state_module()
    state.save(str(tmp_path / "seed.state"), 0x1234567, bytearray(good))
    v1 = (tmp_path / "v1.state")
    v1_header = struct.pack("<4sBBHHHII", b"MTST", 1, 0, *state.checksum(good), 0, 0x1234567,
                            n_params)
    v1.write_bytes(v1_header + good)
    seeds = [(tmp_path / "seed.state.a").read_bytes(), v1.read_bytes()]
    cases = damaged(seeds, fuzz_cases(400), 21 if beside == "alone" else 22)
    with open(tmp_path / "cases.bin", "wb") as f:
        for _, data in cases:
            f.write(struct.pack("<I", len(data)) + data)
    out = run_script(SCRIPTS / "state_fuzz.py", args=[str(tmp_path / "cases.bin"), beside,
                                                      str(n_params)],
                     path=[STATE_DIR], micropython=micropython, cwd=tmp_path, timeout=3600)
    assert out.ok, out.describe()
    words = out.stdout.split()
    report = FuzzReport(f"state file ({beside})", tried=int(words[1]), accepted=int(words[3]),
                        refused=int(words[5]))
    report.crashes = [(line, "") for line in out.stdout.strip().splitlines()[1:]]
    report.check()
