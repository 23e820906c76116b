"""The fused Numba kernel against the NumPy reference backend, configuration by configuration."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.engine import Dense, Dropout, Network, Trainer


def _train(backend: str, layers, loss: str, optimizer: str, reg: str, x, y, **kw) -> Trainer:
    net = Network(x.shape[1], layers(), dtype="float64", seed=3)
    tr = Trainer(net, x, y, loss=loss, optimizer=optimizer, learning_rate=0.05,
                 regularization=reg, regularization_rate=0.01 if reg != "none" else 0.0,
                 batch_size=7, seed=5, backend=backend, **kw)
    for _ in range(3):
        tr.step_epoch()
    return tr


CASES = [
    ("binary_crossentropy", "sigmoid", False, 1),
    ("binary_crossentropy", "linear", True, 1),
    ("mse", "tanh", False, 1),
    ("sse", "linear", False, 2),
    ("mae", "linear", False, 2),
    ("categorical_crossentropy", "softmax", False, 3),
    ("sparse_categorical_crossentropy", "linear", True, 3),
]


@pytest.mark.parametrize("loss,out_act,logits,k", CASES)
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_cpu_matches_reference(loss, out_act, logits, k, optimizer, rng) -> None:
    x = rng.normal(0, 1, (40, 3))
    if "crossentropy" in loss:
        y = rng.integers(0, max(k, 2), 40)
    else:
        y = rng.normal(0, 1, (40, k))
    reg = {"sgd": "l2", "adam": "l1"}.get(optimizer, "none")

    def layers():
        return [Dense(6, "tanh"), Dropout(0.25), Dense(5, "relu"), Dense(k, out_act)]

    ref = _train("reference", layers, loss, optimizer, reg, x, y, from_logits=logits)
    fast = _train("cpu", layers, loss, optimizer, reg, x, y, from_logits=logits)
    np.testing.assert_allclose(fast.net.P, ref.net.P, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.optimizer.s1, ref.optimizer.s1, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.history.batch_loss, ref.history.batch_loss, rtol=1e-10)
    assert fast.history.epochs[-1].grad_norms == pytest.approx(ref.history.epochs[-1].grad_norms, rel=1e-9)


@pytest.mark.parametrize("act", ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu"])
def test_predict_matches_reference(act: str, rng) -> None:
    net = Network(4, [Dense(300, act), Dropout(0.5), Dense(20, act), Dense(3, "softmax")], seed=1,
                  dtype="float64")
    x = rng.normal(0, 1, (700, 4))  # large enough for the BLAS path and several chunks
    np.testing.assert_allclose(net.predict(x, backend="cpu"), net.predict(x, backend="reference"),
                               rtol=1e-10, atol=1e-13)


def test_blas_and_loop_paths_agree(rng) -> None:
    """A wide layer goes through np.dot, a narrow one through loops: both equal the reference."""
    x = rng.normal(0, 1, (64, 80))
    y = rng.integers(0, 4, 64)

    def layers():
        return [Dense(96, "relu"), Dense(4, "linear")]

    ref = _train("reference", layers, "sparse_categorical_crossentropy", "adam", "l2", x, y, from_logits=True)
    fast = _train("cpu", layers, "sparse_categorical_crossentropy", "adam", "l2", x, y, from_logits=True)
    np.testing.assert_allclose(fast.net.P, ref.net.P, rtol=1e-8, atol=1e-11)


def test_float32_close_to_float64(rng) -> None:
    x = rng.normal(0, 1, (50, 2))
    y = (x[:, 0] > 0).astype(int)
    out = []
    for dt in ("float32", "float64"):
        net = Network(2, [Dense(8, "tanh"), Dense(1, "sigmoid")], dtype=dt, seed=0)
        tr = Trainer(net, x, y, loss="binary_crossentropy", learning_rate=0.1, batch_size=10)
        tr.step_epoch()
        assert net.P.dtype == np.dtype(dt)
        out.append(tr.history.epochs[-1].train_loss)
    assert out[0] == pytest.approx(out[1], rel=1e-5)
