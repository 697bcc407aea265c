# SPDX-License-Identifier: MIT
"""Print the table of a `make fuzz` run: one row per reader from FUZZ_REPORT/readers.jsonl
(cases/s where the fuzzer measured it: the device-side load fuzz)."""

import json
import sys
from pathlib import Path


def main(folder):
    path = Path(folder) / "readers.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    print(f"{'reader':48} {'tried':>8} {'read':>8} {'refused':>8} {'crashes':>8} {'cases/s':>8}")
    for r in rows:
        print(f"{r['reader']:48} {r['tried']:>8} {r['accepted']:>8} {r['refused']:>8} "
              f"{r['crashes']:>8} {r.get('cases_per_second', ''):>8}")
    return 1 if not rows or any(r["crashes"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
