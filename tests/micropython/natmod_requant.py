# SPDX-License-Identifier: MIT
# requant(x, multiplier, shift) of _microtrain over cases read from a JSON file (sys.argv[1],
# else cases.json): [[x, multiplier, shift], ...]. Prints one JSON line of results.
import json
import sys

import _microtrain as mt

with open(sys.argv[1] if len(sys.argv) > 1 else "cases.json") as f:
    cases = json.load(f)
print(json.dumps([mt.requant(x, m, s) for x, m, s in cases]))
