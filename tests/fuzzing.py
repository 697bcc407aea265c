# SPDX-License-Identifier: MIT
"""Seeded mutation fuzzing of file readers, shared by the tests/test_fuzz_*.py readers.

    cases = damaged(seeds, n=fuzz_cases(300), seed=1)    # [(how, bytes)], deterministic
    report = run_reader("npz", read, cases, allowed=(MicrotrainError,))
    report.check()   # fails naming the first inputs that raised anything else

Mutators: bit flips, interesting bytes (0, 0xFF, 0x7F, 0x80), truncation, byte insertion,
deletion, a chunk duplicated, a splice of two seeds, and little-endian int fields overwritten with
extreme values. `make test` runs a few hundred cases per reader; `make fuzz` sets FUZZ_CASES (1e5
by default) and FUZZ_REPORT (a folder: one line per reader, for the README's table).
"""

import json
import os
import random
import struct
import traceback
from dataclasses import dataclass, field
from pathlib import Path

EXTREME_INTS = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000,
                0xFFFFFFFF, 0x10000, 1 << 28]


def fuzz_cases(default: int) -> int:
    """FUZZ_CASES from the environment (make fuzz), else `default` (make test)."""
    return int(float(os.environ.get("FUZZ_CASES", default)))


def _flip(rng, data, seeds):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    return "bit flip", data


def _byte(rng, data, seeds):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(len(data))] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
    return "byte set", data


def _truncate(rng, data, seeds):
    return "truncate", data[:rng.randrange(len(data))]


def _insert(rng, data, seeds):
    i = rng.randrange(len(data) + 1)
    return "insert", data[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))) + data[i:]


def _delete(rng, data, seeds):
    i = rng.randrange(len(data))
    return "delete", data[:i] + data[i + rng.randint(1, 16):]


def _duplicate(rng, data, seeds):
    i = rng.randrange(len(data))
    chunk = data[i:i + rng.randint(1, 64)]
    j = rng.randrange(len(data) + 1)
    return "duplicate", data[:j] + chunk * rng.randint(1, 4) + data[j:]


def _splice(rng, data, seeds):
    other = rng.choice(seeds)
    return "splice", data[:rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1):]


def _int_field(rng, data, seeds):
    data = bytearray(data)
    size = rng.choice((2, 4))
    if len(data) < size:
        return "int field", data
    i = rng.randrange(len(data) - size + 1)
    value = rng.choice(EXTREME_INTS) & ((1 << (8 * size)) - 1)
    data[i:i + size] = struct.pack("<H" if size == 2 else "<I", value)
    return "int field", data


MUTATORS = [_flip, _byte, _truncate, _insert, _delete, _duplicate, _splice, _int_field]


def mutate(rng: random.Random, data: bytes, seeds) -> tuple[str, bytes]:
    """One to three mutations of data; returns (what was done, the damaged bytes)."""
    steps = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not data:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            steps.append("random")
            continue
        how, data = rng.choice(MUTATORS)(rng, data, seeds)
        steps.append(how)
    return "+".join(steps), bytes(data)


def damaged(seeds, n: int, seed: int):
    """n damaged variants of the seed inputs (a list of bytes), the same for the same seed."""
    rng = random.Random(seed)
    seeds = [bytes(s) for s in seeds]
    for i in range(n):
        how, data = mutate(rng, rng.choice(seeds), seeds)
        yield f"case {i} ({how})", data


@dataclass
class FuzzReport:
    reader: str
    tried: int = 0
    accepted: int = 0
    refused: int = 0
    crashes: list = field(default_factory=list)  # (case, exception text)
    extra: dict = field(default_factory=dict)  # more columns for the report line

    def check(self):
        write_report(self)
        shown = "\n\n".join(f"{case}:\n{text}" for case, text in self.crashes[:3])
        assert not self.crashes, (f"{self.reader}: {len(self.crashes)} of {self.tried} damaged "
                                  f"inputs raised something other than a clear error:\n{shown}")
        assert self.refused > 0, f"{self.reader}: no damaged input was refused; is it reading?"
        return self


def write_report(report: FuzzReport, **extra):
    folder = os.environ.get("FUZZ_REPORT")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    line = {"reader": report.reader, "tried": report.tried, "accepted": report.accepted,
            "refused": report.refused, "crashes": len(report.crashes), **report.extra, **extra}
    with open(Path(folder) / "readers.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")


def run_reader(name, read, cases, allowed) -> FuzzReport:
    """Call read(data) on each case; `allowed` exceptions are refusals, anything else a crash."""
    report = FuzzReport(name)
    for case, data in cases:
        report.tried += 1
        try:
            read(data)
            report.accepted += 1
        except allowed:
            report.refused += 1
        except Exception:  # noqa: BLE001 - the point: anything else is a finding
            report.crashes.append((f"{case}, {len(data)} bytes: {data[:64].hex()}",
                                   traceback.format_exc(limit=4)))
    return report
