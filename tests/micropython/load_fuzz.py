# SPDX-License-Identifier: MIT
# Damaged packed files to microtrain.load, many cases in one process (tests/device_fuzz.py).
# argv: the dist folder (on sys.path), the model name, the damaged file (relative to dist), a
# copy of that file intact, the cases file (u32 length, then the bytes, per case), the byte
# offset and index of the first case to run, and how many to run at most.
#
# First the intact files are loaded and a predict + learn recorded. Then, per case: write the
# damaged bytes over the file, forget every module load imported, and load + predict + learn
# again. Prints "case <i>" before a case and "<i> <outcome> <detail>" after it, so the host
# can tell which case a crash (signal) or a hang (no line in time) came from and go on after it.
# Outcomes: accepted (the same numbers as intact), refused (ValueError/OSError naming the file or
# its module, in its message or its traceback), other (any other exception; its traceback names the file),
# and the findings: wrong (loaded but other numbers), memory (MemoryError), unnamed (an error
# that does not name the damaged file).
import gc
import io
import os
import struct
import sys
from array import array

dist, name, target, intact_copy, cases_path = sys.argv[1:6]
offset, first, count = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
sys.path[:] = [dist, ".frozen"]
TARGET_PATH = dist + "/" + target
OURS = ("microtrain", "_microtrain", name)
# A damaged module's error may name it by its module name ("module 'microtrain' has no ...")
MODULE = target.rsplit(".", 1)[0].replace("/__init__", "").replace("/", ".")
# A manifest damaged into another whole one (a splice of a foreign manifest, or damage its weak
# checksum misses) is refused by the file it disagrees with: any packed file's name will do.
NAMES = [target]
if target.endswith("manifest.bin"):
    NAMES += [n for n in os.listdir(dist) if "." in n]
    NAMES += ["microtrain/" + n for n in os.listdir(dist + "/microtrain")]


def forget_modules():
    for module in list(sys.modules):
        if module.split(".")[0] in OURS:
            del sys.modules[module]
    gc.collect()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def run_model():
    """load + predict + learn: the numbers a correct load gives."""
    import microtrain

    m = microtrain.load(name)
    if m.input_dtype == "float32":
        x = array("f", [((i * 37) % 19 - 9) / 10 for i in range(m.input_size)])
    else:
        x = array("b", [(i * 37) % 19 - 9 for i in range(m.input_size)])
    y = 1 % m.n_outputs if m.loss_kind == "softmax_ce" else array("f", [0.5] * m.n_outputs)
    predicted = m.predict(x)
    logits = m.logits()
    loss = m.learn(x, y)
    return (predicted, logits, loss, bytes(m._params))


def traceback_text(err):
    # As bytes, shown as ASCII: a damaged source line in the traceback need not be UTF-8.
    out = io.BytesIO()
    sys.print_exception(err, out)
    return str(bytes(b if 32 <= b < 127 or b == 10 else 63 for b in out.getvalue()), "ascii")


with open(intact_copy, "rb") as f:
    INTACT = f.read()
write(TARGET_PATH, INTACT)
EXPECTED = run_model()
forget_modules()
print("intact", EXPECTED[0], EXPECTED[2])

with open(cases_path, "rb") as cases:
    cases.seek(offset)
    for i in range(first, first + count):
        head = cases.read(4)
        if len(head) < 4:
            break
        data = cases.read(struct.unpack("<I", head)[0])
        print("case", i)
        write(TARGET_PATH, data)
        try:
            got = run_model()
            outcome = "accepted" if got == EXPECTED else "wrong"
            detail = "" if got == EXPECTED else repr(got[:3])
        except MemoryError as err:
            outcome, detail = "memory", traceback_text(err)
        except Exception as err:  # noqa - sorted below: which errors name the file
            text = traceback_text(err)
            named = ("module '%s'" % MODULE) in text or any(n in text for n in NAMES)
            if not named:
                outcome = "unnamed"
            elif isinstance(err, (ValueError, OSError)):
                outcome = "refused"
            else:
                outcome = "other"
            detail = text if outcome == "unnamed" else text.strip().split("\n")[-1]
        err = None
        forget_modules()  # before the result: a crash in it is this case's
        print(i, outcome, " ".join(detail.split()))
write(TARGET_PATH, INTACT)
print("done")
