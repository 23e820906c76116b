"""Recurrent layers through the engine: the Trainer's layered kernels against the NumPy
reference backend, gradient checks over sequence lengths and return_sequences, clipping by
global norm, summaries and parameter counts, checkpoints, traces, and per-batch losses against
PyTorch (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.engine import Dense, Dropout, Network, Trainer
from nnsim.engine.checkpoint import load_checkpoint, save_checkpoint
from nnsim.engine.gradcheck import gradient_check
from nnsim.engine.layers import LSTM, SimpleRNN
from nnsim.engine.shapes import ShapeError
from nnsim.engine.unroll import recurrent_trace


def _data(rng, n, T, F, outputs):
    return rng.normal(size=(n, T * F)), rng.normal(size=(n, outputs))


NETS = {
    "lstm": (lambda: [LSTM(6), Dense(1)], (7, 2), 1),
    "simple_rnn_seq": (lambda: [SimpleRNN(5, return_sequences=True), Dense(1)], (6, 3), 6),
    "stacked": (lambda: [LSTM(4, return_sequences=True), Dropout(0.2),
                         SimpleRNN(5, activation="relu"), Dense(2)], (5, 2), 2),
}


@pytest.mark.parametrize("name", list(NETS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layered_kernels_match_the_reference_backend(rng, name, dtype):
    """Twelve Adam steps with L2, dropout and clipping: losses, weights and predictions."""
    make, shape, k = NETS[name]
    x, y = _data(rng, 40, *shape, k)
    out = {}
    for backend in ("cpu", "reference"):
        net = Network(x.shape[1], make(), dtype=dtype, input_shape=shape, seed=3)
        tr = Trainer(net, x, y, loss="mse", optimizer="adam", learning_rate=0.01, batch_size=8,
                     regularization="l2", regularization_rate=0.01, clip_norm=0.5,
                     backend=backend)
        losses = [tr.step_batch()[0] for _ in range(12)]
        out[backend] = (np.array(losses), net.P.copy(), net.predict(x[:5]))
    tol = 1e-12 if dtype == "float64" else 2e-5
    for a, b in zip(out["cpu"], out["reference"]):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("T", [1, 3, 12])
@pytest.mark.parametrize("rseq", [False, True])
@pytest.mark.parametrize("kind", ["simple_rnn", "lstm"])
def test_gradient_check_over_lengths_and_return_sequences(rng, T, rseq, kind):
    layer = (LSTM(4, return_sequences=rseq) if kind == "lstm"
             else SimpleRNN(4, return_sequences=rseq))
    x, y = _data(rng, 16, T, 2, T if rseq else 1)
    net = Network(2 * T, [layer, Dense(1)], input_shape=(T, 2), seed=1)
    tr = Trainer(net, x, y, loss="mse", regularization="l2", regularization_rate=0.01,
                 clip_norm=0.01)   # the check compares the gradient itself: never clipped
    rows = gradient_check(tr)
    assert [r.name for r in rows] == ["layer0.W", "layer0.U", "layer0.b", "layer1.W", "layer1.b"]
    assert max(r.rel_error for r in rows) < 1e-6


def test_clipping_scales_the_update_to_the_global_norm(rng):
    """With clip_norm c below ‖g‖, SGD moves the weights by exactly lr·c·g/‖g‖; the history
    keeps the norms before clipping."""
    x, y = _data(rng, 16, 5, 1, 1)
    y *= 100
    net = Network(5, [SimpleRNN(3), Dense(1)], input_shape=(5, 1), seed=0)
    tr = Trainer(net, x, y, loss="mse", optimizer="sgd", learning_rate=0.1, batch_size=16,
                 shuffle=False, clip_norm=0.5)
    _, g = tr.compute_gradients()
    norm = float(np.linalg.norm(g.astype(np.float64)))
    assert norm > 0.5
    before = net.P.copy()
    _, trace, _ = tr.step_batch(trace=True)
    step = (net.P - before).astype(np.float64)
    np.testing.assert_allclose(step, -0.1 * 0.5 * g / norm, rtol=2e-4, atol=1e-7)
    assert tr.max_grad_norm == pytest.approx(norm, rel=1e-5)
    assert trace.layers[0].recurrent.clip_scale == pytest.approx(0.5 / norm, rel=1e-5)
    tr.clip_norm = 0                                  # off: the fused dense path is not needed
    assert tr.clip_norm == 0.0
    with pytest.raises(ValueError, match="clip_norm"):
        tr.clip_norm = -1


def test_clipping_moves_an_all_dense_network_to_the_layered_kernels(rng):
    x, y = rng.normal(size=(32, 2)), rng.normal(size=(32, 1)) * 50
    net = Network(2, [Dense(4, "tanh"), Dense(1)])
    tr = Trainer(net, x, y, loss="mse", batch_size=8)
    assert tr.kernels.__name__.endswith(".cpu")
    tr.clip_norm = 0.5
    assert tr.kernels.__name__.endswith("cpu_layers")
    tr.step_batch()
    tr.clip_norm = 0.0
    assert tr.kernels.__name__.endswith(".cpu")


def test_summary_counts_and_shapes():
    net = Network(50, [LSTM(32), Dense(1)], input_shape=(50, 1))
    rows = net.summary()
    assert [(r.type, r.output_shape, r.params) for r in rows] == [
        ("LSTM", "(None, 32)", 4 * (1 * 32 + 32 * 32 + 32)), ("Dense", "(None, 1)", 33)]
    net = Network(40, [SimpleRNN(8, return_sequences=True), LSTM(3, return_sequences=True),
                       Dense(2)], input_shape=(10, 4))
    assert [(r.output_shape, r.params) for r in net.summary()] == [
        ("(None, 10, 8)", 4 * 8 + 8 * 8 + 8), ("(None, 10, 3)", 4 * (8 * 3 + 3 * 3 + 3)),
        ("(None, 10, 2)", 3 * 2 + 2)]
    assert net.output_dim == 20 and net.n_params == sum(r.params for r in net.summary())
    shapes = {s.name: s.shape for s in net.param_slices()}
    assert shapes["layer0.W"] == (4, 8) and shapes["layer0.U"] == (8, 8)
    assert shapes["layer1.W"] == (8, 12) and shapes["layer1.U"] == (3, 12)
    assert shapes["layer1.b"] == (12,) and shapes["layer2.W"] == (3, 2)


def test_shape_errors_name_the_layer():
    with pytest.raises(ShapeError, match="layer 1 \\(lstm\\) needs sequences.*flat vectors"):
        Network(6, [LSTM(2), Dense(1)])
    with pytest.raises(ShapeError, match="layer 2 \\(simple_rnn\\).*return_sequences = true"):
        Network(6, [LSTM(2), SimpleRNN(2), Dense(1)], input_shape=(3, 2))
    with pytest.raises(ValueError, match="softmax"):
        SimpleRNN(3, activation="softmax")


def test_lstm_starts_with_forget_bias_one_and_orthogonal_recurrent_weights():
    net = Network(6, [LSTM(3), Dense(1)], input_shape=(3, 2), seed=4)
    w = net.get_weights()
    np.testing.assert_array_equal(w["layer0.b"], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    U = w["layer0.U"].astype(np.float64)
    np.testing.assert_allclose(U @ U.T, np.eye(3), atol=1e-6)


def test_checkpoint_keys_and_exact_resume(rng, tmp_path):
    x, y = _data(rng, 40, 6, 2, 1)

    def make() -> Trainer:
        net = Network(12, [LSTM(5), Dense(1)], input_shape=(6, 2), seed=2)
        return Trainer(net, x, y, loss="mse", optimizer="adam", learning_rate=0.01,
                       batch_size=8, clip_norm=1.0)

    a = make()
    for _ in range(7):
        a.step_batch()
    path = tmp_path / "c.npz"
    save_checkpoint(a, path)
    with np.load(path) as z:
        assert {"layer0.W", "layer0.U", "layer0.b"} <= set(z.files)
        assert z["layer0.W"].shape == (2, 20) and z["layer0.U"].shape == (5, 20)
    b = make()
    load_checkpoint(b, path)
    la = [a.step_batch()[0] for _ in range(6)]
    lb = [b.step_batch()[0] for _ in range(6)]
    assert la == lb


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_trace_steps_match_a_recomputation(rng, dtype):
    """The kernels' scratch, read for the trace, equals the row recomputed step by step; the
    last step's h is the row's output; dh at the last step is what the layer above sent."""
    x, y = _data(rng, 32, 6, 2, 1)
    net = Network(12, [LSTM(3, return_sequences=True), SimpleRNN(4), Dense(1)],
                  input_shape=(6, 2), seed=2, dtype=dtype)
    tr = Trainer(net, x, y, loss="mse", batch_size=8)
    P0 = net.P.copy()
    _, trace, _ = tr.step_batch(trace=True)
    tol = 1e-12 if dtype == "float64" else 1e-5
    for l in range(2):
        lt = trace.layers[l]
        got = lt.recurrent
        want = recurrent_trace(net, l, lt.a_in, lt.dZ, P0, None)
        for f in ("xw", "uh", "z", "h", "dh_above", "dh", "dz", "contribution", "dh_norm",
                  "gate", "c", "dc"):
            a, b = getattr(got, f), getattr(want, f)
            assert (a is None) == (b is None), f
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=f)
        np.testing.assert_allclose(got.z, got.xw + got.uh + lt.b, rtol=tol, atol=tol)
    rnn = trace.layers[1].recurrent
    np.testing.assert_array_equal(rnn.h[:, -1], trace.layers[1].a)
    np.testing.assert_allclose(rnn.dh[:, -1], trace.layers[1].dZ, rtol=tol, atol=tol)
    lstm = trace.layers[0].recurrent
    i, f, g = (lstm.gate[:, 1:, k * 3:(k + 1) * 3] for k in range(3))
    np.testing.assert_allclose(lstm.c[:, 1:], f * lstm.c[:, :-1] + i * g, rtol=tol, atol=tol)
    assert trace.layers[0].U.shape == (3, 12) and trace.layers[0].update_U.shape == (3, 12)


# -- PyTorch ------------------------------------------------------------------------------------
def _torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: the agreement tests "
                                               "need it")


def _torch_twin(torch, net, kind, rseq):
    """nn.RNN / nn.LSTM + nn.Linear holding the nnsim network's weights."""
    w = net.get_weights()
    F, H = w["layer0.W"].shape[0], w["layer0.U"].shape[0]
    rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.RNN)(F, H, batch_first=True)
    head = torch.nn.Linear(H, w["layer1.W"].shape[1])
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(w["layer0.W"].T.copy()))
        rnn.weight_hh_l0.copy_(torch.from_numpy(w["layer0.U"].T.copy()))
        rnn.bias_ih_l0.copy_(torch.from_numpy(w["layer0.b"]))
        rnn.bias_hh_l0.zero_()
    rnn.bias_hh_l0.requires_grad_(False)   # one bias, as nnsim and Keras (b = b_ih + b_hh)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(w["layer1.W"].T.copy()))
        head.bias.copy_(torch.from_numpy(w["layer1.b"]))

    def forward(x):
        seq, _ = rnn(x)
        return head(seq if rseq else seq[:, -1])

    params = [p for p in rnn.parameters() if p.requires_grad] + list(head.parameters())
    return forward, params


@pytest.mark.parametrize("kind", ["lstm", "simple_rnn"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("rseq", [False, True])
def test_per_batch_losses_agree_with_pytorch(rng, kind, optimizer, rseq):
    """Same weights, data order and optimizer: 20 float32 mini-batch losses within 1e-4
    relative of PyTorch's (nn.LSTM / nn.RNN, batch_first, one Linear head on the last or on
    every step)."""
    torch = _torch()
    T, F, H, n, B = 15, 2, 8, 160, 16
    x = rng.normal(size=(n, T * F))
    y = rng.normal(size=(n, T if rseq else 1))
    layer = LSTM(H, return_sequences=rseq) if kind == "lstm" else SimpleRNN(H, return_sequences=rseq)
    net = Network(T * F, [layer, Dense(1)], input_shape=(T, F), seed=5)
    tr = Trainer(net, x, y, loss="mse", optimizer=optimizer, learning_rate=0.01, batch_size=B,
                 shuffle=False)
    forward, params = _torch_twin(torch, net, kind, rseq)
    opt = (torch.optim.SGD(params, lr=0.01) if optimizer == "sgd"
           else torch.optim.Adam(params, lr=0.01, eps=1e-7))
    xt = torch.from_numpy(x.astype(np.float32)).reshape(n, T, F)
    yt = torch.from_numpy(y.astype(np.float32))
    ours, theirs = [], []
    for step in range(20):
        rows = slice(step % (n // B) * B, step % (n // B) * B + B)
        ours.append(tr.step_batch()[0])
        opt.zero_grad()
        out = forward(xt[rows]).reshape(B, -1)
        loss = ((out - yt[rows]) ** 2).mean()
        loss.backward()
        opt.step()
        theirs.append(loss.item())
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)
