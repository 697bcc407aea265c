# SPDX-License-Identifier: MIT
# Damaged state files to load_into: argv[1] a file of cases (u32 length, then the bytes of a
# damaged m.state.a), argv[2] "alone" or "with-b" (a whole older m.state.b beside it), argv[3]
# the parameter count. Each load must give a whole state (the one the case was made from, or
# b's) or raise ValueError/OSError leaving the parameters as they were.
# Prints "tried <n> accepted <n> refused <n> crashes <n>" (refused: a refusal or b taken),
# then the first crashes.
import struct
import sys

import state

MODEL_ID = 0x1234567
n_params = int(sys.argv[3])
GOOD = bytes((i * 7 + 1) % 256 for i in range(n_params))
OLDER = bytes((i * 3 + 5) % 256 for i in range(n_params))
SENTINEL = bytes([0xEE]) * n_params

if sys.argv[2] == "with-b":
    state.save("m.state", MODEL_ID, bytearray(OLDER))  # m.state.a, renamed to .b below
    import os

    os.rename("m.state.a", "m.state.b")
tried = accepted = refused = 0
crashes = []
with open(sys.argv[1], "rb") as cases:
    while True:
        head = cases.read(4)
        if len(head) < 4:
            break
        data = cases.read(struct.unpack("<I", head)[0])
        with open("m.state.a", "wb") as f:
            f.write(data)
        params = bytearray(SENTINEL)
        tried += 1
        try:
            state.load_into("m.state", MODEL_ID, params)
            if bytes(params) == GOOD:
                accepted += 1
            elif bytes(params) == OLDER:
                refused += 1  # the damaged slot refused, the whole older one taken
            else:
                crashes.append("case %d: loaded bytes of no saved state" % tried)
        except (ValueError, OSError):
            refused += 1
            if params != SENTINEL:
                crashes.append("case %d: refused but the parameters changed" % tried)
        except Exception as err:  # anything else is a finding
            crashes.append("case %d: %s %s" % (tried, type(err).__name__, err))
print("tried", tried, "accepted", accepted, "refused", refused, "crashes", len(crashes))
for line in crashes[:5]:
    print(line)
