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


sys.path.insert(0, str(Path(__file__).resolve().parent))

import demo_model  # noqa: E402
from microtrain_tools.compiler import compile_model
from microtrain_tools.compiler.memory import format_plans, memory_plan
from microtrain_tools.formats.int8_graph import save_graph
from microtrain_tools.policy.definition import save_policy
from microtrain_tools.quantize.ptq import format_report
from microtrain_tools.sim.simulate import HostModel
from microtrain_tools.device.unix_session import learn_on_unix_port

EPOCHS = 3

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", default="build/demo", help="work folder")
    ap.add_argument("--epochs", type=int, default=EPOCHS, help="on-device epochs")
    ap.add_argument("--curve", help="learning curve CSV, its plot beside it as .png "
                    "[OUT/curve.csv]")
    args = ap.parse_args(argv)
    out = Path(args.out)
    dist = (out / "dist").resolve()
    shutil.rmtree(dist, ignore_errors=True)
    t_start = time.perf_counter()

    print("== 1-2. pretrain on digits 0-5 (host, float), quantize to int8")
    graph, report = demo_model.quantized_graph(log=lambda msg: print("  " + msg, flush=True))
    (xtr, ytr), (xte, yte) = demo_model.data()
    print(format_report(report))
    out.mkdir(parents=True, exist_ok=True)
    save_graph(graph, out / "digits_cnn.mtg")

    print("== 3. sparse update policy and training program")
    policy = demo_model.demo_policy(graph)
    save_policy(policy, out / "policy.json")
    compiled = compile_model(graph, policy)
    plan = memory_plan(compiled)
    print(format_plans({"demo policy": plan}))

    print(f"== 4-5. pack for the unix port; learn in micropython: {len(xtr)} samples x "
          f"{args.epochs} epochs of all ten digits, tested on {len(xte)} held-out samples")
    r = learn_on_unix_port(compiled, "digits", (xtr, ytr), (xte, yte), args.epochs, dist)
    curve_csv, curve_png = r.curve.write(args.curve or out / "curve.csv",
                                         title="make demo: digits, learned in micropython")
    print(f"device: accuracy before {r.accuracy_before:.4f}")
    for i, loss in enumerate(r.epoch_losses):
        print(f"device: epoch {i + 1} mean loss {loss:.4f}")
    print(f"device: accuracy after  {r.accuracy_after:.4f}")
    print(f"device: {r.us_per_step / 1000:.3f} ms per learn step")
    print(f"device: RAM the model holds: arena {r.arena:,} + trainable {r.params_bytes:,} + "
          f"io {r.io} = {r.arena + r.params_bytes + r.io:,} bytes (heap used by load, incl. "
          f"the bundle's bytes and module objects: {r.heap_used_by_load:,})")
    print(f"device: learning curve in {curve_csv} and {curve_png}")

    print("== 6. host simulation of the same run")
    host = HostModel(compiled)
    for _ in range(args.epochs):
        for xi, yi in zip(xtr, ytr):
            host.learn(xi, int(yi))
    same = r.params_hex == host.params.tobytes().hex()
    print(f"host: accuracy after {host.evaluate(xte, yte):.4f}; device parameters "
          f"{'equal' if same else 'DIFFER FROM'} the host simulation's, byte for byte")
    device_total = r.arena + r.params_bytes + r.io
    print(f"plan: training memory {plan.learn_total:,} bytes (arena {plan.arena_learn:,} + "
          f"trainable {plan.state_total:,} + io {plan.io}); the device holds {device_total:,}"
          f" ({'equal' if device_total == plan.learn_total else 'DIFFERENT'})")
    print(f"demo finished in {time.perf_counter() - t_start:.1f} s")
    return 0 if same and device_total == plan.learn_total else 1


if __name__ == "__main__":
    sys.exit(main())
