# SPDX-License-Identifier: MIT
"""Damaged packed files to `microtrain.load` + predict + learn in the unix port, many cases per
process (tests/micropython/load_fuzz.py): a crash (signal) or a hang ends that process, is
recorded against the case it was running, and a new process goes on from the next case.

    report = fuzz_load(micropython, dist, "microtrain/model.mpy", cases, work, "name")
    report.check()   # a FuzzReport: tried, accepted, refused, findings
"""

import os
import selectors
import signal
import struct
import subprocess
import time
from pathlib import Path

from fuzzing import FuzzReport
from microtrain_tools.device.micropython_runner import FROZEN_PATH

DRIVER = Path(__file__).parent / "micropython" / "load_fuzz.py"
CASE_SECONDS = 10.0  # no output for this long: the case hangs (an intact load takes ~5 ms)
PER_PROCESS = 2000  # cases per process: each accepted case loads the native module anew
FINDINGS = ("wrong", "memory", "unnamed")


def write_cases(cases, path: Path) -> tuple[list, list]:
    """cases.bin (u32 length + bytes per case); returns the case names and byte offsets."""
    names, offsets = [], []
    with open(path, "wb") as f:
        for case, data in cases:
            names.append(case)
            offsets.append(f.tell())
            f.write(struct.pack("<I", len(data)) + data)
    return names, offsets


def _run(cmd, env):
    """Run one driver process; yields its output lines, then (returncode, timed_out)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    pending = b""
    timed_out = False
    while True:
        if not sel.select(timeout=CASE_SECONDS):
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            break
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.decode("utf-8", "replace")
    proc.wait()
    sel.close()
    proc.stdout.close()
    yield proc.returncode, timed_out


def fuzz_load(micropython, dist: Path, target: str, cases, work: Path, reader: str,
              name: str = "small", allowed_other: bool = False) -> FuzzReport:
    """Each case's bytes replace dist/target, then load + predict + learn. allowed_other: an
    exception other than ValueError/OSError that names the file is a refusal too (the root
    modules, shipped as source: a SyntaxError from a damaged line)."""
    work.mkdir(parents=True, exist_ok=True)
    names, offsets = write_cases(cases, work / "cases.bin")
    intact = work / "intact"
    intact.write_bytes((dist / target).read_bytes())
    env = dict(os.environ, MICROPYPATH=FROZEN_PATH)
    report = FuzzReport(reader)
    report.others = {}  # exception type -> count, of the refusals that were not ValueError/OSError
    started = time.monotonic()
    index = 0
    while index < len(names):
        count = min(PER_PROCESS, len(names) - index)
        cmd = [str(micropython), str(DRIVER), str(dist), name, target, str(intact),
               str(work / "cases.bin"), str(offsets[index]), str(index), str(count)]
        running, ended, before = None, None, index
        for item in _run(cmd, env):
            if isinstance(item, tuple):
                ended = item
                break
            words = item.split(" ", 1)
            if words[0] == "case":
                running = int(words[1])
            elif words[0].isdigit():
                _record(report, item, names, allowed_other)
                running = None
                index = int(words[0]) + 1
        returncode, timed_out = ended
        if running is not None:  # the process died or hung in this case
            how = f"hang (no output in {CASE_SECONDS:.0f} s)" if timed_out else \
                f"crash (exit status {returncode})"
            report.tried += 1
            report.crashes.append((names[running], how))
            index = running + 1
        elif returncode != 0 or timed_out or index == before:
            raise AssertionError(f"{reader}: the driver failed outside a case (exit status "
                                 f"{returncode}, timed out {timed_out}): {' '.join(cmd)}")
    report.seconds = time.monotonic() - started
    return report


def _record(report, line, names, allowed_other):
    words = line.split(" ", 2)
    if not words[0].isdigit():
        return
    case, outcome = int(words[0]), words[1]
    detail = words[2] if len(words) > 2 else ""
    report.tried += 1
    if outcome == "accepted":
        report.accepted += 1
    elif outcome == "refused" or (outcome == "other" and allowed_other):
        report.refused += 1
        if outcome == "other":
            kind = detail.split(":")[0]
            report.others[kind] = report.others.get(kind, 0) + 1
    else:
        report.crashes.append((names[case], f"{outcome}: {detail}"))
