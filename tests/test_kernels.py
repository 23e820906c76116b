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


# -- the flat small-product loops (register-blocked in 8s) against NumPy --------------------
SHAPES = [(1, 1, 1), (10, 2, 8), (10, 8, 8), (10, 8, 1), (3, 7, 9), (5, 17, 16), (7, 9, 23),
          (2, 16, 3), (10, 30, 13), (64, 80, 96)]   # the last one goes through np.dot


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n,k,m", SHAPES)
def test_small_products_match_numpy(n: int, k: int, m: int, dtype: str, rng) -> None:
    from nnsim.kernels import cpu

    tol = dict(rtol=2e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    a = rng.normal(0, 1, (n, k)).astype(dtype)
    w = rng.normal(0, 1, (k, m)).astype(dtype)
    d = rng.normal(0, 1, (n, m)).astype(dtype)
    buf = rng.normal(0, 1, 5 + n * k + n * m + 3).astype(dtype)   # offsets as in the workspace
    ao, do = 5, 5 + n * k
    buf[ao:ao + n * k] = a.ravel()
    buf[do:do + n * m] = d.ravel()
    wb = np.concatenate([rng.normal(0, 1, 4), w.ravel()]).astype(dtype)
    out = np.full(7 + max(n * m, k * m, n * k), np.nan, dtype=dtype)

    cpu._mm(buf, ao, wb, 4, out, 7, n, k, m)
    np.testing.assert_allclose(out[7:7 + n * m].reshape(n, m), a @ w, **tol)
    cpu._mm_tn(buf, ao, buf, do, out, 7, n, k, m)
    np.testing.assert_allclose(out[7:7 + k * m].reshape(k, m), a.T @ d, **tol)
    cpu._mm_nt(buf, do, wb, 4, out, 7, n, m, k)
    np.testing.assert_allclose(out[7:7 + n * k].reshape(n, k), d @ w.T, **tol)
    assert np.isnan(out[:7]).all()          # nothing written before the output block


def test_wide_layers_match_reference(rng) -> None:
    """Layers of 8 and more units (the blocked loops, with leftovers) against the reference."""
    x = rng.normal(0, 1, (45, 3))
    y = rng.integers(0, 3, 45)

    def layers():
        return [Dense(17, "tanh"), Dropout(0.2), Dense(9, "elu"), Dense(8, "sigmoid"),
                Dense(3, "softmax")]

    ref = _train("reference", layers, "sparse_categorical_crossentropy", "momentum", "l2", x, y)
    fast = _train("cpu", layers, "sparse_categorical_crossentropy", "momentum", "l2", x, y)
    np.testing.assert_allclose(fast.net.P, ref.net.P, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.history.batch_loss, ref.history.batch_loss, rtol=1e-10)


def test_float32_tanh_within_8_ulp() -> None:
    """The float32 kernel's rational tanh against float64 tanh, and NaN stays NaN."""
    from nnsim.kernels import cpu

    z = np.concatenate([np.linspace(-10, 10, 400_001), [0.0, -0.0, 1e-30, -3e-4, 5e-4,
                                                        7.9, 8.0, 50.0, -1e30, np.inf, -np.inf]])
    z = z.astype(np.float32)[None, :]
    a = np.empty_like(z)
    cpu.act_forward(2, 0.0, z, a)
    exact = np.tanh(z.astype(np.float64))
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert (np.abs(a - exact) / ulp).max() <= 8
    assert np.abs(a).max() <= 1.0
    nan = np.array([[np.nan, 1.0]], dtype=np.float32)
    out = np.empty_like(nan)
    cpu.act_forward(2, 0.0, nan, out)
    assert np.isnan(out[0, 0]) and np.isfinite(out[0, 1])
