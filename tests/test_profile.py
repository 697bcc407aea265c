# SPDX-License-Identifier: MIT
"""`microtrain profile` and make bench's step profile (microtrain_tools/emulator/step_profile.py): a step run
op by op on an emulated core and on the host, each op's MACs from its args.

The per-op instruction counts must add up to the whole step's count (the same run, split at
each entry into mt_op_run), the profiled step must leave the board's state equal to the host's,
and the forward ops' MACs must be the graph's.
"""

import numpy as np
import pytest

from microtrain_tools.emulator.step_profile import (
    format_profile,
    op_work,
    profile_model,
    sample_input,
)
from program_emulator import EmulatedModel, build_program_image
from program_models import model_case
from microtrain_tools.sim.simulate import HostModel


@pytest.fixture(scope="module")
def digits():
    case = model_case("digits", 2)
    return case, case.compile(True)


def test_forward_macs_are_the_graphs(digits):
    case, compiled = digits
    fwd = [op for op in compiled.predict if op.name.endswith("_fwd")]
    got = sum(op_work(op.name, op.args)[1] for op in fwd)
    assert got == sum(case.graph.macs(ly) for ly in case.graph.weight_layers()) > 40_000
    # An update of k of n input channels counts its own MACs: the policy's share of them.
    updates = [op for op in compiled.learn if op.name.endswith("_update") and "bias" not in op.name]
    assert updates and all(op_work(op.name, op.args)[1] > 0 for op in updates)


@pytest.mark.parametrize("arch", ["armv6m", "armv7emsp"])
def test_op_counts_add_up_to_the_step_and_change_nothing(arch, digits, tmp_path):
    case, compiled = digits
    prof = profile_model(compiled, case.xs[0], case.ys[0], arch, tmp_path)
    # the same step, counted whole, on a fresh board
    board = EmulatedModel(arch, build_program_image(arch, tmp_path), compiled)
    board.count = True
    host = HostModel(compiled)
    for which in ("predict", "learn"):
        if which == "predict":
            board.predict(case.xs[0]), host.predict(case.xs[0])
        else:
            board.learn(case.xs[0], case.ys[0]), host.learn(case.xs[0], case.ys[0])
        assert len(prof.ops[which]) == len(getattr(compiled, which))
        assert prof.total(which) == board.instructions[which]
        assert all(o.cost > 0 for o in prof.ops[which])
    assert board.params == host.params.tobytes()
    text = format_profile(prof, "learn", top=5)
    assert f"learn on {arch}" in text and text.count("\n| ") >= 5 + 3


def test_host_profile_times_every_op(digits, tmp_path):
    case, compiled = digits
    x, y = sample_input(compiled)
    prof = profile_model(compiled, x, y, "host", tmp_path, repeats=2)
    assert prof.unit == "ns"
    assert [o.name for o in prof.ops["learn"]] == [op.name for op in compiled.learn]
    assert all(o.cost >= 0 for o in prof.ops["learn"]) and prof.total("learn") > 0


def test_profile_command(digits, tmp_path, capsys):
    from microtrain_tools.policy import definition as pol
    from microtrain_tools.cli import main as cli_main
    from microtrain_tools.formats.int8_graph import save_graph

    case, _ = digits
    save_graph(case.graph, tmp_path / "g.mtg")
    pol.save_policy(case.policy, tmp_path / "p.json")
    np.savez(tmp_path / "d.npz", x=case.xs, y=case.ys)
    cli_main(["profile", str(tmp_path / "g.mtg"), "--policy", str(tmp_path / "p.json"),
              "--target", "m4", "--top", "3", "--data", str(tmp_path / "d.npz")])
    out = capsys.readouterr().out
    assert "predict on armv7emsp (size)" in out and "learn on armv7emsp (size)" in out
    assert "| kind | ops | MACs | instr. | instr./MAC | share |" in out
    with pytest.raises(SystemExit):
        cli_main(["profile", str(tmp_path / "g.mtg"), "--policy", str(tmp_path / "p.json"),
                  "--board", "nosuchboard"])
    assert "nosuchboard" in capsys.readouterr().err
