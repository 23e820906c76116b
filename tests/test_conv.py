"""Conv2D, MaxPool2D, AvgPool2D and Flatten: shapes, the NumPy reference against finite
differences, the Numba kernels against the reference (float32 and float64), a Hypothesis family
of small conv stacks, checkpoints, and agreement with PyTorch where it is installed."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nnsim.engine import AvgPool2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Network, Trainer
from nnsim.engine.checkpoint import load_checkpoint, save_checkpoint
from nnsim.engine.gradcheck import gradient_check
from nnsim.engine.shapes import ShapeError
from nnsim.kernels import npmath, reference

# -- float64 finite differences with a tolerance derived from rounding (as test_gradcheck) ----
EPS = float(np.finfo(np.float64).eps)
H = 1e-5
C_ROUND = 64.0
REL = 1e-9


def float64_twin(net: Network, x: np.ndarray, y: np.ndarray, loss: str, backend: str,
                 logits: bool = False) -> Trainer:
    """A float64 copy of `net` on all of (x, y) as one batch, in order, dropout off."""
    layers = [Dropout(0.0) if isinstance(l, Dropout) else copy.deepcopy(l) for l in net.layers]
    twin = Network(net.input_dim, layers, dtype="float64", seed=net.seed,
                   input_shape=net.input_shape)
    twin.set_weights(net.get_weights())
    return Trainer(twin, x, y, loss=loss, from_logits=logits, batch_size=len(x), shuffle=False,
                   backend=backend)


def entry_errors(tr: Trainer) -> tuple[np.ndarray, np.ndarray]:
    """|analytic − central difference| per parameter, and its float64 bound:
    C·ε·max(|L|, 1)/h (rounding) + 2·|D(2h) − D(h)|/3 (truncation, measured) + REL·|g|."""
    net = tr.net
    _, g = tr.compute_gradients()

    def loss() -> float:
        out = net.predict(tr.x_train, backend="reference")
        return tr.loss.value(out, tr.y_train, tr.from_logits)

    def central(i: int, step: float) -> float:
        old = net.P[i]
        net.P[i] = old + step
        up = loss()
        net.P[i] = old - step
        down = loss()
        net.P[i] = old
        return (up - down) / (2 * step)

    L = loss()
    d1 = np.array([central(i, H) for i in range(net.n_params)])
    d2 = np.array([central(i, 2 * H) for i in range(net.n_params)])
    return np.abs(g - d1), C_ROUND * EPS * max(abs(L), 1.0) / H + 2 * np.abs(d2 - d1) / 3 + REL * np.abs(g)


def kinks_clear(tr: Trainer) -> bool:
    """No relu input and no max-pool tie within 1e-3 (a difference across a kink or a change
    of winner is not a derivative)."""
    net = tr.net
    ps = reference.forward(tr.x_train, net.P, net.layi, net.layf64)
    for l, layer in enumerate(net.rows):
        if getattr(layer, "activation", "") in ("relu", "leaky_relu") and np.abs(ps.z[l + 1]).min() <= 1e-3:
            return False
        if isinstance(layer, MaxPool2D):
            sh = net.shapes[net.row_positions[l]]
            x = ps.a[l].reshape(-1, *sh.input)
            win = npmath._windows(x, *layer.pool_size, *layer.stride, *sh.output[1:])
            top2 = np.sort(win, axis=-1)[..., -2:]
            if win.shape[-1] > 1 and np.min(top2[..., 1] - top2[..., 0]) <= 1e-3:
                return False
    return True


VARIANTS = [
    ("conv valid", (1, 6, 5), [Conv2D(2, 3, activation="tanh")]),
    ("conv stride 2", (2, 7, 6), [Conv2D(3, (3, 2), stride=2, activation="sigmoid")]),
    ("conv same", (2, 5, 5), [Conv2D(2, 3, padding="same", activation="elu")]),
    ("conv same even kernel, stride", (1, 7, 6), [Conv2D(2, (2, 4), stride=(2, 3), padding="same")]),
    ("conv no bias", (1, 5, 5), [Conv2D(2, 2, use_bias=False, activation="tanh")]),
    # "same" with an even kernel pads only below and to the right: not the wide (valid) path
    ("conv same 2x2 stride 1", (2, 5, 4), [Conv2D(2, 2, padding="same", activation="tanh")]),
    ("max pool 2", (1, 6, 6), [Conv2D(2, 3, activation="tanh"), MaxPool2D(2)]),
    ("max pool 3 stride 2", (1, 8, 7), [Conv2D(2, 2, activation="tanh"), MaxPool2D(3, stride=2)]),
    ("max pool 2x1 stride 1 (overlapping)", (2, 5, 5), [MaxPool2D((2, 1), stride=1)]),
    ("avg pool 2", (1, 6, 6), [Conv2D(2, 3, activation="tanh"), AvgPool2D(2)]),
    ("avg pool 3 stride 1", (2, 5, 6), [AvgPool2D(3, stride=1), Conv2D(2, 2)]),
    ("two convs", (1, 8, 8), [Conv2D(2, 3, activation="tanh"), Conv2D(3, 2, stride=2, activation="tanh")]),
]


@pytest.mark.parametrize("name,shape,body", VARIANTS, ids=[v[0] for v in VARIANTS])
@pytest.mark.parametrize("backend", ["reference", "cpu"])
def test_gradients_match_finite_differences(name, shape, body, backend) -> None:
    rng = np.random.default_rng(7)
    d = int(np.prod(shape))
    net = Network(d, copy.deepcopy(body) + [Flatten(), Dense(3, "softmax")], seed=2,
                  input_shape=shape)
    x = rng.normal(0, 1, (5, d))
    tr = float64_twin(net, x, rng.integers(0, 3, 5), "sparse_categorical_crossentropy", backend)
    assert kinks_clear(tr)
    err, bound = entry_errors(tr)
    assert np.all(err <= bound), (name, float(np.max(err / bound)))


def test_bound_catches_a_wrong_pool_gradient(monkeypatch) -> None:
    """The bound must be able to fail: route every max-pool gradient to the window's first
    entry instead of its winner and the reference's gradients leave it by far."""
    rng = np.random.default_rng(1)
    net = Network(36, [Conv2D(2, 3, activation="tanh"), MaxPool2D(2), Flatten(), Dense(2, "softmax")],
                  seed=0, input_shape=(1, 6, 6))
    x, y = rng.normal(0, 1, (4, 36)), rng.integers(0, 2, 4)
    err, bound = entry_errors(float64_twin(net, x, y, "sparse_categorical_crossentropy", "reference"))
    assert np.max(err / bound) < 0.1
    real = npmath.maxpool2d_backward
    monkeypatch.setattr(npmath, "maxpool2d_backward",
                        lambda shape, won, dz, window, stride: real(shape, won * 0, dz, window, stride))
    err, bound = entry_errors(float64_twin(net, x, y, "sparse_categorical_crossentropy", "reference"))
    assert np.max(err / bound) > 1e3


def test_max_pool_routes_the_gradient_to_the_winner_alone() -> None:
    x = np.array([[[[1.0, 5.0], [2.0, 0.0]]]])
    z, won = npmath.maxpool2d_forward(x, (2, 2), (2, 2), (1, 1))
    assert z[0, 0, 0, 0] == 5.0 and won[0, 0, 0, 0] == 1
    dx = npmath.maxpool2d_backward(x.shape, won, np.array([[[[3.0]]]]), (2, 2), (2, 2))
    np.testing.assert_array_equal(dx, [[[[0.0, 3.0], [0.0, 0.0]]]])
    dx = npmath.avgpool2d_backward(x.shape, np.array([[[[3.0]]]]), (2, 2), (2, 2))
    np.testing.assert_array_equal(dx, np.full((1, 1, 2, 2), 0.75))


def test_convolution_is_the_written_out_sum() -> None:
    """One output of a conv: Σ over the window of kernel × patch, plus the bias."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 2, 5, 6))
    W, b = rng.normal(size=(3, 2, 3, 2)), rng.normal(size=3)
    z, _ = npmath.conv2d_forward(x, W, b, (2, 1), (1, 0), (3, 5))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    for f, i, j in [(0, 0, 0), (2, 1, 3), (1, 2, 4)]:
        patch = xp[0, :, 2 * i:2 * i + 3, j:j + 2]
        assert z[0, f, i, j] == pytest.approx(float((W[f] * patch).sum() + b[f]), rel=1e-12)


# -- the Numba kernels against the reference ----------------------------------------------------
NETS = {
    "lenet-ish": ((1, 8, 8), lambda: [Conv2D(3, 3, activation="relu"), MaxPool2D(2),
                                       Conv2D(4, 2, padding="same", activation="leaky_relu"),
                                       Flatten(), Dropout(0.2), Dense(6, "tanh"), Dense(3, "softmax")]),
    "strided, avg, dropout": ((2, 7, 6), lambda: [Conv2D(2, (3, 2), stride=(2, 1), padding="same",
                                                         activation="tanh"), Dropout(0.3),
                                                  AvgPool2D((2, 1)), Flatten(), Dense(3, "linear")]),
    "pool first, input dropout": ((1, 6, 6), lambda: [Dropout(0.1), MaxPool2D(2, stride=1),
                                                       Conv2D(2, 2, activation="elu"), Flatten(),
                                                       Dense(3, "softmax")]),
}


@pytest.mark.parametrize("net_name", list(NETS))
@pytest.mark.parametrize("optimizer,reg", [("sgd", "l2"), ("momentum", "none"), ("adam", "l1"),
                                           ("rmsprop", "none")])
def test_cpu_matches_reference_float64(net_name, optimizer, reg) -> None:
    shape, layers = NETS[net_name]
    rng = np.random.default_rng(3)
    d = int(np.prod(shape))
    x, y = rng.normal(0, 1, (30, d)), rng.integers(0, 3, 30)
    logits = net_name.startswith("strided")
    out = []
    for backend in ("reference", "cpu"):
        net = Network(d, layers(), dtype="float64", seed=4, input_shape=shape)
        tr = Trainer(net, x, y, x[:9], y[:9], loss="sparse_categorical_crossentropy",
                     from_logits=logits, optimizer=optimizer, learning_rate=0.05,
                     regularization=reg, regularization_rate=0.01 if reg != "none" else 0.0,
                     batch_size=7, seed=5, backend=backend)
        for _ in range(2):
            tr.step_epoch()
        out.append(tr)
    ref, fast = out
    np.testing.assert_allclose(fast.net.P, ref.net.P, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.history.batch_loss, ref.history.batch_loss, rtol=1e-10)
    assert fast.history.epochs[-1].grad_norms == pytest.approx(ref.history.epochs[-1].grad_norms, rel=1e-9)
    np.testing.assert_allclose(fast.predict(x), ref.predict(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("net_name", list(NETS))
def test_cpu_matches_reference_float32(net_name) -> None:
    shape, layers = NETS[net_name]
    rng = np.random.default_rng(8)
    d = int(np.prod(shape))
    x, y = rng.normal(0, 1, (40, d)), rng.integers(0, 3, 40)
    losses, weights = [], []
    for backend in ("reference", "cpu"):
        net = Network(d, layers(), dtype="float32", seed=1, input_shape=shape)
        tr = Trainer(net, x, y, loss="sparse_categorical_crossentropy",
                     from_logits=net_name.startswith("strided"), optimizer="adam",
                     learning_rate=0.01, batch_size=8, seed=2, backend=backend)
        tr.step_epoch()
        losses.append(np.asarray(tr.history.batch_loss))
        weights.append(tr.net.P.copy())
    np.testing.assert_allclose(losses[1], losses[0], rtol=2e-5)
    np.testing.assert_allclose(weights[1], weights[0], rtol=1e-3, atol=2e-5)


def test_stepping_and_play_run_the_same_math() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 1, (20, 36)), rng.integers(0, 2, 20)

    def trainer() -> Trainer:
        net = Network(36, [Conv2D(2, 3, activation="relu"), MaxPool2D(2), Flatten(),
                           Dense(2, "softmax")], input_shape=(1, 6, 6), seed=0)
        return Trainer(net, x, y, loss="sparse_categorical_crossentropy", batch_size=6, seed=1)

    a, b = trainer(), trainer()
    a.step_epoch()
    for _ in range(4):
        b.step_batch(trace=True)
    np.testing.assert_array_equal(a.net.P, b.net.P)
    assert list(a.history.batch_loss) == list(b.history.batch_loss)


# -- a Hypothesis family of small conv stacks ----------------------------------------------------
@st.composite
def conv_stacks(draw):
    c, h, w = draw(st.integers(1, 2)), draw(st.integers(3, 7)), draw(st.integers(3, 7))
    shape = (c, h, w)
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
            layers.append(Conv2D(draw(st.integers(1, 3)), k, stride=(draw(st.integers(1, 2)),
                                                                     draw(st.integers(1, 2))),
                                 padding=draw(st.sampled_from(["valid", "same"])),
                                 activation=draw(st.sampled_from(["tanh", "linear", "sigmoid", "relu"]))))
        else:
            kind = draw(st.sampled_from([MaxPool2D, AvgPool2D]))
            p = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
            layers.append(kind(p, stride=draw(st.sampled_from([None, 1]))))
    return shape, layers


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(stack=conv_stacks(), seed=st.integers(0, 1000))
def test_random_conv_stacks(stack, seed) -> None:
    """Any small stack that fits: cpu and reference agree, and the gradients pass the
    float64 finite-difference bound."""
    shape, body = stack
    d = int(np.prod(shape))
    try:
        net = Network(d, body + [Flatten(), Dense(2, "softmax")], seed=seed, input_shape=shape)
    except ShapeError:
        assume(False)
        return
    rng = np.random.default_rng(seed)
    x, y = rng.normal(0, 1, (4, d)), rng.integers(0, 2, 4)
    tr = float64_twin(net, x, y, "sparse_categorical_crossentropy", "cpu")
    assume(kinks_clear(tr))
    ref = float64_twin(net, x, y, "sparse_categorical_crossentropy", "reference")
    _, g_cpu = tr.compute_gradients()
    _, g_ref = ref.compute_gradients()
    np.testing.assert_allclose(g_cpu, g_ref, rtol=1e-9, atol=1e-12)
    err, bound = entry_errors(tr)
    assert np.all(err <= bound), float(np.max(err / bound))


# -- shapes, names, checkpoints -------------------------------------------------------------------
def lenet(**kw) -> Network:
    return Network(784, [Conv2D(8, 3, activation="relu"), MaxPool2D(2), Conv2D(16, 3, activation="relu"),
                         MaxPool2D(2), Flatten(), Dense(10, "softmax")], input_shape=(1, 28, 28), **kw)


def test_summary_shapes_and_parameter_counts_are_keras_s() -> None:
    rows = lenet().summary()
    assert [(r.type, r.output_shape, r.params) for r in rows] == [
        ("Conv2D", "(None, 8, 26, 26)", 80), ("MaxPool2D", "(None, 8, 13, 13)", 0),
        ("Conv2D", "(None, 16, 11, 11)", 1168), ("MaxPool2D", "(None, 16, 5, 5)", 0),
        ("Flatten", "(None, 400)", 0), ("Dense", "(None, 10)", 4010)]
    net = Network(48, [Conv2D(4, 3, stride=2, padding="same"), Flatten(), Dense(2)],
                  input_shape=(3, 4, 4))
    assert net.summary()[0].output_shape == "(None, 4, 2, 2)"


def test_weights_have_pytorch_shapes_and_keys() -> None:
    net = lenet()
    shapes = {s.name: s.shape for s in net.param_slices()}
    assert shapes == {"layer0.W": (8, 1, 3, 3), "layer0.b": (8,), "layer2.W": (16, 8, 3, 3),
                      "layer2.b": (16,), "layer5.W": (400, 10), "layer5.b": (10,)}
    assert net.n_params == 80 + 1168 + 4010
    assert [s.layer for s in net.param_slices()] == [0, 0, 2, 2, 5, 5]   # rows, not positions


@pytest.mark.parametrize("layers,shape,words", [
    ([Conv2D(2, 5), Flatten(), Dense(1)], (1, 4, 4), ["layer 1 (conv2d)", "5×5 kernel", "(1, 4, 4)"]),
    ([Conv2D(2, 3), MaxPool2D(3), Flatten(), Dense(1)], (1, 4, 4),
     ["layer 2 (maxpool2d)", "3×3 pool", "(2, 2, 2)", "0×0"]),
    ([Conv2D(2, 3), Dense(1)], (1, 4, 4), ["layer 2 (dense)", "(2, 2, 2)", "flatten"]),
    ([Dense(3), Conv2D(2, 2), Flatten(), Dense(1)], (1, 4, 4), ["layer 2 (conv2d)", "flat vector"]),
    ([Conv2D(2, 2), Flatten(), Dense(1)], None, ["layer 1 (conv2d)", "flat vectors of 16 values"]),
])
def test_shape_errors_name_the_layer_and_the_shapes(layers, shape, words) -> None:
    with pytest.raises(ValueError) as info:
        Network(16, layers, input_shape=shape)
    for w in words:
        assert w in str(info.value)


def test_a_dense_first_layer_sees_the_flattened_image() -> None:
    net = Network(64, [Dense(5, "relu"), Dense(3)], input_shape=(1, 8, 8))
    assert not net.layered and net.layi[1, 0] == 64


def test_flatten_is_pytorch_order_and_pool_outputs_reshape() -> None:
    rng = np.random.default_rng(0)
    net = Network(2 * 3 * 3, [Flatten(), Dense(2)], input_shape=(2, 3, 3), dtype="float64")
    x = rng.normal(size=(4, 18))
    W = net.get_weights()["layer1.W"]
    np.testing.assert_allclose(net.predict(x), x @ W, rtol=1e-12)


def test_hand_set_kernel_and_reset() -> None:
    k = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
    net = Network(36, [Conv2D(1, 3, kernel=k, bias=[0.5]), Flatten(), Dense(1)], input_shape=(1, 6, 6))
    W = net.get_weights()
    np.testing.assert_array_equal(W["layer0.W"], np.array(k, dtype=np.float32)[None, None])
    assert W["layer0.b"].tolist() == [0.5]
    net.P[:] = 0
    net.initialize()
    np.testing.assert_array_equal(net.get_weights()["layer0.W"][0, 0], k)
    with pytest.raises(ValueError, match="kernel has shape"):
        Network(72, [Conv2D(1, 3, kernel=k), Flatten(), Dense(1)], input_shape=(2, 6, 6))


def test_checkpoint_round_trip_resumes_exactly(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 1, (30, 64)), rng.integers(0, 3, 30)

    def trainer() -> Trainer:
        net = Network(64, [Conv2D(2, 3, activation="relu"), AvgPool2D(2), Flatten(),
                           Dense(3, "softmax")], input_shape=(1, 8, 8), seed=0)
        return Trainer(net, x, y, loss="sparse_categorical_crossentropy", optimizer="adam",
                       batch_size=8, seed=3)

    a = trainer()
    for _ in range(5):
        a.step_batch()
    save_checkpoint(a, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz") as data:
        assert data["layer0.W"].shape == (2, 1, 3, 3) and data["layer3.W"].shape == (18, 3)
    b = trainer()
    assert load_checkpoint(b, tmp_path / "c.npz")
    for _ in range(6):
        assert a.step_batch()[0] == b.step_batch()[0]
    np.testing.assert_array_equal(a.net.P, b.net.P)


def test_traces_carry_each_row_with_its_kind_and_shapes() -> None:
    rng = np.random.default_rng(0)
    net = Network(64, [Conv2D(2, 3, activation="relu"), MaxPool2D(2), Flatten(), Dense(3, "softmax")],
                  input_shape=(1, 8, 8), seed=0)
    tr = Trainer(net, rng.normal(0, 1, (12, 64)), rng.integers(0, 3, 12),
                 loss="sparse_categorical_crossentropy", batch_size=4)
    _, trace, _ = tr.step_batch(trace=True)
    kinds = [(lt.kind, lt.in_shape, lt.out_shape) for lt in trace.layers]
    assert kinds == [("conv2d", (1, 8, 8), (2, 6, 6)), ("maxpool2d", (2, 6, 6), (2, 3, 3)),
                     ("flatten", (2, 3, 3), (18,)), ("dense", (18,), (3,))]
    conv, pool = trace.layers[0], trace.layers[1]
    assert conv.W.shape == (2, 1, 3, 3) and conv.z.shape == (4, 72) and conv.update_W.shape == (2, 1, 3, 3)
    assert pool.W.size == 0 and pool.update_W is not None and pool.update_W.size == 0
    maps = conv.a.reshape(4, 2, 6, 6)
    np.testing.assert_allclose(pool.z.reshape(4, 2, 3, 3),
                               maps.reshape(4, 2, 3, 2, 3, 2).max(axis=(3, 5)), rtol=1e-6)
    assert len(tr.history.epochs) == 0 and trace.layers[0].dW.shape == (2, 1, 3, 3)


def test_gradient_check_passes_for_a_cnn() -> None:
    rng = np.random.default_rng(1)
    net = Network(49, [Conv2D(3, 3, padding="same", activation="tanh"), MaxPool2D(2), Flatten(),
                       Dense(3, "softmax")], input_shape=(1, 7, 7), seed=0)
    tr = Trainer(net, rng.normal(0, 1, (20, 49)), rng.integers(0, 3, 20),
                 loss="sparse_categorical_crossentropy", regularization="l2", regularization_rate=0.01)
    rows = gradient_check(tr)
    assert [r.name for r in rows] == ["layer0.W", "layer0.b", "layer3.W", "layer3.b"]
    assert all(r.rel_error < 1e-6 for r in rows), rows


# -- PyTorch ----------------------------------------------------------------------------------------
def test_agrees_with_pytorch() -> None:
    """Same weights (PyTorch's order for conv kernels, the transpose for dense), same batches
    (in order):
    per-batch losses within 1e-4 relative over two epochs of SGD with momentum."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the agreement test needs it")
    rng = np.random.default_rng(0)
    x, y = rng.random((96, 1 * 12 * 12)), rng.integers(0, 4, 96)
    net = Network(144, [Conv2D(4, 3, activation="relu"), MaxPool2D(2),
                        Conv2D(6, 3, padding="same", activation="tanh"), AvgPool2D(2), Flatten(),
                        Dense(4, "linear")], input_shape=(1, 12, 12), seed=0)
    tr = Trainer(net, x, y, loss="sparse_categorical_crossentropy", from_logits=True,
                 optimizer="momentum", learning_rate=0.05, batch_size=16, shuffle=False)
    w = net.get_weights()
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.Tanh(), torch.nn.AvgPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(24, 4))
    with torch.no_grad():
        for mod, key in ((model[0], "layer0"), (model[3], "layer2"), (model[7], "layer5")):
            W = torch.tensor(w[f"{key}.W"], dtype=torch.float32)
            mod.weight.copy_(W.T if key == "layer5" else W)
            mod.bias.copy_(torch.tensor(w[f"{key}.b"]))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    X = torch.tensor(x.reshape(-1, 1, 12, 12), dtype=torch.float32)
    Y = torch.tensor(y)
    ours, theirs = [], []
    for _ in range(2):
        for start in range(0, 96, 16):     # shuffle off: the batches in order
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X[start:start + 16]), Y[start:start + 16])
            loss.backward()
            opt.step()
            theirs.append(loss.item())
            ours.append(tr.step_batch()[0])
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)


def test_dense_networks_never_load_the_layered_kernels() -> None:
    """The fused all-dense kernel stays the dense path: training and predicting a dense network
    (on image data too) never imports kernels.cpu_layers, so a dense lesson compiles nothing
    of it."""
    import subprocess
    import sys
    code = (
        "import sys, numpy as np\n"
        "from nnsim.engine import Dense, Network, Trainer\n"
        "x = np.random.default_rng(0).normal(size=(40, 64)); y = np.arange(40) % 3\n"
        "net = Network(64, [Dense(8, 'relu'), Dense(3, 'softmax')], input_shape=(1, 8, 8))\n"
        "tr = Trainer(net, x, y, x, y, loss='sparse_categorical_crossentropy', batch_size=8)\n"
        "tr.step_epoch(); tr.step_batch(trace=True); tr.predict(x)\n"
        "print('nnsim.kernels.cpu_layers' in sys.modules, tr.kernels.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=600)
    assert out.stdout.split() == ["False", "nnsim.kernels.cpu"]
