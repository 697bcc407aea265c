# SPDX-License-Identifier: MIT
"""Damaged training programs through the executor under AddressSanitizer and UBSan (see
program_fuzz.py): ok or a refusal, nothing written outside the writable regions."""

from fuzz_ops import run_sanitized
from fuzzing import fuzz_cases, FuzzReport


def test_damaged_programs_survive_the_executor_under_sanitizers(tmp_path):
    n = fuzz_cases(400)
    ok, refused, redirected = run_sanitized("program_fuzz.py", tmp_path, 20261207, n)
    # Both outcomes must occur, or the fuzz is not exploring.
    assert ok > 0 and refused > n // 4 + redirected and redirected > 100, (ok, refused)
    FuzzReport("training program (executor, ASan+UBSan)", tried=n + redirected, accepted=ok,
               refused=refused).check()
