# SPDX-License-Identifier: MIT
"""In-place convolutions are right on every code path: each offset the compiler's contract
model (compiler/inplace.py) accepts gives, with the output overlapping the input, the bytes of
the run on separate buffers and of the numpy reference, on the x64 host library (at each SIMD
level: portable, SSE4.1, AVX2), Cortex-M0
(portable C, Thumb-1), Cortex-M4 (the DSP paths: shifts <= -2; the portable ones: shifts above
-2) and RV32. The emulated cores run tiny shapes of every class the compiler emits and a sample
of mcunet's real in-place ops; the host runs every in-place op of the digits demo and of
mcunet-5fps "49kb" at its planned offset."""

import numpy as np
import pytest

from kernels_fwd_cases import conv_case, random_requant
from microtrain_tools.compiler import compile_model
from microtrain_tools.compiler.inplace import (
    CONV_OPS,
    PIXEL_STEPS,
    _candidates,
    contract_check,
    conv_shape,
    overlap_safe,
    safe_deltas,
    step_times,
)
from microtrain_tools.formats.program import Region
from microtrain_tools.reference import REFERENCE_OPS
from overlap_runner import X, Y, EmulatedCore, run_host
from x64_levels import x64_level  # noqa: F401 (a fixture)

PW, CONV, DW = "mt_pwconv2d_s8_fwd", "mt_conv2d_s8_fwd", "mt_dwconv2d_s8_fwd"
ARCHES = ("armv6m", "armv7emsp", "rv32imc")

# The shape classes the compiler may emit, tiny: (op, conv_case keywords).
CLASSES = (
    (PW, dict(h=3, w=3, c_in=5, c_out=12)),  # expansion, odd pixels, c_in not 4k
    (PW, dict(h=3, w=5, c_in=12, c_out=6)),  # projection
    (PW, dict(h=3, w=3, c_in=6, c_out=7)),  # odd c_out: the per-pixel path everywhere
    (PW, dict(n=2, h=1, w=3, c_in=9, c_out=4)),  # batch 2, pairs across the images
    (PW, dict(h=2, w=4, c_in=8, c_out=8)),
    (PW, dict(h=5, w=5, c_in=8, c_out=6, stride=(2, 2))),
    (CONV, dict(h=8, w=8, c_in=3, c_out=8, stride=(2, 2))),
    (CONV, dict(h=5, w=4, c_in=2, c_out=3)),
    (CONV, dict(h=3, w=3, c_in=6, c_out=10, k=(1, 1), padding="valid")),  # -> pwconv2d
    (DW, dict(h=6, w=5, c_in=6)),  # 3x3: a group of 4 and 2 single channels on the M4
    (DW, dict(h=7, w=6, c_in=9, stride=(2, 2))),
    (DW, dict(n=2, h=6, w=5, c_in=7, padding="valid")),
    (DW, dict(h=6, w=6, c_in=4, k=(5, 5))),
    (DW, dict(h=9, w=8, c_in=5, k=(7, 7), stride=(2, 2))),
    # The x64 paths' blocks: pointwise rows in 8s past one vector of c_in, depthwise channels
    # in groups of 16 and 8.
    (PW, dict(h=3, w=3, c_in=17, c_out=9)),
    (PW, dict(h=3, w=3, c_in=16, c_out=24)),
    (DW, dict(h=5, w=4, c_in=25)),
)
# Requantization that takes the Cortex-M4's DSP paths (every shift <= -2) or the portable
# ones (scales from 0.3: shifts above -2).
QUANTS = ("dsp", "portable")


def class_args(op, kw):
    kw = dict(kw)
    if op != CONV or kw.get("k") != (1, 1):
        kw.setdefault("k", (1, 1) if op == PW else (3, 3))
    if op == PW:
        kw["padding"] = "valid"
    args, _ = conv_case(np.random.default_rng(0), depthwise=op == DW, **kw)
    return args


def random_bufs(rng, name, args, quant):
    """Buffers for the op's args. Portable: scales 0.3-2 and about 3 taps of +-1 per output,
    so outputs land inside int8 (a hazard shows as a changed byte, not a clamped one)."""
    s = conv_shape(name, args)
    taps = s.k_h * s.k_w * (1 if s.depthwise else s.c_in)
    f_size = int(np.prod(args[12:16]))
    if quant == "dsp":
        mult, shift = random_requant(rng, s.c_out, (1e-4, 0.05))
        filt = rng.integers(-127, 128, f_size).astype(np.int8)
        bias = rng.integers(-2000, 2001, s.c_out).astype(np.int32)
    else:
        mult, shift = random_requant(rng, s.c_out, (0.3, 2.0))
        p = min(1.0, 3.0 / taps)
        filt = rng.choice(np.array([-1, 0, 1], np.int8), f_size, p=[p / 2, 1 - p, p / 2])
        bias = rng.integers(-50, 51, s.c_out).astype(np.int32)
    assert (shift <= -2).all() if quant == "dsp" else (shift > -2).all()
    x = rng.integers(-128, 128, s.n_in).astype(np.int8)
    return [mult, shift, x, filt, bias, np.zeros(s.n_out, np.int8)]


def reference(name, args, bufs):
    ref = [b.copy() for b in bufs]
    REFERENCE_OPS[name](args, ref)
    return ref[Y]


def accepted(name, args):
    """The offsets the compiler may use: every candidate the contract model accepts."""
    safe = contract_check(name, args)
    return [d for d in _candidates(args) if safe(d)]


def overlapping(name, args, delta):
    s = conv_shape(name, args)
    return -s.n_out < delta < s.n_in


def test_every_class_has_an_in_place_offset_and_the_compiler_picks_from_them():
    for op, kw in CLASSES:
        args = class_args(op, kw)
        ok = accepted(op, args)
        assert any(overlapping(op, args, d) for d in ok), (op, kw)
        assert set(safe_deltas(op, tuple(args))) <= set(ok)


@pytest.mark.parametrize("quant", QUANTS)
def test_every_accepted_offset_is_safe_on_the_host(quant, x64_level):
    """Not only the candidates: every overlapping offset the model accepts, byte by byte."""
    rng = np.random.default_rng(1)
    for op, kw in CLASSES:
        args = class_args(op, kw)
        bufs = random_bufs(rng, op, args, quant)
        ref = reference(op, args, bufs)
        assert np.array_equal(run_host(op, args, bufs), ref)
        safe = contract_check(op, args)
        s = conv_shape(op, args)
        deltas = [d for d in range(-s.n_out + 1, s.n_in) if safe(d)]
        assert deltas, (op, kw)
        for d in deltas:
            assert np.array_equal(run_host(op, args, bufs, d), ref), (op, kw, quant, d)


def boundary_offsets(name, args):
    """The accepted offsets nearest to 0 on each side (the tightest overlaps)."""
    safe = contract_check(name, args)
    s = conv_shape(name, args)
    behind = next((d for d in range(0, -s.n_out, -1) if safe(d)), None)
    ahead = next((d for d in range(1, s.n_in) if safe(d)), None)
    return [d for d in (behind, ahead) if d is not None]


@pytest.fixture(scope="module")
def cores(tmp_path_factory):
    """arch -> its EmulatedCore, each image built once."""
    built = {}

    def get(arch):
        if arch not in built:
            built[arch] = EmulatedCore(arch, tmp_path_factory.mktemp(arch))
        return built[arch]

    return get


@pytest.fixture(params=ARCHES)
def core(request, cores):
    return cores(request.param)


def check_on_core(core, name, args, bufs, deltas, what):
    ref = reference(name, args, bufs)
    assert np.array_equal(core.run(name, args, bufs), ref), (core.arch, what)
    for d in deltas:
        got = core.run(name, args, bufs, d)
        assert np.array_equal(got, ref), (core.arch, what, d)


def test_accepted_offsets_are_safe_on_emulated_cores(core):
    rng = np.random.default_rng(2)
    for op, kw in CLASSES:
        args = class_args(op, kw)
        deltas = sorted(set(accepted(op, args) + boundary_offsets(op, args)))
        for quant in QUANTS:
            check_on_core(core, op, args, random_bufs(rng, op, args, quant), deltas,
                          (op, kw, quant))


# -- the programs the compiler builds -------------------------------------------------------

def in_place_ops(compiled):
    """(op, args, offset of the output from the input) of every conv whose output overlaps
    its input in the planned arena, predict and learn."""
    out = set()
    for op in compiled.predict + compiled.learn:
        if op.name not in CONV_OPS:
            continue
        x, y = op.bufs[X], op.bufs[Y]
        if x.region == y.region == Region.ARENA and x.offset < y.offset + y.length and \
                y.offset < x.offset + x.length:
            out.add((op.name, tuple(op.args), y.offset - x.offset))
    return sorted(out)


@pytest.fixture(scope="module")
def digits_ops():
    from demo_graph import digits_demo_compiled

    return in_place_ops(digits_demo_compiled())


@pytest.fixture(scope="module")
def mcunet_ops():
    from microtrain_tools.importers.paper_models import load_paper_model, paper_policy
    from shared_data import shared_data

    folder = shared_data("paper_models")
    graph = load_paper_model("mcunet-5fps", path=folder / "mcunet-5fps.pkl")
    policy = paper_policy("mcunet-5fps", "49kb", graph)
    # The default plan streams the first 17 layers (no in-place op there): the whole-tensor
    # plan (--no-tiling) has the in-place ops of the early layers too.
    ops = set()
    for tiling in ("auto", None):
        ops |= set(in_place_ops(compile_model(graph, policy, input_dtype="int8",
                                              tiling=tiling)))
    return sorted(ops)


def test_compiled_in_place_ops_are_safe_on_the_host(digits_ops, mcunet_ops, x64_level):
    # digits: 2 since its clamps read bit masks (its activations die sooner)
    assert len(digits_ops) >= 2 and len(mcunet_ops) >= 25
    assert {name for name, _, _ in mcunet_ops} == {PW, DW}
    rng = np.random.default_rng(3)
    for name, args, delta in digits_ops + mcunet_ops:
        assert contract_check(name, args)(delta)
        for quant in QUANTS:
            bufs = random_bufs(rng, name, args, quant)
            got = run_host(name, args, bufs, delta)
            assert np.array_equal(got, reference(name, args, bufs)), (name, args, delta)


def mcunet_sample(ops):
    """The smallest of mcunet's in-place ops in MACs of each kind (pointwise expansion and
    projection, depthwise stride 1 and 2): its real ops are too big to emulate them all."""
    def macs(op):
        s = conv_shape(op[0], op[1])
        return s.n * s.out_h * s.out_w * s.c_out * s.k_h * s.k_w * (1 if s.depthwise else s.c_in)

    kinds = {}
    for op in sorted(ops, key=macs):
        s = conv_shape(op[0], op[1])
        kind = (op[0], s.c_out > s.c_in, s.stride_h)
        kinds.setdefault(kind, op)
    return list(kinds.values())


def test_compiled_in_place_ops_are_safe_on_emulated_cores(core, digits_ops, mcunet_ops):
    sample = mcunet_sample(mcunet_ops)
    assert len(sample) == 4
    rng = np.random.default_rng(4)
    for name, args, delta in digits_ops + sample:
        for quant in QUANTS:
            check_on_core(core, name, args, random_bufs(rng, name, args, quant), [delta],
                          (name, args[8:20], quant))


# -- the bug: x64's order is not every board's order -------------------------------------

def test_model_rejects_an_offset_only_x64_order_allows(cores):
    """One output pixel behind the input is safe pixel by pixel (the host's loop), not for
    the M4's pixel pairs: the model refuses it, and the M4 does get it wrong. (A relu clamp
    takes the M4's C form of the pairs; its widened asm form copies a pair's input before
    writing, which happens to survive this offset, but the contract covers every form.)"""
    args = class_args(PW, dict(h=3, w=3, c_in=8, c_out=8, clamp="relu"))
    shape, delta = conv_shape(PW, args), -8
    assert overlap_safe(shape, delta, *step_times(shape, PIXEL_STEPS))
    assert not contract_check(PW, args)(delta)
    bufs = random_bufs(np.random.default_rng(5), PW, args, "dsp")
    ref = reference(PW, args, bufs)
    assert np.array_equal(run_host(PW, args, bufs, delta), ref)
    assert not np.array_equal(cores("armv7emsp").run(PW, args, bufs, delta), ref)


def old_dsp_order_times(shape):
    """The M4 pointwise loop before the fix: output-channel pairs outermost, pixel pairs
    inside; (write step per output byte, last read step per input byte)."""
    pixels = shape.n * shape.out_h * shape.out_w
    pairs, oc_pairs = pixels // 2, shape.c_out // 2
    pair = np.arange(pixels) // 2
    write = (np.arange(shape.c_out)[None, :] // 2) * pairs + pair[:, None]
    read = (oc_pairs - 1) * pairs + pair
    write[2 * pairs :], read[2 * pairs :] = oc_pairs * pairs, oc_pairs * pairs  # odd last pixel
    return write.reshape(-1), np.repeat(read, shape.c_in)


def test_the_old_dsp_loop_order_breaks_the_offsets_the_compiler_picks():
    """Under the old order (the channel pairs' first pass overwrites input pixels that later
    passes read) the planned pointwise overlaps are all unsafe."""
    checked = 0
    for op, kw in CLASSES:
        args = class_args(op, kw)
        shape = conv_shape(op, args)
        if not shape.pointwise or shape.stride_h != 1 or shape.c_out % 2:
            continue
        for d in safe_deltas(op, tuple(args)):
            assert not overlap_safe(shape, d, *old_dsp_order_times(shape)), (kw, d)
            checked += 1
    assert checked >= 4


def test_line_buffer_shifts_are_safe_at_every_small_offset(core, x64_level):
    """A line-buffer shift (mt_chansel_s8_fwd, every channel) copies 4 bytes a step on cores
    that load words anywhere: an output 0..9 bytes before its input, and one far before, on
    lengths that are and are not multiples of 4, equals the plain copy on every core."""
    from overlap_runner import run_host

    rng = np.random.default_rng(9)
    for dims in ((1, 1, 3, 12), (1, 2, 3, 7), (1, 1, 1, 5)):
        count = int(np.prod(dims))
        x = rng.integers(-128, 128, count, dtype=np.int8)
        bufs = [x, np.zeros(0, np.int32), np.zeros(count, np.int8)]
        args = [*dims, dims[3]]
        for delta in (*range(-9, 1), -count - 3):
            assert np.array_equal(run_host("mt_chansel_s8_fwd", args, bufs, delta, (0, 2)), x)
            got = core.run("mt_chansel_s8_fwd", args, bufs, delta, (0, 2))
            assert np.array_equal(got, x), (core.arch, dims, delta)
