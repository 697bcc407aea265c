# SPDX-License-Identifier: MIT
"""Whole training programs on every board code path equal the host simulation byte for byte.

The digits demo, the HAR example, the paper's mcunet-5fps ("49kb" scheme) and a converter-made
TFLite model with a requantizing MEAN (tests/program_models.py) are compiled with
in-place convolutions (the default) and run step by step (predict, learn, learn, ...) by the
executor built with the module's flags for each arch: Cortex-M0 (Thumb-1, soft float),
Cortex-M4 (DSP kernels, single FPU), the Cortex-M7 build of armv7emdp (DSP kernels, hard float),
RV32 (tests/program_emulator.py, unicorn), x64 at -Os (natively: its best SIMD level, AVX2 on
this machine, and builds capped at SSE4.1 and at the portable C; tests/x64_levels.py), and the
ESP8266 and ESP32 modules themselves on qemu's lx106 and de233_fpu (tests/xtensa_core.py). After
every step the output region (logits, loss) and the trainable parameters must equal
simulate.HostModel's.

The same programs compiled without in-place convolutions run on the DSP cores too: they check the
executor and kernels apart from the in-place plan (compiler/inplace.py finds safe overlaps by
running the host's kernels; a kernel reading in another order on a board breaks them).
"""

import copy

import numpy as np
import pytest

from microtrain_tools.sim import hostlib
from microtrain_tools.formats.program import BufRef, Region, encode_program
from microtrain_tools.sim.simulate import HostModel, op_names
from program_emulator import (CORES, N_REGIONS, X64_BUILDS, ProgramFailed, board_model,
                              build_program_image)
from program_models import MODELS, model_case

ARCHES = (*X64_BUILDS, *CORES)
DSP_CORES = ("armv7emsp", "armv7emdp")
# mcunet learns for about 1 s a step on an emulated M4 and 8 s on the M0: three steps suffice.
STEPS = {"digits": ("predict", "learn", "learn", "predict", "learn"),
         "har": ("predict", "learn", "learn", "predict", "learn"),
         "mcunet": ("predict", "learn", "learn"),
         "tflite_mean": ("predict", "learn", "learn", "predict", "learn")}
# qemu's de233_fpu traps every mulsh/muluh (run in software, tests/xtensa_driver.py) and
# spills register windows often: mcunet takes ~16 s a step there, so it runs the first two.
SHORT_RUNS = {("xtensawin", "mcunet"): 2}


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """image(arch): the executor built for arch, once per module."""
    built = {}

    def get(arch):
        if arch not in built:
            built[arch] = build_program_image(arch, tmp_path_factory.mktemp(arch))
        return built[arch]

    return get


@pytest.fixture(scope="module")
def model():
    """model(name, in_place) -> (ModelCase, Compiled), each made once per module."""
    cases, compiled = {}, {}

    def get(name, in_place):
        if name not in cases:
            cases[name] = model_case(name, len(STEPS[name]))
        if (name, in_place) not in compiled:
            compiled[name, in_place] = cases[name].compile(in_place)
        return cases[name], compiled[name, in_place]

    return get


def first_difference(a: bytes, b: bytes) -> str:
    diff = np.flatnonzero(np.frombuffer(a, np.uint8) != np.frombuffer(b, np.uint8))
    return f"{diff.size} of {len(a)} bytes differ, the first at byte {diff[0]}"


def check_steps(arch, name, image, case, compiled):
    host = HostModel(compiled)
    board = board_model(arch, image, compiled)
    start = host.params.tobytes()
    for i, step in enumerate(STEPS[name][: SHORT_RUNS.get((arch, name))]):
        x, y = case.xs[i], case.ys[i]
        if step == "predict":
            host.predict(x)
            board.predict(x)
        else:
            host.learn(x, y)
            board.learn(x, y)
        where = (f"{name} on {arch}, step {i} ({step}; tests/program_instructions.py {name} "
                 f"--cores {arch} names the first op that differs)")
        assert board.out == host.out.tobytes(), (
            f"{where}: output (logits, loss) {np.frombuffer(board.out, np.float32)} "
            f"differs from the host's {host.out}")
        want = host.params.tobytes()
        assert board.params == want, (
            f"{where}: params differ from the host's: {first_difference(board.params, want)}")
        assert board.guards_intact(), f"{where}: a kernel wrote outside the arena"
    assert host.guards_intact()
    assert host.params.tobytes() != start, f"{name}: the learn steps changed no parameter"


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("arch", ARCHES)
def test_in_place_programs_equal_host_simulation(arch, name, image, model):
    case, compiled = model(name, True)
    check_steps(arch, name, image(arch), case, compiled)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("arch", DSP_CORES)
def test_programs_without_in_place_equal_host_simulation(arch, name, image, model):
    case, compiled = model(name, False)
    check_steps(arch, name, image(arch), case, compiled)


def writing_into_weights(ops):
    """The ops with the first arena buffer an op writes moved into the frozen weights."""
    ops = copy.deepcopy(ops)
    for op in ops:
        info = hostlib.op_info(op.name)
        for j, ref in enumerate(op.bufs):
            if info.writes_buf(j) and ref.region == Region.ARENA:
                op.bufs[j] = BufRef(Region.WEIGHTS, 0, ref.length)
                return ops
    raise AssertionError("no op writes into the arena")


@pytest.mark.parametrize("arch", ARCHES)
def test_damaged_program_is_refused_before_running(arch, image, model):
    """mt_program_check on the board refuses a program for another op table and a program that
    writes into the frozen weights: nothing runs, the output region stays as it was."""
    _, compiled = model("digits", True)
    board = board_model(arch, image(arch), compiled)
    x = np.zeros(compiled.graph.input.shape, np.float32)
    before = board.out
    good = board.programs["predict"]
    damaged = {"op table hash": (good[:8] + bytes([good[8] ^ 1]) + good[9:],
                                 "corrupt training program"),
               "write into weights": (encode_program(writing_into_weights(compiled.predict),
                                                     op_names()), "read-only buffer")}
    for what, (program, refusal) in damaged.items():
        assert len(program) == len(good) and program != good
        board.programs["predict"] = program
        with pytest.raises(ProgramFailed, match=refusal):
            board.predict(x)
        assert board.out == before, f"{what}: the program ran"
    board.programs["predict"] = good
    board.predict(x)
    assert board.out != before


# Thumb-1 (with its 32-bit bl) and RISC-V C: the M4's IT blocks would differ by design, as
# unicorn calls no code hook for an instruction whose condition fails; the count includes it,
# as the core spends a cycle on it (and qemu's -icount, bench/cortex_m.py, counts it).
@pytest.mark.parametrize("arch", ("armv6m", "rv32imc"))
def test_instruction_count_equals_a_hook_per_instruction(arch, image, model):
    """tests/program_instructions.py counts per executed block, decoding the instruction
    lengths (Thumb, RISC-V compressed): it must equal a hook called for every instruction."""
    import unicorn

    _, compiled = model("digits", True)
    board = board_model(arch, image(arch), compiled)
    board.predict(np.zeros(compiled.graph.input.shape, np.float32))  # places x and the regions
    at, _ = board.program_at["predict"]
    run = ("mt_program_run", at, len(board.programs["predict"]), board.regions_at, N_REGIONS,
           board.failed_at)
    assert board.core.call(*run, count=True) == 0
    seen = [0]

    def each(uc, address, size, _):
        seen[0] += 1

    board.core.uc.hook_add(unicorn.UC_HOOK_CODE, each)
    board.core.uc.ctl_flush_tb()  # blocks translated before the hook would not call it
    assert board.core.call(*run) == 0  # the same input: the same path
    assert board.core.instructions == seen[0] > 10_000
