# SPDX-License-Identifier: MIT
"""Finds the arch's libgcc.a by asking its compiler (`-print-libgcc-file-name`)."""

import os
import shutil
import subprocess
from pathlib import Path

from .errors import LinkError


def compiler_for(arch) -> str:
    """$CC if set (for x64 builds), otherwise the arch table's compiler."""
    return os.environ.get("CC", arch.cc) if arch.name == "x64" else arch.cc


def libgcc_path(arch) -> Path:
    if arch.note:
        raise LinkError(f"arch {arch.name}: {arch.note}")
    cc = compiler_for(arch)
    if shutil.which(cc) is None:
        pkg = f" (Debian package {arch.package})" if arch.package else ""
        raise LinkError(f"compiler {cc} not found{pkg}: it is needed to find libgcc")
    result = subprocess.run(
        [cc, *arch.cflags, "-print-libgcc-file-name"], capture_output=True, text=True
    )
    path = Path(result.stdout.strip())
    if result.returncode or not path.is_file():
        raise LinkError(f"{cc} did not name an existing libgcc.a: {result.stderr.strip()}")
    return path
