# SPDX-License-Identifier: MIT
"""The native module's own code on emulated Xtensa cores (qemu-system-xtensa): the forward,
backward, loss and update ops equal the numpy reference bit for bit.

xtensa (ESP8266) runs on qemu's lx106, the ESP8266's core (call0 ABI, no FPU: our soft-float
helpers); xtensawin (ESP32, ESP32-S3; built with LLVM) on de233_fpu, an LX7 with register
windows and a single-precision FPU. The .mpy our linker wrote is relocated as MicroPython's
loader does (tests/xtensa_core.py), so these are the bytes a board runs. The cases are the
Cortex-M tests' (every branch of the shared kernels).
"""

import numpy as np
import pytest

import test_kernels_bwd_cortex_m as bwd
import test_kernels_fwd_cortex_m as fwd
from kernels_fwd_cases import conv_case, fc_case
from microtrain_tools.sim import hostlib
from microtrain_tools.reference import REFERENCE_OPS
from xtensa_core import XTENSA_ARCHES, XtensaCore, module_image


class XtensaOps(XtensaCore):
    run_op = fwd.CortexM.run_op  # place args and buffers, call mt_op_run, copy written back


@pytest.fixture(scope="module", params=XTENSA_ARCHES)
def machine(request):
    core = XtensaOps(request.param, module_image(request.param))
    yield core
    core.close()


def check_cases(machine, cases, inside_window=None):
    """Each case's buffers equal numpy's; inside_window (a fraction): at least that many of
    each case's int8 outputs (the last buffer) are off the int8 clamp, so that every
    accumulator's exact value shows."""
    ids = hostlib.op_ids()
    for name, args, bufs in cases:
        got = [b.copy() for b in bufs]
        status = machine.run_op(ids[name], args, got)
        where = f"{name} on {machine.arch}"
        assert status == 0, f"{where}: status {status} ({hostlib.status_message(status)})"
        ref = [b.copy() for b in bufs]
        REFERENCE_OPS[name](args, ref)
        for i, (g, r) in enumerate(zip(got, ref)):
            assert g.tobytes() == r.tobytes(), f"{where}: buffer {i} differs from numpy"
        if inside_window is not None:
            out = ref[-1]
            assert np.mean((out > -128) & (out < 127)) >= inside_window, f"{where}: clamped"


def mac16_forward_cases():
    """Shapes the ESP32 module's MAC16 forward rows take (mt_xt_s8_rows_fit: c_in a multiple of
    4, up to 1020; c_out past one call's 64 rows) and the first c_in that does not (1024), at scales that keep most outputs inside
    int8: the portable cases above mostly miss that path or land on the clamp."""
    rng = np.random.default_rng(12)

    def scales(c_in):  # |acc| is about sqrt(c_in) * 6000 for random int8 data
        s = 40.0 / (np.sqrt(c_in) * 6000.0)
        return (s / 2, s)

    # c_out past 64 (MT_XT_ROWS_MAX): the rows in two calls.
    for c_in, c_out, stride, h in ((8, 5, (1, 1), 3), (12, 3, (2, 2), 5), (4, 1, (1, 2), 2),
                                   (8, 66, (1, 1), 2)):
        yield "mt_pwconv2d_s8_fwd", *conv_case(rng, k=(1, 1), padding="valid", h=h, w=4,
                                               c_in=c_in, c_out=c_out, stride=stride,
                                               scale_range=scales(c_in), bias_range=300)
    for n, c_in, c_out in ((3, 32, 9), (1, 1020, 4), (2, 1024, 3), (1, 24, 1), (2, 16, 131)):
        yield "mt_fc_s8_fwd", *fc_case(rng, n=n, in_shape=(1, 1, c_in), c_out=c_out,
                                       scale_range=scales(c_in), bias_range=300)


def test_forward_ops_equal_numpy(machine):
    check_cases(machine, ((name, args, bufs) for name, (args, bufs) in fwd.cases()))
    # A refusal comes back as a status, as on the host.
    args, bufs = fwd.conv_case(np.random.default_rng(0))
    args[17] = 5
    assert machine.run_op(hostlib.op_ids()["mt_conv2d_s8_fwd"], args, bufs) == 2


def test_mac16_forward_rows_equal_numpy(machine):
    """(On the ESP8266 module these run the portable code: the same cases, other branches.)"""
    check_cases(machine, mac16_forward_cases(), inside_window=0.3)


def test_requant_at_every_shift_and_edge(machine):
    """mt_requant_s8 through fc (64-bit products: mulsh/muluh on ESP32, soft on ESP8266)."""
    fwd.check_requant(machine)
    if machine.arch == "xtensawin":
        assert machine.emulated > 0  # the high multiplies did run (in the handler)


def test_backward_ops_equal_numpy(machine):
    check_cases(machine, bwd.cases())
