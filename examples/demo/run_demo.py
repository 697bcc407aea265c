# SPDX-License-Identifier: MIT
"""`make demo`: the whole microtrain path on the unix port of MicroPython.

1. pretrain a small CNN on scikit-learn's digits 0-5 (host, seeded: examples/demo/pretrain.py)
2. quantize it to an int8 graph (post-training quantization, calibration on the pretraining data)
3. choose a sparse update policy and compile the training program (compile-time autodiff)
4. pack it for the `unix` board (model .mpy + _microtrain.mpy + microtrain package)
5. in .venv/bin/micropython: evaluate on all ten digits, learn on the device from samples of all
   ten (four classes it has never seen), evaluate again; report memory and time per step
6. check that the device's learned parameters equal the host simulation's, byte for byte
"""

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pretrain  # noqa: E402
from microtrain_tools.boards import load_board  # noqa: E402
from microtrain_tools.compiler import compile_model  # noqa: E402
from microtrain_tools.compiler.memory import format_plans, memory_plan  # noqa: E402
from microtrain_tools.int8_graph import save_graph  # noqa: E402
from microtrain_tools.micropython_runner import run_script  # noqa: E402
from microtrain_tools.pack import make_bundle, pack  # noqa: E402
from microtrain_tools.policy import Optimizer, make_policy, save_policy  # noqa: E402
from microtrain_tools.quantize import format_report, quantize  # noqa: E402
from microtrain_tools.simulate import HostModel  # noqa: E402

EPOCHS = 2

DEVICE_SCRIPT = """
import gc, time, binascii
from array import array
gc.collect()
free_before = gc.mem_alloc()
import microtrain
m = microtrain.load("digits")
gc.collect()
loaded = gc.mem_alloc() - free_before

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
print("device: accuracy before %.4f" % m.evaluate(test_x, test_y))
t0 = time.ticks_us()
steps = 0
for epoch in range(EPOCHS):
    total = 0.0
    for i in range(len(train_x)):
        total += m.learn(train_x[i], train_y[i])
        steps += 1
    print("device: epoch %d mean loss %.4f" % (epoch + 1, total / len(train_x)))
elapsed = time.ticks_diff(time.ticks_us(), t0)
print("device: accuracy after %.4f" % m.evaluate(test_x, test_y))
print("device: %.3f ms per learn step (%d steps)" % (elapsed / steps / 1000, steps))
mem = m.memory()
print("device: RAM held by the model: arena %d + trainable %d + io %d = %d bytes"
      % (mem["arena"], mem["params"], mem["io"], mem["arena"] + mem["params"] + mem["io"]))
print("device: heap used by load (incl. module objects and the bundle's bytes): %d bytes"
      % loaded)
m.save("digits.state")
print("params", binascii.hexlify(bytes(m._params)).decode())
"""


def write_samples(path, x, y):
    with open(path, "wb") as f:
        for xi, yi in zip(x, y):
            f.write(np.ascontiguousarray(xi, "<f4").tobytes() + int(yi).to_bytes(4, "little"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", default="build/demo", help="work folder")
    ap.add_argument("--epochs", type=int, default=EPOCHS, help="on-device epochs")
    args = ap.parse_args(argv)
    out = Path(args.out)
    dist = (out / "dist").resolve()
    shutil.rmtree(dist, ignore_errors=True)
    t_start = time.perf_counter()

    print("== 1. pretrain on digits 0-5 (host, float)")
    model = pretrain.pretrain(log=None)
    (xtr, ytr), (xte, yte) = pretrain.digits_split()
    xc, _ = pretrain.only(xtr, ytr, pretrain.PRETRAIN_CLASSES)

    print("== 2. quantize to int8")
    xo, yo = pretrain.only(xte, yte, pretrain.PRETRAIN_CLASSES)
    graph, report = quantize(model, xc[:200], eval_data=(xo, yo))
    print(format_report(report))
    out.mkdir(parents=True, exist_ok=True)
    save_graph(graph, out / "digits_cnn.mtg")

    print("== 3. sparse update policy and training program")
    policy = make_policy(
        graph, bias_last_n=3,
        weights=[("head", 1.0, "first_k"), ("project", 0.5, "largest_norm")],
        optimizer=Optimizer(lr=0.05, momentum=0.0, rounding="stochastic"),
        note="demo: biases of the last 3 layers, head weights, half of project's channels")
    save_policy(policy, out / "policy.json")
    compiled = compile_model(graph, policy)
    plan = memory_plan(compiled)
    print(format_plans({"demo policy": plan}))

    print("== 4. pack for the unix port")
    pack(make_bundle(compiled, "digits"), load_board("unix"), dist, log=print)
    write_samples(dist / "train.bin", xtr, ytr)
    write_samples(dist / "test.bin", xte, yte)
    (dist / "demo_device.py").write_text(f"EPOCHS = {args.epochs}\n" + DEVICE_SCRIPT)

    print(f"== 5. on-device learning in micropython: {len(xtr)} samples x {args.epochs} "
          f"epochs of all ten digits, tested on {len(xte)} held-out samples")
    result = run_script(dist / "demo_device.py", path=[dist], cwd=dist, timeout=300).check()
    lines = result.stdout.strip().splitlines()
    for line in lines:
        if not line.startswith("params"):
            print(line)

    print("== 6. host simulation of the same run")
    host = HostModel(compiled)
    for _ in range(args.epochs):
        for xi, yi in zip(xtr, ytr):
            host.learn(xi, int(yi))
    device_params = lines[-1].split()[1]
    same = device_params == host.params.tobytes().hex()
    print(f"host: accuracy after {host.evaluate(xte, yte):.4f}; device parameters "
          f"{'equal' if same else 'DIFFER FROM'} the host simulation's, byte for byte")
    print(f"plan: training memory {plan.learn_total:,} bytes (arena {plan.arena_learn:,} + "
          f"trainable {plan.state_total:,} + io {plan.io}); device holds "
          f"{lines[-3].split('=')[-1].strip()}")
    print(f"demo finished in {time.perf_counter() - t_start:.1f} s")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
