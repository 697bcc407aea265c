# SPDX-License-Identifier: MIT
"""What a benchmark ran on: CPU model and cores, date, tool versions, the source commit."""

import datetime
import os
import platform
import subprocess

import numpy as np

from microtrain_tools.paths import ROOT


def _first_line(cmd) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def stamp() -> dict:
    dirty = _first_line(["git", "status", "--porcelain", "--", "natmod"]) not in ("", "unknown")
    commit = _first_line(["git", "rev-parse", "--short", "HEAD"])
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        "gcc": _first_line(["gcc", "--version"]),
        "arm_gcc": _first_line(["arm-none-eabi-gcc", "--version"]),
        "qemu": _first_line(["qemu-system-arm", "--version"]),
        "commit": commit + (" with uncommitted natmod/ changes" if dirty else ""),
    }
