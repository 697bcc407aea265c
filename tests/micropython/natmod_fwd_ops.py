# SPDX-License-Identifier: MIT
# Forward ops through _microtrain.op, for the host to compare with the numpy reference bit for
# bit. Reads cases from the JSON file named by sys.argv[1]:
#   [{"op": name, "args": [int32...], "bufs": [[typecode, hex bytes], ...]}, ...]
# and prints one JSON line: per case, the hex bytes of every buffer after the op, or
# ["error", message] when the op raised ValueError.
import array
import binascii
import json
import sys

import _microtrain as mt

IDS = {mt.op_info(i)[0]: i for i in range(mt.op_count())}

with open(sys.argv[1]) as f:
    cases = json.load(f)

results = []
for case in cases:
    bufs = [array.array(tc, bytearray(binascii.unhexlify(h))) for tc, h in case["bufs"]]
    try:
        mt.op(IDS[case["op"]], array.array("i", case["args"]), *bufs)
        results.append([binascii.hexlify(b).decode() for b in bufs])
    except ValueError as e:
        results.append(["error", str(e)])
print(json.dumps(results))
