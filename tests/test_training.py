"""Training behaviour: determinism, fast path = stepping, learning, symmetry, divergence, traces."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.data import load_dataset
from nnsim.engine import Dense, DivergenceError, Dropout, Network, Trainer


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    return np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([0, 1, 1, 0])


def _circle_trainer(seed: int = 0, dtype: str = "float32", **kw) -> Trainer:
    ds = load_dataset("circle", test_fraction=0.5, seed=0)
    net = Network(2, [Dense(4, "tanh", init="playground"), Dense(2, "tanh", init="playground"),
                      Dense(1, "tanh", init="playground")], seed=seed, dtype=dtype)
    return Trainer(net, ds.x_train, 2 * ds.y_train - 1, ds.x_test, 2 * ds.y_test - 1, loss="mse",
                   optimizer="sgd", learning_rate=0.03, batch_size=10, metric="accuracy", seed=seed, **kw)


def test_same_seed_same_history() -> None:
    a, b = _circle_trainer(), _circle_trainer()
    ha = [r.train_loss for r in a.train(5)]
    hb = [r.train_loss for r in b.train(5)]
    assert ha == hb
    np.testing.assert_array_equal(a.history.batch_loss, b.history.batch_loss)
    np.testing.assert_array_equal(a.net.P, b.net.P)
    c = _circle_trainer(seed=1)
    assert [r.train_loss for r in c.train(5)] != ha


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_stepping_and_play_path_end_epoch_with_same_weights(dropout: float, rng) -> None:
    x = rng.normal(0, 1, (103, 5))
    y = rng.integers(0, 3, 103)

    def make() -> Trainer:
        layers = [Dense(16, "relu"), Dropout(dropout), Dense(3, "softmax")]
        net = Network(5, layers, dtype="float64", seed=4)
        return Trainer(net, x, y, loss="sparse_categorical_crossentropy", optimizer="adam",
                       learning_rate=0.01, batch_size=8, seed=9)

    stepper, player = make(), make()
    for _ in range(2):
        rec = None
        while rec is None:
            _, _, rec = stepper.step_batch()
        player.step_epoch()
        np.testing.assert_allclose(stepper.net.P, player.net.P, rtol=1e-6, atol=1e-12)
    assert stepper.history.batch_loss == pytest.approx(player.history.batch_loss, rel=1e-12)
    assert stepper.batches_per_epoch == 13 and stepper.step == 26


def test_walked_step_equals_plain_step() -> None:
    a, b = _circle_trainer(dtype="float64"), _circle_trainer(dtype="float64")
    phases = list(a.walk_step())
    b.step_batch()
    np.testing.assert_allclose(a.net.P, b.net.P, rtol=1e-12)
    kinds = [(p.kind, p.layer) for p in phases]
    assert kinds == [("forward", 0), ("forward", 1), ("forward", 2), ("loss", None),
                     ("backward", 2), ("backward", 1), ("backward", 0), ("update", None)]


def test_walk_closed_early_changes_nothing() -> None:
    tr = _circle_trainer()
    before = tr.net.P.copy()
    walk = tr.walk_step()
    for _ in range(4):
        next(walk)
    walk.close()
    np.testing.assert_array_equal(tr.net.P, before)
    assert tr.step == 0 and tr.batch == 0


def test_trace_numbers_follow_the_math() -> None:
    tr = _circle_trainer(dtype="float64")
    loss, trace, _ = tr.step_batch(trace=True)
    assert trace is not None and len(trace.layers) == 3
    x = tr.x_train[trace.indices]
    np.testing.assert_allclose(trace.layers[0].a_in, x)
    for lt in trace.layers:
        np.testing.assert_allclose(lt.z, lt.a_in @ lt.W + lt.b, rtol=1e-12)
        np.testing.assert_allclose(lt.a, np.tanh(lt.z), rtol=1e-12)
        np.testing.assert_allclose(lt.dZ, lt.dA * (1 - np.tanh(lt.z) ** 2), rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(lt.dW, lt.a_in.T @ lt.dZ, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(lt.db, lt.dZ.sum(axis=0), rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(lt.update_W, -0.03 * lt.dW, rtol=1e-9, atol=1e-15)
    for upper, lower in zip(trace.layers[1:], trace.layers[:-1]):
        np.testing.assert_allclose(lower.dA, upper.dZ @ upper.W.T, rtol=1e-10, atol=1e-15)
    y = trace.y
    assert loss == pytest.approx(np.mean((trace.layers[-1].a - y) ** 2))
    np.testing.assert_allclose(trace.layers[-1].dA, 2 * (trace.layers[-1].a - y) / len(y))


def test_xor_with_hidden_layer_reaches_full_accuracy() -> None:
    x, y = xor_data()
    net = Network(2, [Dense(4, "tanh"), Dense(1, "sigmoid")], seed=0)
    tr = Trainer(net, x, y, x, y, loss="binary_crossentropy", optimizer="adam", learning_rate=0.05,
                 batch_size=4)
    rec = list(tr.train(500))[-1]
    assert rec.train_metric == 1.0


def test_two_circles_playground_network_reaches_95_percent() -> None:
    tr = _circle_trainer()
    best = max(rec.test_metric for rec in tr.train(60))
    assert tr.history.epochs[-1].test_metric >= 0.95, best


def test_zero_initialised_hidden_units_stay_identical() -> None:
    x, y = xor_data()
    net = Network(2, [Dense(3, "tanh", init="zeros"), Dense(1, "sigmoid", init="zeros")], seed=0)
    tr = Trainer(net, x, y, loss="binary_crossentropy", optimizer="sgd", learning_rate=0.5, batch_size=4)
    for _ in tr.train(200):
        pass
    W, b = net.dense[0].params["W"], net.dense[0].params["b"]
    assert np.allclose(W, W[:, :1]) and np.allclose(b, b[0])
    W2 = net.dense[1].params["W"]
    assert np.allclose(W2, W2[0])
    assert tr.history.epochs[-1].train_metric <= 0.75


F32_MAX = float(np.finfo(np.float32).max)


def quantity(err: DivergenceError) -> str:
    """The quantity an error names, without the engine's prefix ("activation z" → "z",
    "gradient dL/dW" → "dL/dW"): errors.py documents the bare names."""
    return err.quantity.split()[-1]


def first_overflow(weights: dict[str, np.ndarray], acts: list[str], x: np.ndarray,
                   y: np.ndarray) -> tuple[tuple[int, str] | None, float]:
    """One mse step of a dense relu/linear net, in float64 NumPy: the first value too large for
    float32, as (layer 1-based, name) in the order a divergence is reported (forward z then a
    per layer, the loss, backward dL/da then dL/dz from the top, then dL/dW), or None; and the
    gradient's norm."""
    L = len(acts)
    W = [weights[f"layer{l}.W"].astype(np.float64) for l in range(L)]
    b = [weights[f"layer{l}.b"].astype(np.float64) for l in range(L)]
    found: list[tuple[int, str]] = []

    def check(layer: int, name: str, value: np.ndarray) -> None:
        if not found and not np.all(np.abs(value) <= F32_MAX):
            found.append((layer, name))

    a, zs = [x.astype(np.float64)], []
    for l in range(L):
        zs.append(a[-1] @ W[l] + b[l])
        a.append(np.maximum(zs[-1], 0.0) if acts[l] == "relu" else zs[-1])
        check(l + 1, "z", zs[-1])
        check(l + 1, "a", a[-1])
    check(L, "loss", (a[-1] - y) ** 2)
    da, grads = 2.0 * (a[-1] - y) / y.size, []
    for l in range(L - 1, -1, -1):
        dz = da * (zs[l] > 0) if acts[l] == "relu" else da
        check(l + 1, "dL/da", da)
        check(l + 1, "dL/dz", dz)
        grads.append((l + 1, a[l].T @ dz, dz.sum(axis=0)))
        da = dz @ W[l].T
    for layer, dw, db in grads:
        check(layer, "dL/dW", np.concatenate([dw.ravel(), db]))
    norm = float(np.sqrt(sum((dw ** 2).sum() + (db ** 2).sum() for _, dw, db in grads)))
    return (found[0] if found else None), norm


def test_divergence_is_reported_at_the_first_value_float32_cannot_hold(rng) -> None:
    """lr 10 on a steep regression: each step is recomputed here in float64; training must stop
    at the first step with a value beyond float32's range, naming that value and its layer, with
    the step not applied and the largest gradient norm of the steps before."""
    x = rng.normal(0, 3, (64, 2))
    y = x @ np.array([[3.0], [-2.0]]) * 50
    acts = ["relu", "relu", "linear"]
    net = Network(2, [Dense(16, acts[0]), Dense(16, acts[1]), Dense(1, acts[2])], seed=0)
    tr = Trainer(net, x, y, loss="mse", optimizer="sgd", learning_rate=10.0, batch_size=8,
                 shuffle=False)
    xs, ys = tr.x_train, tr.y_train.astype(np.float64)
    norms: list[float] = []
    for step in range(1, 51):
        before = net.get_weights()
        rows = slice((step - 1) % 8 * 8, (step - 1) % 8 * 8 + 8)   # shuffle off: batches in order
        expected, norm = first_overflow(before, acts, xs[rows], ys[rows])
        try:
            tr.step_batch()
        except DivergenceError as e:
            assert expected is not None, (
                f"step {step} reported {e.quantity} in layer {e.layer}, but every value of that "
                f"step fits in float32 (gradient norm {norm:.3g})")
            assert (e.layer, quantity(e)) == expected and e.step == step
            assert e.max_grad_norm == pytest.approx(max(norms), rel=1e-4)
            assert all(np.array_equal(v, before[k]) for k, v in net.get_weights().items())
            msg = str(e)
            assert f"step {step}" in msg and f"layer {e.layer}" in msg and "learning rate 10" in msg
            return
        assert expected is None, f"step {step} has {expected} beyond float32 but did not stop"
        norms.append(norm)
    pytest.fail("training did not diverge in 50 steps")


# Weights chosen so that one value overflows float32 (max ≈ 3.4e38) by a wide margin at step 1
# while everything before it in the reporting order stays far inside; x is all ones, y zeros.
OVERFLOWS = {
    # tanh(10·Σx) ≈ 1 on 4 units, then z₂ = 4 · 3e38 ≈ 1.2e39
    "z in layer 2": ((2, "z"), [Dense(4, "tanh"), Dense(3, "linear"), Dense(1, "linear")],
                     {"layer0.W": 10.0, "layer1.W": 3e38, "layer2.W": 1.0}),
    # a₁ = 2e38 (fits), output 2e38 · 5e-38 = 10, dL/dW₂ = Σ over 4 rows a₁ · 2·10/4 = 4e39
    "dL/dW in layer 2": ((2, "dL/dW"), [Dense(1, "linear"), Dense(1, "linear")],
                         {"layer0.W": 1e38, "layer1.W": 5e-38}),
}


@pytest.mark.parametrize("case", OVERFLOWS)
def test_divergence_names_the_value_that_overflowed(case: str) -> None:
    (layer, name), layers, values = OVERFLOWS[case]
    net = Network(2, layers, seed=0)
    net.set_weights({k: np.full_like(v, values[k[:-2] + ".W"]) if k.endswith(".W") else np.zeros_like(v)
                     for k, v in net.get_weights().items()})
    before = net.P.copy()
    tr = Trainer(net, np.ones((4, 2)), np.zeros((4, 1)), loss="mse", optimizer="sgd",
                 learning_rate=0.1, batch_size=4)
    with pytest.raises(DivergenceError) as err:
        tr.step_batch()
    e = err.value
    assert (e.layer, quantity(e), e.step, e.epoch, e.batch) == (layer, name, 1, 0, 0)
    assert e.max_grad_norm == 0.0 and np.array_equal(net.P, before) and tr.step == 0


def test_history_records_everything_per_epoch() -> None:
    tr = _circle_trainer()
    rec = tr.step_epoch()
    assert rec.epoch == 1 and rec.batches == 25 and rec.seconds > 0
    assert len(rec.grad_norms) == 3 and all(g > 0 for g in rec.grad_norms)
    assert len(rec.weight_norms) == 3 and rec.learning_rate == pytest.approx(0.03)
    assert tr.history.batch_epoch.tolist() == [1] * 25
    assert tr.history.batch_index.tolist() == list(range(1, 26))
    pred = tr.predict(tr.x_test)
    assert rec.test_loss == pytest.approx(np.mean((pred[:, 0] - tr.y_test[:, 0]) ** 2), rel=1e-5)


def test_schedules_change_the_rate_per_epoch() -> None:
    tr = _circle_trainer(schedule="step", schedule_options={"step_size": 2, "gamma": 0.5})
    rates = [r.learning_rate for r in tr.train(5)]
    assert rates == pytest.approx([0.03, 0.03, 0.015, 0.015, 0.0075])
    tr = _circle_trainer(schedule="cosine", schedule_options={"t_max": 4})
    rates = [r.learning_rate for r in tr.train(5)]
    assert rates[0] == pytest.approx(0.03) and rates[2] == pytest.approx(0.015)
    assert rates[4] == pytest.approx(0.0)


def test_live_changes_apply_without_reset() -> None:
    """Rate, batch size, L2 and optimizer changed between steps: the next steps use all of them
    (checked against the update formulas), and nothing is reset."""
    tr = _circle_trainer(dtype="float64")
    tr.step_batch()
    tr.learning_rate = 0.1
    tr.batch_size = 25
    tr.set_regularization("l2", 0.001)
    tr.set_optimizer("momentum", momentum=0.5)
    _, t2, _ = tr.step_batch(trace=True)
    _, t3, _ = tr.step_batch(trace=True)
    assert tr.step == 3 and tr.pos == 10 + 25 + 25 and tr.batches_per_epoch == 3 + 8  # 250 rows
    assert len(t2.indices) == len(t3.indices) == 25 and t2.learning_rate == 0.1
    for l2, l3 in zip(t2.layers, t3.layers):
        for lt in (l2, l3):   # L2: dL/dW gains rate·W (biases are not penalised)
            np.testing.assert_allclose(lt.dW, lt.a_in.T @ lt.dZ + 0.001 * lt.W, rtol=1e-10, atol=1e-15)
            np.testing.assert_allclose(lt.db, lt.dZ.sum(axis=0), rtol=1e-10, atol=1e-15)
        # momentum 0.5: v ← 0.5·v − 0.1·g, w ← w + v; v starts at 0 for a new optimizer kind
        np.testing.assert_allclose(l2.update_W, -0.1 * l2.dW, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(l3.update_W, 0.5 * l2.update_W - 0.1 * l3.dW, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(l3.update_b, 0.5 * l2.update_b - 0.1 * l3.db, rtol=1e-9, atol=1e-15)


def test_playground_initialiser_and_bias() -> None:
    net = Network(2, [Dense(50, "tanh", init="playground")], seed=0)
    W, b = net.dense[0].params["W"], net.dense[0].params["b"]
    assert W.min() >= -0.5 and W.max() < 0.5 and np.allclose(b, 0.1)


def test_learning_rate_100_on_a_small_net_diverges_with_the_diagnosis() -> None:
    """The issue's example: lr 100 is accepted, and training stops with the health error."""
    ds = load_dataset("circle", test_fraction=0.5, seed=0)
    net = Network(2, [Dense(8, "relu"), Dense(1)], seed=0)
    tr = Trainer(net, ds.x_train, 2 * ds.y_train - 1.0, loss="mse", optimizer="sgd",
                 learning_rate=100.0, batch_size=10)
    with pytest.raises(DivergenceError) as err:
        for _ in tr.train(20):
            pass
    assert err.value.learning_rate == 100.0 and "layer" in str(err.value)


def test_training_prints_nothing(capfd) -> None:
    """The engine never prints (the import contracts are in test_contracts.py)."""
    x = np.random.default_rng(0).normal(size=(30, 2))
    tr = Trainer(Network(2, [Dense(3, "relu"), Dense(1)]), x, x[:, :1], loss="mse", batch_size=5)
    for _ in tr.train(2):
        pass
    list(tr.walk_step())
    out, err = capfd.readouterr()
    assert out == "" and err == ""
