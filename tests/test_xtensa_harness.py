# SPDX-License-Identifier: MIT
"""The emulated-Xtensa harness itself (tests/xtensa_core.py, xtensa_driver.py): the software
mulsh/muluh that stand in for de233_fpu's missing MUL32_HIGH, exact instruction counts, and
faults and runtime calls reported instead of hanging."""

import numpy as np
import pytest

from xtensa_core import XTENSA_ARCHES, EmulatorFault, XtensaCore, module_image

from microtrain_tools.sim.simulate import op_names


@pytest.fixture(scope="module", params=XTENSA_ARCHES)
def core(request):
    machine = XtensaCore(request.param, module_image(request.param))
    yield machine
    machine.close()


def test_mul32_high_in_software_equals_the_64_bit_product():
    """de233_fpu has no mulsh/muluh; the driver's handler executes the ESP32 module's."""
    core = XtensaCore("xtensawin", module_image("xtensawin"))
    edges = [0, 1, 2, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0x80000001,
             0xFFFFFFFF, 0xFFFF0000, 0x12345678]
    rng = np.random.default_rng(3)
    pairs = [(a, b) for a in edges for b in edges]
    pairs += [tuple(int(v) for v in rng.integers(0, 1 << 32, 2)) for _ in range(60)]
    for a, b in pairs:
        sa, sb = (a - (1 << 32) if a >> 31 else a), (b - (1 << 32) if b >> 31 else b)
        assert core.call_driver("probe_mulsh", a, b) == ((sa * sb) >> 32) & 0xFFFFFFFF, (a, b)
        assert core.call_driver("probe_muluh", a, b) == (a * b) >> 32, (a, b)
    assert core.emulated == 1
    core.close()


def test_instruction_counts_are_exact(core):
    """calibrate(n) runs 2n + 2 (windowed: entry ... retw) or 2n + 1 (call0: ... ret)."""
    own = 2 if core.arch == "xtensawin" else 1
    for n in (1, 7, 5000):
        core.symbols["calibrate"] = core.labels["calibrate"]
        core.call("calibrate", n, count=True)
        assert core.instructions == 2 * n + own


def test_a_fault_names_its_cause_and_the_core_stays_usable(core):
    bad = core.place(bytes(16))  # zeros: an illegal instruction on both cores
    core.symbols["zeros"] = bad
    with pytest.raises(EmulatorFault, match="illegal instruction at pc"):
        core.call("zeros")
    assert core.call("mt_op_count") == len(op_names())  # the host library's table


def test_a_call_into_the_micropython_runtime_is_caught(core):
    with pytest.raises(EmulatorFault, match="called into the MicroPython runtime"):
        core.call("mt_int", 5)  # makes a MicroPython int: mp_fun_table's native_to_obj
    assert core.call("mt_op_count") == len(op_names())  # the host library's table
