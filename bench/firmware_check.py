# SPDX-License-Identifier: MIT
"""By hand, not in CI: a packed model on stock MicroPython firmware under qemu, as a user's board.

CI cannot build MicroPython's firmware (no MicroPython source there; we never commit firmware),
so this is how we check by hand that a board runs what the host proves. Build the firmware of
MicroPython's ports/qemu yourself (1.25+ with ROMFS mounted at /rom: MPS2_AN500 for a Cortex-M7
with a double FPU, MPS2_AN385 for a Cortex-M3, VIRT_RV32; MICROPY_HEAP_SIZE=327680 gives a
320 KB heap), then for example:

    .venv/bin/python bench/firmware_check.py --firmware build-MPS2_AN500/firmware.elf \
        --machine mps2-an500 --board stm32f746 --model digits

What it does, the user's own path: `microtrain pack --romfs` for the board; qemu with the image
at the board's ROMFS partition (so /rom holds the files and the weights are read in place from
flash) and the REPL on a pty; then `microtrain learn --port PTY` (serial_learn.learn_on_board):
accuracy before, epochs of learning, accuracy after. The board's learned parameters are then read
back and compared byte for byte with the host simulation of the same steps in the same order.
With --icount, qemu counts one instruction per nanosecond of the board's clock
(`-icount shift=0`), so time.ticks_us() around learn and predict gives instructions per step.

mcunet (the paper's mcunet-5fps, "49kb" scheme, 128x128x3 int8 input) learns from a few seeded
random images (the memory and the bytes are the point, not accuracy); heap use is printed beside
the plan.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "demo"))

# ROMFS partition of each qemu machine in MicroPython's ports/qemu (its boards' mpconfigboard.mk).
MACHINES = {
    "mps2-an500": ("qemu-system-arm", ["-machine", "mps2-an500"], 0x60C00000),
    "mps2-an385": ("qemu-system-arm", ["-machine", "mps2-an385"], 0x21000000),
    "virt": ("qemu-system-riscv32", ["-machine", "virt", "-bios", "none", "-cpu", "rv32"],
             0x80610000),
}
PTY_LINE = re.compile(rb"char device redirected to (/dev/pts/\d+)")


class Qemu:
    """qemu running a firmware with a ROMFS image loaded, its UART on a pty."""

    def __init__(self, firmware: Path, machine: str, image: Path, icount: bool):
        qemu, args, romfs_at = MACHINES[machine]
        cmd = [qemu, *args, "-display", "none", "-monitor", "none", "-serial", "pty",
               "-semihosting", "-kernel", str(firmware),
               "-device", f"loader,file={image},addr={romfs_at:#x},force-raw=on"]
        if icount:
            cmd += ["-icount", "shift=0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = b""
        deadline = time.monotonic() + 20
        while not PTY_LINE.search(line):
            byte = self.proc.stdout.read(1)
            if not byte or time.monotonic() > deadline:
                raise RuntimeError(f"qemu gave no pty: {line!r}")
            line += byte
        self.pty = PTY_LINE.search(line).group(1).decode()

    def close(self):
        self.proc.kill()
        self.proc.wait()


def board_eval(repl, code: str, timeout: float = 600) -> str:
    out = repl.exec(code, timeout)
    return out.strip()


def heap(repl) -> tuple[int, int]:
    used, free = board_eval(repl, "import gc\ngc.collect()\nprint(gc.mem_alloc(), gc.mem_free())"
                            ).split()
    return int(used), int(free)


def read_params(repl, size: int) -> bytes:
    """The board model's trainable bytes, in hex chunks small enough for any heap."""
    chunks = []
    for at in range(0, size, 1024):
        chunks.append(board_eval(repl, "import binascii\nprint(binascii.hexlify("
                                       f"bytes(_mt_m._params[{at}:{at + 1024}])).decode())"))
    return bytes.fromhex("".join(chunks))


def instructions_per_call(repl, call: str, repeat: int) -> int:
    """With -icount shift=0 the board clock runs 1 ns per instruction: ticks_us * 1000."""
    us = int(board_eval(repl, "import time\nt = time.ticks_us()\n"
                              f"for _ in range({repeat}):\n    {call}\n"
                              "print(time.ticks_diff(time.ticks_us(), t))"))
    return us * 1000 // repeat


def digits_case(epochs: int):
    import demo_model

    (xtr, ytr), (xte, yte) = demo_model.data()
    return "digits", demo_model.compiled(), ("digits train", xtr, ytr), \
        ("digits test", xte, yte), epochs


def mcunet_case(steps: int):
    from microtrain_tools.compiler import compile_model
    from microtrain_tools.importers.paper_models import load_paper_model, paper_policy

    path = ROOT.parent / "shared" / "data" / "paper_models" / "mcunet-5fps.pkl"
    graph = load_paper_model("mcunet-5fps", path=path)
    compiled = compile_model(graph, paper_policy("mcunet-5fps", "49kb", graph),
                             input_dtype="int8")
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (steps, 128 * 128 * 3)).astype(np.int8)
    y = rng.integers(0, 10, steps)
    return "mcunet", compiled, ("random images", x, y), None, 1


def host_replay(compiled, data, epochs: int, shuffle_seed: int = 0):
    """The host simulation of learn_on_board's steps, in its order (same seeded shuffle)."""
    from microtrain_tools.device.learn import prepare_samples
    from microtrain_tools.sim.simulate import HostModel

    source, x, y = data
    host = HostModel(compiled)
    xs, targets, _ = prepare_samples(x, y, source, None, compiled.input_dtype)
    rng = np.random.default_rng(shuffle_seed)
    for _ in range(epochs):
        for i in rng.permutation(len(xs)):
            host.learn(xs[i], targets[i])
    return host


def send_input(repl, x: np.ndarray, chunk: int = 3072) -> None:
    """x into the board's preallocated _xs, a few KB per command (a 320 KB heap cannot compile
    one line holding a 48 KB image)."""
    from microtrain_tools.device.learn import _b64

    raw = np.ascontiguousarray(x).reshape(-1)
    for at in range(0, raw.size, chunk):
        part = raw[at:at + chunk]
        board_eval(repl, f"_xs[{at * raw.itemsize}:{(at + part.size) * raw.itemsize}] = "
                         f"binascii.a2b_base64(b'{_b64(part)}')")


def out_hex(repl, call: str) -> str:
    return board_eval(repl, f"{call}\nprint(binascii.hexlify(bytes(_mt_m._out)).decode())")


def steps_on_board(repl, name, compiled, data) -> list[str]:
    """Predict on the first sample, then learn each (x, y) in order: the output region (logits,
    loss) after each, as hex. The samples go into one preallocated buffer."""
    from microtrain_tools.device.learn import BoardModel

    _, x, y = data
    model = BoardModel(repl, name, timeout=900)
    print(f"board: model {name!r} loaded, memory {model.memory}")
    n = x[0].size
    # One allocation of the input's size (array('b', bytes(n)) would need two).
    buffer = f"bytearray({n})" if compiled.input_dtype == "int8" else f"array('f', [0.0] * {n})"
    board_eval(repl, f"import binascii\nfrom array import array\n_xs = {buffer}")
    send_input(repl, x[0])
    outs = [out_hex(repl, "_mt_m.predict(_xs)")]
    for xi, yi in zip(x, y):
        send_input(repl, xi)
        outs.append(out_hex(repl, f"_mt_m.learn(_xs, {int(yi)}, False)"))
    return outs


def host_steps(compiled, data) -> tuple[list[str], object]:
    from microtrain_tools.sim.simulate import HostModel

    _, x, y = data
    host = HostModel(compiled)
    host.predict(x[0])
    outs = [host.out.tobytes().hex()]
    for xi, yi in zip(x, y):
        host.learn(xi, int(yi))
        outs.append(host.out.tobytes().hex())
    return outs, host


def run_on_board(pty, name, compiled, data, eval_data, epochs, args):
    """Learn on the board: (heap used before, heap free before, used after, params, outputs of
    each step or None)."""
    from microtrain_tools.device.learn import _b64, learn_on_board
    from microtrain_tools.device.link import connect

    with connect(pty) as repl:
        used_before, free_before = heap(repl)
        t0 = time.monotonic()
        outs = None
        if args.model == "mcunet":
            outs = steps_on_board(repl, name, compiled, data)
        else:
            learn_on_board(repl, name, data, epochs=epochs, eval_data=eval_data, timeout=900,
                           log=print)
            first = np.asarray(data[1][0], np.float32).reshape(-1)
            board_eval(repl, f"import binascii\n_xs = _mt_x(b'{_b64(first)}')")
        print(f"board: {time.monotonic() - t0:.0f} s of learning")
        used_after, _ = heap(repl)
        params = read_params(repl, len(compiled.params))
        if args.icount:
            repeat = 2 if args.model == "mcunet" else 20
            learn = instructions_per_call(repl, "_mt_m.learn(_xs, 1, False)", repeat)
            predict = instructions_per_call(repl, "_mt_m.predict(_xs)", repeat)
            print(f"board: {learn:,} instructions per learn step, {predict:,} per predict")
    return used_before, free_before, used_after, params, outs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firmware", required=True, type=Path)
    ap.add_argument("--machine", required=True, choices=sorted(MACHINES))
    ap.add_argument("--board", required=True, help="board file for pack (stm32f746, rp2040...)")
    ap.add_argument("--model", choices=("digits", "mcunet"), default="digits")
    ap.add_argument("--epochs", type=int, default=3, help="digits: epochs of learning")
    ap.add_argument("--steps", type=int, default=2, help="mcunet: learn steps")
    ap.add_argument("--icount", action="store_true", help="count instructions per step")
    args = ap.parse_args(argv)

    from microtrain_tools.bundle.boards import load_board
    from microtrain_tools.compiler.memory import memory_plan
    from microtrain_tools.bundle.pack import make_bundle, pack

    name, compiled, data, eval_data, epochs = (
        digits_case(args.epochs) if args.model == "digits" else mcunet_case(args.steps))
    plan = memory_plan(compiled)
    with tempfile.TemporaryDirectory() as tmp:
        dist = Path(tmp)
        pack(make_bundle(compiled, name), load_board(args.board), dist, log=lambda *a: None,
             romfs=True)
        vm = Qemu(args.firmware, args.machine, dist / "romfs.img", args.icount)
        try:
            board = run_on_board(vm.pty, name, compiled, data, eval_data, epochs, args)
        finally:
            vm.close()
    used_before, free_before, used_after, params, outs = board

    if outs is None:
        host = host_replay(compiled, data, epochs)
    else:
        expected, host = host_steps(compiled, data)
        for i, (got, want) in enumerate(zip(outs, expected)):
            print(f"step {i} ({'predict' if i == 0 else 'learn'}): outputs "
                  f"{'EQUAL' if got == want else 'DIFFER FROM'} the host's")
    same = params == host.params.tobytes() and (outs is None or outs == expected)
    print(f"board: heap {used_before + free_before:,} B; used by the model after learning "
          f"{used_after - used_before:,} B (plan: training memory {plan.learn_total:,} B)")
    if eval_data is not None:
        print(f"host: accuracy after {host.evaluate(*eval_data[1:]):.4f}")
    print(f"board parameters {'EQUAL' if same else 'DIFFER FROM'} the host simulation's "
          f"({len(params):,} bytes)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
