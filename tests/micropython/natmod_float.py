# SPDX-License-Identifier: MIT
# Floats across the runtime's table: f32_bits and f32_from_bits of _microtrain. Reads a JSON
# file (sys.argv[1]) {"doubles": [float64 bit patterns], "bits": [float32 bit patterns]} and
# prints one JSON line {"f32_bits": [...], "from_bits": [float32 bits of the results]}.
import json
import struct
import sys

import _microtrain as mt

# The case file: the first argument, else cases.json in the current folder (on a board).
with open(sys.argv[1] if len(sys.argv) > 1 else "cases.json") as f:
    cases = json.load(f)

f32_bits = []
for pattern in cases["doubles"]:
    x = struct.unpack("<d", struct.pack("<Q", pattern))[0]
    f32_bits.append(mt.f32_bits(x))
from_bits = []
for pattern in cases["bits"]:
    x = mt.f32_from_bits(pattern)
    from_bits.append(struct.unpack("<I", struct.pack("<f", x))[0])
print(json.dumps({"f32_bits": f32_bits, "from_bits": from_bits}))
