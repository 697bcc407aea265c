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
