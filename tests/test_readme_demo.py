# SPDX-License-Identifier: MIT
"""The README quotes what `make demo` prints: the demo runs here and every quoted line (the time
per step aside, which depends on the machine) is its own output (issue 9: the quote was stale)."""

import re
import subprocess
import sys

from conftest import ROOT

SECTION = "## What `make demo` shows"


def quoted_lines() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION):]
    section = section[:section.index("\n## ", 1)]
    block = section[section.index("\n\n    ") + 2:].split("\n\n")[0]
    return [line.strip() for line in block.splitlines()]


def test_readme_quotes_the_demo_output(micropython, tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "demo" / "run_demo.py"),
                           "-o", str(tmp_path / "demo")], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    lines = quoted_lines()
    assert len(lines) >= 6, lines
    for line in lines:
        if "ms per learn step" in line:
            assert re.search(r"device: [\d.]+ ms per learn step", out), out
            continue
        assert line in out, f"README quotes {line!r}, the demo printed:\n{out}"


def test_demo_writes_its_learning_curve(micropython, tmp_path):
    """The demo's curve (measured in micropython) holds the printed epoch losses and the
    accuracy before and after, with the held-out accuracy after every epoch, and its plot."""
    from microtrain_tools.sim.curves import read_curve

    out_dir = tmp_path / "demo"
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "demo" / "run_demo.py"),
                           "-o", str(out_dir), "--epochs", "2"], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    curve = read_curve(out_dir / "curve.csv")
    printed = [float(v) for v in re.findall(r"device: epoch \d mean loss ([\d.]+)", proc.stdout)]
    assert [round(r.loss, 4) for r in curve.of("epoch")] == printed and len(printed) == 2
    held = curve.of("held_out")
    before = float(re.search(r"accuracy before ([\d.]+)", proc.stdout).group(1))
    after = float(re.search(r"accuracy after +([\d.]+)", proc.stdout).group(1))
    assert [h.epoch for h in held] == [0, 1, 2]
    assert round(held[0].accuracy, 4) == before and round(held[-1].accuracy, 4) == after
    assert len(curve.of("steps")) >= 2 * 19  # about 20 points per epoch
    assert (out_dir / "curve.png").read_bytes()[:4] == b"\x89PNG"
