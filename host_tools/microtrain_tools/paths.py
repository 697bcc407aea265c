# SPDX-License-Identifier: MIT
"""Where the project's folders are, found from this package's location."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NATMOD_DIR = ROOT / "natmod"
PYTHON_PKG_DIR = ROOT / "python" / "microtrain"
BOARDS_DIR = ROOT / "boards"
DIST_DIR = ROOT / "dist"
BUILD_DIR = ROOT / "build"
