"""Recurrent layers, kernel level: the NumPy reference against finite differences, the Numba
kernels against the reference (float64 and float32), the float32 gate nonlinearities, clipping
by global norm, and agreement with PyTorch's nn.RNN / nn.LSTM (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from nnsim.kernels import cpu_rnn, ref_rnn
from nnsim.kernels.catalogue import ELU, LEAKY_RELU, LINEAR, RELU, SIGMOID, TANH
from nnsim.kernels.layout import recurrent_parts


def _weights(rng, k, F, H, dtype=np.float64, scale=0.5):
    W = (rng.normal(size=(F, k * H)) * scale).astype(dtype)
    U = (rng.normal(size=(H, k * H)) * scale).astype(dtype)
    b = (rng.normal(size=k * H) * 0.2).astype(dtype)
    return W, U, b


def _ref(k, x, W, U, b, act=TANH, alpha=0.0, rseq=False):
    if k == 4:
        return ref_rnn.lstm_forward(x, W, U, b, rseq)
    return ref_rnn.simple_rnn_forward(x, W, U, b, act, alpha, rseq)


def _ref_back(k, dout, ps, W, U, act=TANH, alpha=0.0):
    if k == 4:
        return ref_rnn.lstm_backward(dout, ps, W, U)
    return ref_rnn.simple_rnn_backward(dout, ps, W, U, act, alpha)


# -- the reference against finite differences ---------------------------------------------------
@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("T", [1, 2, 5, 9])
@pytest.mark.parametrize("rseq", [False, True])
def test_reference_bptt_matches_finite_differences(rng, k, T, rseq):
    """L = Σ dout ⊙ output: the BPTT gradients of W, U, b and x equal central differences."""
    n, F, H = 3, 2, 3
    x = rng.normal(size=(n, T, F))
    W, U, b = _weights(rng, k, F, H)
    out, ps = _ref(k, x, W, U, b, rseq=rseq)
    dout = rng.normal(size=out.shape)
    g = _ref_back(k, dout, ps, W, U)

    def loss() -> float:
        return float(np.sum(dout * _ref(k, x, W, U, b, rseq=rseq)[0]))

    h = 1e-6
    for arr, grad in ((W, g.dW), (U, g.dU), (b, g.db), (x, g.dx)):
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + h
            up = loss()
            arr[i] = old - h
            down = loss()
            arr[i] = old
            num[i] = (up - down) / (2 * h)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("act", [RELU, SIGMOID, LINEAR, LEAKY_RELU, ELU])
def test_reference_simple_rnn_activations_match_finite_differences(rng, act):
    n, T, F, H = 2, 4, 2, 3
    alpha = {LEAKY_RELU: 0.1, ELU: 1.0}.get(act, 0.0)
    x = rng.normal(size=(n, T, F))
    W, U, b = _weights(rng, 1, F, H)
    out, ps = _ref(1, x, W, U, b, act, alpha, rseq=True)
    dout = rng.normal(size=out.shape)
    g = _ref_back(1, dout, ps, W, U, act, alpha)
    h = 1e-6
    num = np.zeros_like(U)
    for i in np.ndindex(U.shape):
        old = U[i]
        U[i] = old + h
        up = np.sum(dout * _ref(1, x, W, U, b, act, alpha, True)[0])
        U[i] = old - h
        down = np.sum(dout * _ref(1, x, W, U, b, act, alpha, True)[0])
        U[i] = old
        num[i] = (up - down) / (2 * h)
    np.testing.assert_allclose(g.dU, num, rtol=1e-5, atol=1e-8)


# -- the kernels against the reference ------------------------------------------------------------
CASES = [(1, TANH), (4, TANH), (1, RELU), (1, SIGMOID), (1, LINEAR), (1, ELU), (1, LEAKY_RELU)]


@pytest.mark.parametrize("k,act", CASES)
@pytest.mark.parametrize("T", [1, 3, 8])
@pytest.mark.parametrize("rseq", [False, True])
def test_kernels_match_reference_float64(rng, k, act, T, rseq):
    n, F, H = 4, 3, 5
    alpha = {LEAKY_RELU: 0.1, ELU: 1.0}.get(act, 0.0)
    x = rng.normal(size=(n, T, F))
    W, U, b = _weights(rng, k, F, H)
    out, S = cpu_rnn.layer_forward(x, W, U, b, act, alpha, rseq)
    ref_out, ps = _ref(k, x, W, U, b, act, alpha, rseq)
    np.testing.assert_allclose(out, ref_out, rtol=0, atol=1e-13)
    dout = rng.normal(size=out.shape)
    dx, dW, dU, db = cpu_rnn.layer_backward(dout, x, W, U, b, S, act, alpha)
    g = _ref_back(k, dout, ps, W, U, act, alpha)
    for got, want in ((dx, g.dx), (dW, g.dW), (dU, g.dU), (db, g.db)):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("rseq", [False, True])
def test_kernels_match_reference_float32(rng, k, rseq):
    """float32 (rational tanh gates) within a few float32 ulps of the float64 reference."""
    n, T, F, H = 8, 12, 3, 16
    x = rng.normal(size=(n, T, F))
    W, U, b = _weights(rng, k, F, H, scale=0.3)
    out, S = cpu_rnn.layer_forward(x.astype(np.float32), W.astype(np.float32),
                                   U.astype(np.float32), b.astype(np.float32), return_sequences=rseq)
    ref_out, ps = _ref(k, x, W, U, b, rseq=rseq)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref_out, rtol=0, atol=2e-6)
    dout = rng.normal(size=out.shape)
    dx, dW, dU, db = cpu_rnn.layer_backward(dout.astype(np.float32), x.astype(np.float32),
                                            W.astype(np.float32), U.astype(np.float32),
                                            b.astype(np.float32), S)
    g = _ref_back(k, dout, ps, W, U)
    for got, want in ((dx, g.dx), (dW, g.dW), (dU, g.dU), (db, g.db)):
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-5 * max(1.0, np.abs(want).max()))


def test_kernel_without_bias_gives_zero_bias_gradient(rng):
    x = rng.normal(size=(2, 4, 2))
    W, U, _ = _weights(rng, 4, 2, 3)
    out, S = cpu_rnn.layer_forward(x, W, U, None)
    ref_out, ps = ref_rnn.lstm_forward(x, W, U, None)
    np.testing.assert_allclose(out, ref_out, atol=1e-13)
    dx, dW, dU, db = cpu_rnn.layer_backward(np.ones_like(out), x, W, U, None, S)
    assert db is None
    np.testing.assert_allclose(dU, ref_rnn.lstm_backward(np.ones_like(out), ps, W, U).dU, atol=1e-12)


def test_scratch_parts_are_disjoint_and_fit():
    for k in (1, 4):
        parts = recurrent_parts(k, 7, 3, 5, 4, so=11)
        assert parts[0] == 11 and all(a <= b for a, b in zip(parts, parts[1:]))
        assert cpu_rnn.scratch_size(k, 7, 3, 5, 4) == parts[-1] - 11


# -- the float32 gate nonlinearities --------------------------------------------------------------
@njit(cache=False)
def _gates32(x, out_t, out_s):
    for i in range(x.shape[0]):
        out_t[i] = cpu_rnn._tanh(x[i], x)
        out_s[i] = cpu_rnn._sigmoid(x[i], x)


def test_float32_tanh_and_sigmoid_are_accurate():
    x = np.linspace(-20, 20, 40001).astype(np.float32)
    t, s = np.empty_like(x), np.empty_like(x)
    _gates32(x, t, s)
    ulp = np.spacing(np.abs(np.tanh(x.astype(np.float64))).astype(np.float32))
    err_t = np.abs(t.astype(np.float64) - np.tanh(x.astype(np.float64)))
    assert np.all(err_t <= 8 * np.maximum(ulp, np.spacing(np.float32(1e-30))))
    sig = 1 / (1 + np.exp(-x.astype(np.float64)))
    assert np.abs(s - sig).max() < 2e-7          # absolute: σ = ½ + ½ tanh(x/2)
    assert s.min() >= 0 and s.max() <= 1


# -- clipping by global norm ----------------------------------------------------------------------
def test_clip_by_global_norm_scales_only_above_the_limit(rng):
    g = rng.normal(size=50)
    norm = float(np.linalg.norm(g))
    G = g.copy()
    f = cpu_rnn.clip_by_global_norm(G, norm * norm, norm / 4)
    assert f == pytest.approx(0.25)
    np.testing.assert_allclose(G, g / 4)
    np.testing.assert_allclose(np.linalg.norm(G), norm / 4)
    G = g.copy()
    assert cpu_rnn.clip_by_global_norm(G, norm * norm, norm * 2) == 1.0
    np.testing.assert_array_equal(G, g)
    assert cpu_rnn.clip_by_global_norm(G, norm * norm, 0.0) == 1.0     # 0: off
    ref, before = ref_rnn.clip_by_global_norm(g, norm / 4)
    assert before == pytest.approx(norm)
    np.testing.assert_allclose(ref, g / 4)


# -- PyTorch ----------------------------------------------------------------------------------------
def _torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: the agreement tests "
                                               "need it")


@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("rseq", [False, True])
def test_layers_agree_with_pytorch(rng, k, rseq):
    """Same weights (W = weight_ihᵀ, U = weight_hhᵀ, b = b_ih + b_hh, gate order i f g o):
    outputs and every gradient agree with nn.RNN / nn.LSTM in float64."""
    torch = _torch()
    n, T, F, H = 3, 6, 2, 4
    x = rng.normal(size=(n, T, F))
    W, U, b = _weights(rng, k, F, H)
    mod = (torch.nn.LSTM if k == 4 else torch.nn.RNN)(F, H, batch_first=True).double()
    with torch.no_grad():
        mod.weight_ih_l0.copy_(torch.from_numpy(W.T.copy()))
        mod.weight_hh_l0.copy_(torch.from_numpy(U.T.copy()))
        mod.bias_ih_l0.copy_(torch.from_numpy(b))
        mod.bias_hh_l0.zero_()
    xt = torch.from_numpy(x).requires_grad_(True)
    seq, _ = mod(xt)
    t_out = seq if rseq else seq[:, -1]
    dout = rng.normal(size=tuple(t_out.shape))
    (t_out * torch.from_numpy(dout)).sum().backward()
    out, S = cpu_rnn.layer_forward(x, W, U, b, return_sequences=rseq)
    np.testing.assert_allclose(out, t_out.detach().numpy(), atol=1e-12)
    dx, dW, dU, db = cpu_rnn.layer_backward(dout, x, W, U, b, S)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(dW, mod.weight_ih_l0.grad.numpy().T, atol=1e-12)
    np.testing.assert_allclose(dU, mod.weight_hh_l0.grad.numpy().T, atol=1e-12)
    np.testing.assert_allclose(db, mod.bias_ih_l0.grad.numpy(), atol=1e-12)


def test_clipping_agrees_with_pytorch(rng):
    torch = _torch()
    g = rng.normal(size=30)
    p = torch.nn.Parameter(torch.zeros(30, dtype=torch.float64))
    p.grad = torch.from_numpy(g.copy())
    torch.nn.utils.clip_grad_norm_([p], 0.5)
    G = g.copy()
    cpu_rnn.clip_by_global_norm(G, float(g @ g), 0.5)
    # torch divides by ‖g‖ + 1e-6 (against a zero gradient); nnsim by ‖g‖ exactly
    np.testing.assert_allclose(G, p.grad.numpy(), rtol=1e-6)
