# SPDX-License-Identifier: MIT
"""Executed instructions per MAC of the benchmarked layers (bench/layers.py) on emulated Xtensa
cores: the .mpy modules themselves (xtensa on qemu's lx106, xtensawin on de233_fpu), loaded
and run by tests/xtensa_core.py. Every output is checked against numpy first.

    .venv/bin/python bench/xtensa.py [--out bench/results/xtensa.md]

Counts come from CCOUNT under qemu's -icount (an exact count of executed instructions); on
de233_fpu each mulsh/muluh, which that core lacks and the harness executes in software, counts
as the one instruction it is on ESP32 and ESP32-S3. Instructions are not cycles: no caches,
flash wait states or pipeline stalls are modelled.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from layers import LAYERS, cases  # noqa: E402

from microtrain_tools.sim import hostlib
from microtrain_tools.reference import REFERENCE_OPS
from test_kernels_xtensa import XtensaOps  # noqa: E402
from xtensa_core import XTENSA_ARCHES, module_image  # noqa: E402

PASSES = ("fwd", "q8_grad_in", "q8_update")  # what a learn step runs (README's M4 table)
CORE_NAMES = {"xtensa": "ESP8266 module on lx106", "xtensawin": "ESP32 module on de233_fpu"}


def measure(arch: str) -> dict:
    """(layer name, pass) -> instructions per MAC, every output checked against numpy."""
    machine = XtensaOps(arch, module_image(arch), ram_size=0x0040_0000)
    machine.counting = True  # every call counts its instructions
    ids = hostlib.op_ids()
    per_mac = {}
    try:
        for layer, pass_, name, args, bufs in cases(LAYERS, PASSES):
            got = [b.copy() for b in bufs]
            machine.reset()
            status = machine.run_op(ids[name], args, got)
            assert status == 0, f"{name} on {arch}: status {status}"
            REFERENCE_OPS[name](args, bufs)
            for i, (g, r) in enumerate(zip(got, bufs)):
                assert g.tobytes() == r.tobytes(), f"{name} on {arch}: buffer {i} differs"
            per_mac[layer.name, pass_] = machine.instructions / layer.macs
    finally:
        machine.close()
    return per_mac


def table(results: dict) -> str:
    head = "| layer | " + " | ".join(f"{CORE_NAMES[a]}: {p}" for a in results
                                     for p in PASSES) + " |"
    rows = [head, "|---|" + "---:|" * (len(results) * len(PASSES))]
    for layer in LAYERS:
        cells = [f"{results[a][layer.name, p]:.2f}" for a in results for p in PASSES]
        rows.append(f"| {layer.name} ({layer.shape_text}) | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="write the markdown table here too")
    ap.add_argument("--arch", choices=XTENSA_ARCHES, action="append")
    args = ap.parse_args(argv)
    results = {arch: measure(arch) for arch in args.arch or XTENSA_ARCHES}
    text = table(results)
    print(text)
    if args.out:
        args.out.write_text("# Executed instructions per MAC on emulated Xtensa cores "
                            "(bench/xtensa.py)\n\n" + __doc__.split("\n\n")[2] + "\n\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
