# SPDX-License-Identifier: MIT
"""Float forward/backward of the model description: gradients against finite differences,
the forward against a direct loop, and the trainer."""

import numpy as np
import pytest

from microtrain_tools.sim import float_model
from microtrain_tools.formats import model as mdl
from microtrain_tools.errors import MicrotrainError
from model_fixtures import pooled_cnn, tiny_cnn


def _as_float64(m):
    for ly in m.layers:
        for p in ly.params:
            ly.params[p] = ly.params[p].astype(np.float64)
    return m


def _loss_fn(m, x, r, training):
    return float((float_model.forward(m, x, training=training) * r).sum())


@pytest.mark.parametrize("make, training", [(tiny_cnn, False), (tiny_cnn, True),
                                            (pooled_cnn, False)])
def test_backward_equals_finite_differences(make, training):
    m = _as_float64(make(seed=3))
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, *m.input_shape))
    r = rng.standard_normal((3, *m.output_shape))
    _, _, tapes = float_model.forward(m, x, training=training, keep=True)
    grads, dx = float_model.backward(m, tapes, r)
    eps = 1e-6
    checked = 0
    for ly in m.layers:
        for p, g in grads.get(ly.name, {}).items():
            w = ly.params[p]
            for i in np.ndindex(w.shape):
                old = w[i]
                w[i] = old + eps
                up = _loss_fn(m, x, r, training)
                w[i] = old - eps
                down = _loss_fn(m, x, r, training)
                w[i] = old
                fd = (up - down) / (2 * eps)
                assert abs(fd - g[i]) < 1e-5 * max(1.0, abs(fd)), (ly.name, p, i, fd, g[i])
                checked += 1
    for i in list(np.ndindex(x.shape))[::5]:
        old = x[i]
        x[i] = old + eps
        up = _loss_fn(m, x, r, training)
        x[i] = old - eps
        down = _loss_fn(m, x, r, training)
        x[i] = old
        fd = (up - down) / (2 * eps)
        assert abs(fd - dx[i]) < 1e-5 * max(1.0, abs(fd)), ("input", i, fd, dx[i])
    assert checked == sum(ly.params[p].size for ly in m.layers for p in grads.get(ly.name, {}))
    assert checked > 80
    if make is tiny_cnn:
        assert "gamma" in grads["bn1"] and "weight" in grads["dw"]


def test_conv_forward_equals_direct_loop():
    m = tiny_cnn(seed=5)
    ly = m.layer("wide")
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 3, 4)).astype(np.float32)
    y, _ = float_model.conv2d_forward(ly, x)
    w, b = ly.params["weight"], ly.params["bias"]
    (kh, kw), (sh, sw), (ph, pw) = ly.attrs["kernel"], ly.attrs["stride"], ly.attrs["padding"]
    ref = np.zeros_like(y)
    for n in range(2):
        for oy in range(y.shape[1]):
            for ox in range(y.shape[2]):
                for co in range(y.shape[3]):
                    acc = b[co]
                    for i in range(kh):
                        for j in range(kw):
                            iy, ix = oy * sh + i - ph, ox * sw + j - pw
                            if 0 <= iy < 4 and 0 <= ix < 3:
                                acc += x[n, iy, ix] @ w[co, i, j]
                    ref[n, oy, ox, co] = acc
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_trainer_learns_a_separable_problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 5, 5, 2)).astype(np.float32)
    y = (x[:, :, :, 0].mean(axis=(1, 2)) > 0).astype(np.int64) + \
        (x[:, :, :, 1].mean(axis=(1, 2)) > 0.3)
    for opt in ("adam", "sgd"):
        m = pooled_cnn(seed=1)
        cfg = float_model.TrainConfig(epochs=30, batch=16, lr=0.02, optimizer=opt, seed=0)
        history = float_model.train(m, x, y, cfg)
        assert history[-1] < 0.6 * history[0], (opt, history)
        assert float_model.accuracy(m, x, y) > 0.8, opt


def test_training_is_reproducible():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5, 5, 2)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    runs = []
    for _ in range(2):
        m = pooled_cnn(seed=1)
        float_model.train(m, x, y, float_model.TrainConfig(epochs=2, seed=7))
        runs.append(m.layer("head").params["weight"])
    np.testing.assert_array_equal(*runs)


def test_mse_loss_gradient():
    out = np.array([[1.0, 2.0], [0.0, -1.0]])
    loss, g = float_model.mse(out, np.zeros((2, 2)))
    assert loss == pytest.approx(6.0 / 4)
    np.testing.assert_allclose(g, 2 * out / 4)


def test_bad_input_and_config_are_named():
    m = pooled_cnn()
    with pytest.raises(MicrotrainError, match="expected \\(n, 5, 5, 2\\)"):
        float_model.forward(m, np.zeros((1, 4, 5, 2)))
    with pytest.raises(MicrotrainError, match="optimizer must be"):
        float_model.train(m, np.zeros((2, 5, 5, 2)), np.zeros(2, int),
                          float_model.TrainConfig(optimizer="lbfgs"))
    assert mdl.INPUT == "input"
