# SPDX-License-Identifier: MIT
"""mt_clampmask_s8_fwd and mt_clampmask_{f32,q8}_grad_in: C equals the numpy reference, and
the gradient from the mask equals mt_clamp_{s8,q8}_grad_in's from the saved output."""

import numpy as np
import pytest

from microtrain_tools.sim import hostlib
from microtrain_tools.errors import MicrotrainError
from microtrain_tools.reference import REFERENCE_OPS


def sample(seed):
    rng = np.random.default_rng(seed)
    h, w, c = (int(v) for v in rng.integers(1, 9, 3))
    act_min = int(rng.integers(-128, 0))
    act_max = int(rng.integers(act_min, 128))
    # Many values on and next to the bounds: the kinks are where a wrong test shows.
    pool = np.array([act_min, act_min + 1, act_max - 1, act_max, -128, 127, 0])
    y = np.where(rng.random(h * w * c) < 0.5, rng.choice(pool, h * w * c),
                 rng.integers(-128, 128, h * w * c)).astype(np.int8)
    return [1, h, w, c], act_min, act_max, y, rng


@pytest.mark.parametrize("seed", range(8))
def test_mask_pack_equals_reference(seed):
    dims, act_min, act_max, y, _ = sample(seed)
    n = (y.size + 7) // 8
    c_mask = np.full(n, -1, np.int8)
    ref_mask = np.full(n, -1, np.int8)
    args = [act_min, act_max, *dims]
    hostlib.run_op("mt_clampmask_s8_fwd", args, [y, c_mask])
    REFERENCE_OPS["mt_clampmask_s8_fwd"](args, [y, ref_mask])
    assert c_mask.tobytes() == ref_mask.tobytes()
    bits = np.unpackbits(c_mask.view(np.uint8), bitorder="little")
    assert not bits[y.size:].any(), "bits past the last value must be 0"


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("kind", ("f32", "q8"))
def test_mask_gradient_equals_clamp_from_output(seed, kind):
    dims, act_min, act_max, y, rng = sample(seed)
    mask = np.zeros((y.size + 7) // 8, np.int8)
    hostlib.run_op("mt_clampmask_s8_fwd", [act_min, act_max, *dims], [y, mask])
    if kind == "f32":
        grad = rng.standard_normal(y.size).astype(np.float32)
    else:
        grad = rng.integers(-128, 128, y.size).astype(np.int8)
    from_output, from_mask, reference = grad.copy(), grad.copy(), grad.copy()
    out_op = "mt_clamp_s8_grad_in" if kind == "f32" else "mt_clamp_q8_grad_in"
    hostlib.run_op(out_op, [act_min, act_max, *dims], [y, from_output])
    hostlib.run_op(f"mt_clampmask_{kind}_grad_in", dims, [mask, from_mask])
    REFERENCE_OPS[f"mt_clampmask_{kind}_grad_in"](dims, [mask, reference])
    assert from_mask.tobytes() == from_output.tobytes() == reference.tobytes()
    kept = (y > act_min) & (y < act_max)
    assert kept.any() and (~kept).any(), "a sample with both sides of the clamp"


def test_short_mask_is_refused():
    y = np.zeros(17, np.int8)
    with pytest.raises(MicrotrainError, match="buffer"):
        hostlib.run_op("mt_clampmask_s8_fwd", [-128, 127, 1, 1, 17, 1], [y, np.zeros(2, np.int8)])
    with pytest.raises(MicrotrainError, match="buffer"):
        hostlib.run_op("mt_clampmask_q8_grad_in", [1, 1, 17, 1],
                       [np.zeros(2, np.int8), np.zeros(17, np.int8)])
