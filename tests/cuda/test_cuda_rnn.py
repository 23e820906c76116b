"""Recurrent rows on the cuda backend (simulator) against the cpu kernels: one step forward
and back kernel by kernel against `cpu_rnn`, clipping by global norm, then whole runs of
SimpleRNN and LSTM networks (the last step's h, and every step's through a dense layer on each
step), dropout, L2 and clipping included, and a traced step's recurrent parts."""

from __future__ import annotations

import numpy as np
import pytest
from numba import cuda as nb_cuda
from test_cuda_training import _close, _weights_close  # noqa: E402 (tests/cuda is on sys.path)

from nnsim.engine import Dense, Dropout, Network, Trainer
from nnsim.engine.layers import LSTM, SimpleRNN
from nnsim.kernels import cpu_rnn
from nnsim.kernels import cuda_dense as K
from nnsim.kernels import cuda_rnn as CR
from nnsim.kernels.catalogue import TANH
from nnsim.kernels.layout import recurrent_parts


def _st():
    return nb_cuda.to_device(np.zeros(3, dtype=np.int64))


@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_one_step_forward_and_back_matches_cpu(k, dt, rng):
    """Two steps of n = 3 sequences, H = 2 units, F = 2 features: step_fwd at t = 0 and t = 1
    (z, gates, c, h), then step_bwd and dh_back at t = 1 and t = 0, against the scratch the cpu
    kernels leave."""
    n, T, F, H = 3, 2, 2, 2
    x = rng.normal(size=(n, T, F)).astype(dt)
    W = (rng.normal(size=(F, k * H)) * 0.5).astype(dt)
    U = (rng.normal(size=(H, k * H)) * 0.5).astype(dt)
    b = (rng.normal(size=k * H) * 0.2).astype(dt)
    out, S = cpu_rnn.layer_forward(x, W, U, b, TANH, 0.0, True)
    dout = rng.normal(size=out.shape).astype(dt)
    cpu_rnn.layer_backward(dout, x, W, U, b, S, TANH, 0.0)
    xt, z, a, h, c, tc, dg, dh, dc, *_ = recurrent_parts(k, T, F, H, n)
    P = np.concatenate([W.ravel(), U.ravel(), b])
    u0 = W.size
    K_, nH = k * H, n * H
    Sd = np.zeros_like(S)
    Sd[xt:z] = S[xt:z]
    Sd[z:z + T * n * K_] = (S[xt:z].reshape(T * n, F) @ W + b).ravel()   # x·W + b, as `mm` gives
    Sdev, Pdev = nb_cuda.to_device(Sd), nb_cuda.to_device(P)
    for t in range(T):
        CR.step_fwd[K.blocks(nH), K.TPB](_st(), k, TANH, dt(0.0), Sdev, z + t * n * K_,
                                         a + t * n * K_, h + (t - 1) * nH, c + (t - 1) * nH,
                                         c + t * nH, tc + t * nH, h + t * nH, Pdev, u0, n, H,
                                         t == 0)
    got = Sdev.copy_to_host()
    tol = dict(rtol=0, atol=1e-6 if dt == np.float32 else 1e-13)
    np.testing.assert_allclose(got[z:dg], S[z:dg], **tol)            # z, gates, h, c, tanh c
    Sd = got.copy()
    Sd[dh:dh + T * nH] = dout.transpose(1, 0, 2).ravel()               # what arrives from above
    Sdev = nb_cuda.to_device(Sd)
    for t in range(T - 1, -1, -1):
        nxt = min(t + 1, T - 1)
        CR.step_bwd[K.blocks(nH), K.TPB](_st(), k, TANH, dt(0.0), Sdev, z + t * n * K_,
                                         a + t * n * K_, h + t * nH, c + (t - 1) * nH,
                                         tc + t * nH, dh + t * nH, dc + nxt * nH,
                                         a + nxt * n * K_, dc + t * nH, dg + t * n * K_, n, H,
                                         t == 0, t == T - 1)
        if t > 0:
            CR.dh_back[K.blocks(nH), K.TPB](_st(), Sdev, dg + t * n * K_, dh + (t - 1) * nH,
                                            Pdev, u0, n, H, K_)
    got = Sdev.copy_to_host()
    np.testing.assert_allclose(got[dg:dg + T * n * K_], S[dg:dg + T * n * K_], **tol)
    np.testing.assert_allclose(got[dh:dh + T * nH], S[dh:dh + T * nH], **tol)
    if k == 4:
        np.testing.assert_allclose(got[dc:dc + T * nH], S[dc:dc + T * nH], **tol)


def test_clip_grads_scales_to_the_global_norm(rng):
    G = rng.normal(size=10)
    gn = np.array([[3.0, 4.0], [0.1, 0.1]])        # batch 0: norm 5
    Gd = nb_cuda.to_device(G.copy())
    CR.clip_grads[K.blocks(10), K.TPB](_st(), nb_cuda.to_device(gn), 0, 2, 1.0, Gd, 10)
    np.testing.assert_allclose(Gd.copy_to_host(), G / 5)
    Gd = nb_cuda.to_device(G.copy())
    CR.clip_grads[K.blocks(10), K.TPB](_st(), nb_cuda.to_device(gn), 1, 2, 1.0, Gd, 10)
    np.testing.assert_array_equal(Gd.copy_to_host(), G)   # below the limit: untouched


@pytest.fixture
def roomier(monkeypatch):
    """Whole runs: 16 threads per block and 4 × 4 tiles."""
    monkeypatch.setattr(K, "TPB", 16)
    monkeypatch.setattr(K, "TILE", 4)


def _pair(dtype: str, layers_fn, shape, k_out: int, **kw):
    rng = np.random.default_rng(5)
    n = 10
    x = rng.normal(size=(n, int(np.prod(shape))))
    y = rng.normal(size=(n, k_out))

    def one(backend: str) -> Trainer:
        net = Network(x.shape[1], layers_fn(), dtype=dtype, seed=3, input_shape=shape)
        return Trainer(net, x[:n - 2], y[:n - 2], x[n - 2:], y[n - 2:], loss="mse",
                       optimizer="adam", learning_rate=0.02, batch_size=3, seed=4,
                       backend=backend, **kw)
    return one("cpu"), one("cuda")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_lstm_trains_the_same(dtype, roomier):
    """LSTM (last step) → dense: an epoch with a partial batch, its record, a traced step."""
    a, b = _pair(dtype, lambda: [LSTM(3), Dense(1)], (4, 2), 1)
    ra, rb = a.step_epoch(), b.step_epoch()
    _close(rb.test_loss, ra.test_loss, dtype)
    _close(rb.grad_norms, ra.grad_norms, dtype)
    _close(b.history.batch_loss, a.history.batch_loss, dtype)
    _weights_close(a.net, b.net, dtype)
    _, ta, _ = a.step_batch(trace=True)
    _, tb, _ = b.step_batch(trace=True)
    for name in ("h", "c", "gate", "dh", "dz"):
        _close(getattr(tb.layers[0].recurrent, name), getattr(ta.layers[0].recurrent, name), dtype)


def test_sequences_dropout_l2_and_clipping(roomier):
    """SimpleRNN (every step) → dropout → LSTM (every step) → dense on every step, L2 and
    clipping, float64."""
    a, b = _pair("float64", lambda: [SimpleRNN(3, return_sequences=True), Dropout(0.3),
                                     LSTM(2, return_sequences=True), Dense(1)], (3, 2), 3,
                 regularization="l2", regularization_rate=0.01, clip_norm=0.05)
    _close(b.play(3)[0], a.play(3)[0], "float64")
    _weights_close(a.net, b.net, "float64")
    assert a.max_grad_norm > 0.05                    # clipping was at work
    _close(b.predict(a.x_test), a.predict(a.x_test), "float64")
