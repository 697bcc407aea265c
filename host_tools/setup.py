# SPDX-License-Identifier: MIT
"""Build hook: ship the repo's natmod/ C sources and headers, boards/*.toml and
python/microtrain/*.py in the wheel as microtrain_tools/_data/ (read through paths.py).

They stay where the design puts them (the repo's top level); this copies them at build time, so
nothing is duplicated in git. An editable install (`make venv`) copies nothing: paths.py then
reads them from the checkout. An sdist carries the copy, so a wheel built from it has them too.
Everything else is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
DATA = "microtrain_tools/_data"
# (folder relative to the repo root, file patterns): what the installed tools read.
SHIPPED = (("natmod", ("*.c", "*.h")), ("boards", ("*.toml",)), ("python/microtrain", ("*.py",)))


def data_source() -> Path:
    """The repo root when building in a checkout, else the copy an sdist carries."""
    for root in (HERE.parent, HERE / DATA):
        if all((root / folder).is_dir() for folder, _ in SHIPPED):
            return root
    raise SystemExit(f"microtrain-tools: natmod/, boards/ and python/microtrain/ not found in "
                     f"{HERE.parent} or {HERE / DATA}: build from a microtrain checkout")


def copy_data(dest: Path) -> list[Path]:
    source, written = data_source(), []
    for folder, patterns in SHIPPED:
        for pattern in patterns:
            for path in sorted((source / folder).rglob(pattern)):
                target = dest / path.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                written.append(target)
    if not written:
        raise SystemExit(f"microtrain-tools: no data files found under {source}")
    return written


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if not self.editable_mode:  # editable: paths.py reads the checkout instead
            dest = Path(self.build_lib) / DATA
            shutil.rmtree(dest, ignore_errors=True)  # no stale files from an earlier build
            copy_data(dest)


class SdistWithData(sdist):
    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        copy_data(Path(base_dir) / DATA)


setup(cmdclass={"build_py": BuildPyWithData, "sdist": SdistWithData})
