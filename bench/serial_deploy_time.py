# SPDX-License-Identifier: MIT
"""Time `microtrain deploy --port` of a dist folder to the unix port behind a pty
(tests/pty_board.py): python bench/serial_deploy_time.py DIST [--runs 5].

Each run starts a fresh board with an empty flash folder, so every file is really copied."""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pty_board import PtyBoard  # noqa: E402
from microtrain_tools import cli
from microtrain_tools.device.micropython_runner import find_micropython


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dist")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    dist = Path(args.dist)
    size = sum(f.stat().st_size for f in dist.rglob("*") if f.is_file()
               and f.name != "romfs.img")
    times = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as flash, PtyBoard(find_micropython(), flash) as board:
            start = time.monotonic()
            cli.main(["deploy", "--port", board.port, str(dist)])
            times.append(time.monotonic() - start)
    print(f"deploy of {dist} ({size} bytes), {args.runs} runs: median "
          f"{statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    main()
