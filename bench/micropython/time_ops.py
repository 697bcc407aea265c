# SPDX-License-Identifier: MIT
# Times op-table calls inside the unix port: `_microtrain.op` called `calls` times per round,
# best of all rounds of all sweeps, timed with time.ticks_us. Reads the cases from the JSON file named
# by sys.argv[1]:
#   [{"op": name, "args": [int32...], "bufs": [[typecode, hex bytes], ...], "calls": n}, ...]
# and prints one JSON line: per case [microseconds per call, [hex of every buffer after the
# first call]] (ops that update weights in place change them on every call).
import array
import binascii
import json
import sys
import time

import _microtrain as mt

SWEEPS, ROUNDS = 3, 3
IDS = {mt.op_info(i)[0]: i for i in range(mt.op_count())}

with open(sys.argv[1]) as f:
    cases = json.load(f)

prepared, results = [], []
for case in cases:
    op, args = IDS[case["op"]], array.array("i", case["args"])
    bufs = [array.array(tc, bytearray(binascii.unhexlify(h))) for tc, h in case["bufs"]]
    mt.op(op, args, *bufs)  # warm up; also raises here if the op refuses the case
    prepared.append((op, args, bufs, case["calls"]))
    results.append([None, [binascii.hexlify(b).decode() for b in bufs]])

# Sweeps over all cases, seconds apart: a burst of other work on the machine spoils one sweep's
# rounds of a case, rarely all of them.
for _ in range(SWEEPS):
    for (op, args, bufs, calls), result in zip(prepared, results):
        for _ in range(ROUNDS):
            start = time.ticks_us()
            for _ in range(calls):
                mt.op(op, args, *bufs)
            us = time.ticks_diff(time.ticks_us(), start) / calls
            if result[0] is None or us < result[0]:
                result[0] = us
print(json.dumps(results))
