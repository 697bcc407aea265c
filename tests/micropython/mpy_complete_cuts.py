# SPDX-License-Identifier: MIT
# mpy_complete.check over a module and cut copies of it: argv[1] the module, argv[2] a scratch
# file, argv[3:] the lengths to cut it to. Prints "complete" once, then one line per cut:
# "<length> refused" or "<length> accepted".
import sys

import mpy_complete

module, scratch = sys.argv[1], sys.argv[2]
mpy_complete.check(module)
print("complete")
with open(module, "rb") as f:
    data = f.read()
for n in sys.argv[3:]:
    n = int(n)
    with open(scratch, "wb") as f:
        f.write(data[:n])
    try:
        mpy_complete.check(scratch)
        print(n, "accepted")
    except ValueError:
        print(n, "refused")
