# SPDX-License-Identifier: MIT
# Int8 dot products through both paths of _microtrain (dot_s8 and op), for every kind of
# int8 buffer. Reads cases from the JSON file named by sys.argv[1]: [{"a": [...], "b": [...]}]
# and prints one JSON line: for each case, the results of every path, for the host to compare
# with numpy.
import array
import json
import sys

import _microtrain as mt

DOT = [i for i in range(mt.op_count()) if mt.op_info(i)[0] == "mt_dot_s8"][0]


def as_unsigned(values):
    return bytes([v & 0xFF for v in values])


def int8_views(values):
    # Every accepted int8 buffer kind: array('b'), bytearray, bytes, memoryview.
    yield array.array("b", values)
    yield bytearray(as_unsigned(values))
    yield as_unsigned(values)
    yield memoryview(bytearray(as_unsigned(values)))


# The case file: the first argument, else cases.json in the current folder (on a board).
with open(sys.argv[1] if len(sys.argv) > 1 else "cases.json") as f:
    cases = json.load(f)

results = []
for case in cases:
    row = []
    for a, b in zip(int8_views(case["a"]), int8_views(case["b"])):
        row.append(mt.dot_s8(a, b))
        out = array.array("i", [0x5A5A5A5A])
        mt.op(DOT, None, a, b, out)
        row.append(out[0])
    results.append(row)
print(json.dumps(results))
