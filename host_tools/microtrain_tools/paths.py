# SPDX-License-Identifier: MIT
"""Where the project's data is: the C sources (natmod/), the board files (boards/*.toml) and the
device package (python/microtrain/*.py).

Installed from a wheel, they are package data in microtrain_tools/_data/ (copied there at build
time by host_tools/setup.py). In a checkout (editable install, `make venv`) there is no _data/
and everything comes from the checkout itself, so an edit to natmod/ is seen at once.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parents[1]  # the checkout's root, when this package lives in one
PACKAGED_DATA = PACKAGE_DIR / "_data"
DATA_ROOT = PACKAGED_DATA if PACKAGED_DATA.is_dir() else ROOT
INSTALLED = DATA_ROOT == PACKAGED_DATA  # True: a wheel install, False: a checkout

NATMOD_DIR = DATA_ROOT / "natmod"
PYTHON_PKG_DIR = DATA_ROOT / "python" / "microtrain"
BOARDS_DIR = DATA_ROOT / "boards"
BUILD_DIR = ROOT / "build"  # checkout only: the bench's scratch builds
