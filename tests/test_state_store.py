# SPDX-License-Identifier: MIT
"""The learned-state store (python/microtrain/state.py) under power cuts, in the unix port.

tests/micropython/state_cuts.py mounts a simulated filesystem with FAT's or littlefs's rename
semantics and cuts the power before every step of a save (each byte, open, remove, rename, sync),
with and without the cached data reaching flash; after each cut the state must load as the old or
the new one, and a refused load must leave the parameters alone.
"""

import pytest

from conftest import ROOT
from microtrain_tools.micropython_runner import run_script

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
