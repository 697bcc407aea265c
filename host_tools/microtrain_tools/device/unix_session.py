# SPDX-License-Identifier: MIT
"""Run on-device learning in the unix port of MicroPython, as a board would, and read back
what happened: accuracy before and after, loss per epoch, time per learn step, RAM, and the
learned parameters (to compare with the host simulation byte for byte).

Samples travel as one binary file per split: for each sample its float32 input values, then
its int32 label, little-endian.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..bundle.boards import load_board
from ..sim.curves import LearningCurve, WindowMeans
from .micropython_runner import run_script
from ..bundle.pack import make_bundle, pack

DEVICE_SCRIPT = """
import gc, time, binascii
from array import array
gc.collect()
heap_before = gc.mem_alloc()
import microtrain
m = microtrain.load(NAME)
gc.collect()
heap_load = gc.mem_alloc() - heap_before

def read(path):
    with open(path, "rb") as f:
        data = f.read()
    step = 4 * m.input_size + 4
    xs, ys = [], []
    for off in range(0, len(data), step):
        xs.append(array("f", data[off:off + 4 * m.input_size]))
        ys.append(int.from_bytes(data[off + 4 * m.input_size:off + step], "little"))
    return xs, ys

train_x, train_y = read("train.bin")
test_x, test_y = read("test.bin")
print("before", m.evaluate(test_x, test_y))
elapsed = 0
steps = 0
for epoch in range(EPOCHS):
    total = 0.0
    for i in range(len(train_x)):
        t0 = time.ticks_us()
        loss = m.learn(train_x[i], train_y[i])
        elapsed += time.ticks_diff(time.ticks_us(), t0)  # the learn step alone
        total += loss
        steps += 1
        z = m.logits()  # of the forward pass before this step's update
        print("step", repr(loss), int(z.index(max(z)) == train_y[i]))
    print("epoch", total / len(train_x))
    print("held_out", m.evaluate(test_x, test_y))
print("after", m.evaluate(test_x, test_y))
print("us_per_step", elapsed / steps)
mem = m.memory()
print("memory", mem["arena"], mem["params"], mem["io"], heap_load)
m.save(NAME + ".state")
print("params", binascii.hexlify(bytes(m._params)).decode())
"""


@dataclass
class SessionResult:
    accuracy_before: float
    accuracy_after: float
    epoch_losses: list
    us_per_step: float
    arena: int
    params_bytes: int
    io: int
    heap_used_by_load: int
    params_hex: str
    curve: LearningCurve = field(default_factory=LearningCurve)


def write_samples(path, x, y) -> None:
    with open(path, "wb") as f:
        for xi, yi in zip(x, y):
            f.write(np.ascontiguousarray(xi, "<f4").tobytes() + int(yi).to_bytes(4, "little"))


def learn_on_unix_port(compiled, name, train, test, epochs, workdir, log=print,
                       timeout=600, curve_every=None) -> SessionResult:
    """Pack `compiled` into workdir, learn on `train` (x, y) for `epochs`, test on `test`.
    The result's curve has a row every `curve_every` steps (default: 20 per epoch), one per
    epoch and the held-out accuracy before learning and after each epoch."""
    workdir = Path(workdir).resolve()
    pack(make_bundle(compiled, name), load_board("unix"), workdir, log=log)
    write_samples(workdir / "train.bin", *train)
    write_samples(workdir / "test.bin", *test)
    script = workdir / "session.py"
    script.write_text(f"NAME = {name!r}\nEPOCHS = {int(epochs)}\n" + DEVICE_SCRIPT)
    # the unix port's default heap is 2 MB; the samples of a session need more
    out = run_script(script, path=[workdir], cwd=workdir, timeout=timeout,
                     heapsize="64M").check().stdout
    fields = {}
    losses = []
    curve = LearningCurve()
    window = WindowMeans(curve, curve_every or max(1, len(train[1]) // 20))
    for line in out.strip().splitlines():
        key, _, rest = line.partition(" ")
        if key == "step":
            loss, ok = rest.split()
            window.add(len(losses) + 1, float(loss), ok == "1")
        elif key == "epoch":
            losses.append(float(rest))
            window.end_epoch(len(losses))
        elif key == "held_out":
            curve.add("held_out", len(losses), window.step, None, float(rest))
        else:
            fields[key] = rest
        if key == "before":
            curve.add("held_out", 0, 0, None, float(rest))
    arena, params, io, heap = (int(v) for v in fields["memory"].split())
    return SessionResult(
        accuracy_before=float(fields["before"]),
        accuracy_after=float(fields["after"]),
        epoch_losses=losses,
        us_per_step=float(fields["us_per_step"]),
        arena=arena,
        params_bytes=params,
        io=io,
        heap_used_by_load=heap,
        params_hex=fields["params"],
        curve=curve,
    )
