# SPDX-License-Identifier: MIT
"""The Cortex-M benchmark harness (bench/cortex_m/, bench/cortex_m.py) in qemu: on Cortex-M4
(FPU) and Cortex-M0 (Thumb-1, soft float), every op it benchmarks (forward, f32 and q8
backward, fused QAS update, five layer types), on small shapes, writes the numpy reference's
bytes; two runs count the same instructions; a refusal and an unknown op come back as
statuses. Also: the numpy float32 baseline of `make bench` computes the layers it claims to.

No test here asserts a time: benchmarks are not tests.
"""

import sys

import numpy as np
import pytest

from conftest import ROOT, skip_or_fail
from microtrain_tools.sim import hostlib
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.reference import REFERENCE_OPS
from microtrain_tools.reference import float_layers as FL

sys.path.insert(0, str(ROOT / "bench"))

import cortex_m  # noqa: E402
import numpy_layers  # noqa: E402
from layers import Layer, cases  # noqa: E402

SMALL = (
    Layer("pw", "pwconv2d", 4, 3, 5, 6),
    Layer("dw3", "dwconv2d", 5, 4, 3, 3, k=3),
    Layer("dw7s2", "dwconv2d", 9, 8, 3, 3, k=7, stride=2),
    Layer("conv3s2", "conv2d", 6, 5, 3, 4, k=3, stride=2),
    Layer("fc", "fc", 2, 3, 4, 7),
)


def bad_output_height(args):
    bad = list(args)
    bad[17] += 1  # conv-shaped args: the output height, which no longer follows from the input
    return bad


def written(op, bufs):
    info = hostlib.op_info(op)
    return tuple(j for j in range(len(bufs)) if info.writes_buf(j))


@pytest.fixture(scope="module", params=["m4", "m0"])
def harness_run(request, tmp_path_factory):
    core = request.param
    try:
        cortex_m.find_tools(core)
    except MicrotrainError as err:
        skip_or_fail(str(err))
    small = cases(SMALL)
    harness = [cortex_m.HarnessCase(op, args, bufs, written(op, bufs))
               for _, _, op, args, bufs in small]
    _, _, op, args, bufs = small[0]
    harness.append(cortex_m.HarnessCase(op, bad_output_height(args), [b.copy() for b in bufs]))
    harness.append(cortex_m.HarnessCase("mt_no_such_op", [], []))
    elf = cortex_m.build_image(harness, tmp_path_factory.mktemp(core), core=core, opt="-O2")
    return core, small, [cortex_m.run_image(elf, core=core, timeout=60) for _ in range(2)]


def test_harness_outputs_equal_numpy(harness_run):
    core, small, (run, _) = harness_run
    assert len(run.results) == len(small) + 2
    for (layer, pass_, op, args, bufs), got in zip(small, run.results):
        what = f"{op} ({layer.name}) on Cortex-{core.upper()}"
        assert got.status == 0, f"{what}: status {got.status}"
        ref = [b.copy() for b in bufs]
        REFERENCE_OPS[op](args, ref)
        assert set(got.bufs) == set(written(op, bufs)), f"{what}: buffers read back"
        for j, data in got.bufs.items():
            assert data == ref[j].tobytes(), f"{what}: buffer {j} differs from numpy"
        assert got.instructions > 0, f"{what}: no instructions counted"


def test_harness_statuses(harness_run):
    core, small, (run, _) = harness_run
    _, _, op, args, bufs = small[0]
    status = run.results[-2].status
    assert status > 0, "a bad output shape must come back as a refusal"
    with pytest.raises(MicrotrainError) as host_error:
        hostlib.run_op(op, bad_output_height(args), [b.copy() for b in bufs])
    assert str(host_error.value) == f"{op}: {hostlib.status_message(status)}", (
        f"the Cortex-{core.upper()} and the host refuse the same call differently")
    assert run.results[-1].status == -1, "an op missing from the table must be reported"


def test_harness_counts_are_deterministic(harness_run):
    _, _, (first, second) = harness_run
    assert first.instructions_per_tick > 0
    assert [r.instructions for r in first.results] == [r.instructions for r in second.results]


def _float_model(layer, x, w, g):
    """(y, dx, dw) of the float64 model in numpy_layers' weight layouts."""
    s = (layer.stride, layer.stride)
    if layer.kind == "fc":
        dx, dw, _ = FL.fc_backward(x.reshape(1, -1), w, g.reshape(1, -1))
        return FL.fc_forward(x.reshape(1, -1), w, 0.0), dx, dw
    if layer.kind == "dwconv2d":
        wt = w[None]
        y = FL.dwconv2d_forward(x[None], wt, 0.0, s, layer.pad, layer.out_hw)
        dx, dw, _ = FL.dwconv2d_backward(x[None], wt, g[None], s, layer.pad)
        return y, dx, dw
    wt = w.reshape(layer.c_out, layer.k, layer.k, layer.c_in)
    y = FL.conv2d_forward(x[None], wt, 0.0, s, layer.pad, layer.out_hw)
    dx, dw, _ = FL.conv2d_backward(x[None], wt, g[None], s, layer.pad)
    return y, dx, dw


@pytest.mark.parametrize("layer", SMALL, ids=lambda ly: ly.name)
def test_numpy_baseline_computes_the_layer(layer):
    x, w, g = numpy_layers.tensors(layer, np.random.default_rng(3))
    got = [fn() for fn in numpy_layers.numpy_passes(layer, x, w, g)]
    want = _float_model(layer, x, w, g)
    for pass_, a, b in zip(numpy_layers.PASSES, got, want):
        a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
        assert a.shape == b.shape, f"{layer.name} {pass_}: {a.shape} vs {b.shape}"
        assert np.allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max()), (
            f"{layer.name} {pass_}: numpy float32 baseline differs from the float64 model")


def test_parse_output_reads_counts_and_refuses_garbage():
    text = ("calib 2000000 50000\noverhead 1\ncase 0 0 101\nbuf 0 2 0a0b\nbuf 0 2 0c\n"
            "buf 0 3 \nqemu-system-arm: warning: something qemu says\nend\n")
    run = cortex_m.parse_output(text)
    assert run.instructions_per_tick == 40
    (only,) = run.results
    assert (only.status, only.ticks, only.instructions) == (0, 100, 4000)
    assert only.bufs == {2: b"\x0a\x0b\x0c", 3: b""}
    with pytest.raises(MicrotrainError, match="unexpected line"):
        cortex_m.parse_output(text.replace("end\n", "garbage\nend\n"))
    with pytest.raises(MicrotrainError, match="no calibration"):
        cortex_m.parse_output("case 0 0 1\nend\n")


def test_pytorch_side_gets_the_papers_sparse_scheme():
    """bench/host_vs_pytorch.py hands PyTorch the same layers and the same updated parts: the
    bias of every policy bias layer, the first k input channels of each weight update."""
    import host_vs_pytorch
    from microtrain_tools.importers.paper_models import load_paper_model, paper_policy
    from shared_data import shared_data

    folder = shared_data("paper_models")
    graph = load_paper_model("mcunet-5fps", path=folder / "mcunet-5fps.pkl")
    policy = paper_policy("mcunet-5fps", "49kb", graph)
    spec = host_vs_pytorch.graph_spec(graph, policy)
    assert [ly["name"] for ly in spec["layers"]] == [ly.name for ly in graph.layers]
    assert spec["bias_layers"] == policy.bias_layers and len(spec["bias_layers"]) == 21
    k = {w["layer"]: w["k"] for w in spec["weights"]}
    assert k == {"conv24": 12, "conv27": 24, "conv30": 24, "head": 160}, k
    conv0 = spec["layers"][0]
    assert (conv0["c_in"], conv0["c_out"], conv0["stride"], conv0["padding"]) == (3, 16, [2, 2],
                                                                                  [1, 1])
    assert spec["input_shape"] == [128, 128, 3] and spec["classes"] == 10
