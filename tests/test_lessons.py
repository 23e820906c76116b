"""The built-in lessons in scenarios/: each validates, round-trips, and trains to its goals with its
own settings and seed; plus the specific facts their descriptions promise."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from nnsim.engine import Dense, DivergenceError
from nnsim.scenarios import (
    DenseLayer,
    DropoutLayer,
    Scenario,
    Schedule,
    dump_scenario,
    load_scenario,
    loads_scenario,
)
from nnsim.scenarios.build import Session, build_session
from nnsim.scenarios.circuit import scenario_kind
from nnsim.scenarios.goals import evaluate_goals

ROOT = Path(__file__).resolve().parents[1]
LESSON_DIR = ROOT / "scenarios"
LESSONS = sorted(LESSON_DIR.glob("*.toml"))
#: The lessons that build and train a network (circuit lessons: tests/test_circuit_lessons.py).
NETWORK_LESSONS = [p for p in LESSONS if scenario_kind(p) == "network"]
SLOW = {"29-digits.toml"}


def _params(paths: list[Path]) -> list:
    return [pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.name in SLOW else [])
            for p in paths]


@dataclass
class Run:
    session: Session
    diverged: DivergenceError | None

    @property
    def trainer(self):
        return self.session.trainer

    @property
    def epochs(self):
        return self.session.trainer.history.epochs


_RUNS: dict[str, Run] = {}


def train(scenario: Scenario, epochs: int | None = None) -> Run:
    """Train a scenario the way `nnsim run` does: its epochs, its seed, stopping on divergence."""
    session = build_session(scenario)
    diverged = None
    try:
        for _ in session.trainer.train(epochs or scenario.training.epochs):
            pass
    except DivergenceError as err:
        diverged = err
    return Run(session, diverged)


def lesson(name: str) -> Scenario:
    matches = [p for p in LESSONS if p.name == name]
    assert matches, f"lesson {name} is missing from {LESSON_DIR}"
    return load_scenario(matches[0])


def trained(name: str) -> Run:
    """The lesson trained with its shipped settings (once per test session)."""
    if name not in _RUNS:
        _RUNS[name] = train(lesson(name))
    return _RUNS[name]


def with_training(s: Scenario, **changes) -> Scenario:
    return s.model_copy(update={"training": s.training.model_copy(update=changes)})


def first_epoch_reaching(run: Run, accuracy: float) -> int | None:
    return next((r.epoch for r in run.epochs if r.test_metric >= accuracy), None)


def hidden_pre_activations(run: Run) -> list[np.ndarray]:
    """z of every hidden dense layer on the whole training set (network without dropout)."""
    net, out = run.trainer.net, []
    a = run.session.dataset.x_train.astype(np.float64)
    weights = net.get_weights()
    dense = [i for i, layer in enumerate(net.layers) if isinstance(layer, Dense)]
    for i in dense[:-1]:
        z = a @ weights[f"layer{i}.W"].astype(np.float64) + weights[f"layer{i}.b"].astype(np.float64)
        act = net.layers[i].activation
        assert act in ("relu", "leaky_relu"), act
        a = np.maximum(z, 0.0) if act == "relu" else np.where(z > 0, z, 0.01 * z)
        out.append(z)
    return out


# -- every lesson ------------------------------------------------------------------------------

#: Lesson numbers come in blocks, each numbered from its first number without gaps: 01–29 the
#: network basics, 30–39 circuits (gates and the chain rule), 40–44 gradients and batches,
#: 45 on convolution, 50 on sequences and memory (a block may still be empty).
BLOCK_STARTS = (1, 30, 40, 45, 50)


def test_lessons_are_numbered_in_teaching_order() -> None:
    assert len(LESSONS) >= 25
    numbers = []
    for p in LESSONS:
        m = re.fullmatch(r"(\d\d)-[a-z0-9-]+\.toml", p.name)
        assert m, f"{p.name}: expected NN-name.toml"
        numbers.append(int(m.group(1)))
    for start, end in zip(BLOCK_STARTS, BLOCK_STARTS[1:] + (100,)):
        block = [n for n in numbers if start <= n < end]
        assert block == list(range(start, start + len(block))), (start, block)


@pytest.mark.parametrize("path", _params(NETWORK_LESSONS))
def test_lesson_validates_and_round_trips(path: Path) -> None:
    s = load_scenario(path)
    assert loads_scenario(dump_scenario(s)) == s
    assert s.meta.name and len(s.meta.description) > 200
    assert "What to watch" in s.meta.description and "What to do" in s.meta.description
    goals = s.goals.model_dump(exclude_none=True)
    assert goals, f"{path.name} sets no goal"


@pytest.mark.parametrize("path", _params(NETWORK_LESSONS))
def test_lesson_reaches_its_goals(path: Path) -> None:
    s = load_scenario(path)
    run = trained(path.name)
    results = evaluate_goals(s.goals, run.epochs, run.diverged is not None)
    assert results, f"{path.name} sets no goal"
    report = "; ".join(f"{r.text}: {'met' if r.met else 'NOT met'} ({r.detail})" for r in results)
    assert all(r.met for r in results), f"{path.name}: {report}"


def test_docs_list_every_lesson() -> None:
    text = (ROOT / "docs" / "lessons.md").read_text(encoding="utf-8")
    for p in LESSONS:
        assert f"scenarios/{p.name}" in text, f"docs/lessons.md does not list {p.name}"


# -- facts the descriptions state ---------------------------------------------------------------

def test_parameter_counting_network_is_3_4_2_with_26_parameters() -> None:
    s = lesson("03-layers-and-parameters.toml")
    net = build_session(s).network
    assert net.input_dim == 3
    assert [d.units for d in net.dense] == [4, 2]
    weights = sum(w.size for w in net.weight_arrays())
    biases = sum(d.units for d in net.dense)
    assert (weights, biases, net.n_params) == (20, 6, 26)
    assert [row.params for row in net.summary()] == [16, 10]


def test_neuron_lessons_are_a_single_neuron() -> None:
    for name in ("01-neuron-and.toml", "02-neuron-or.toml", "07-gauss.toml"):
        s = lesson(name)
        assert len(s.layers) == 1 and s.layers[0].units == 1


def test_xor_without_hidden_layer_has_no_hidden_layer() -> None:
    s = lesson("04-xor-without-hidden-layer.toml")
    assert s.data.dataset == "xor-gate"
    assert len(s.layers) == 1 and isinstance(s.layers[0], DenseLayer) and s.layers[0].units == 1
    run = trained("04-xor-without-hidden-layer.toml")
    assert run.trainer.net.n_dense == 1
    # A line gets at most 3 of the 4 rows right; the loss is stuck near ln 2.
    assert max(r.test_metric for r in run.epochs) <= 0.75
    assert abs(run.epochs[-1].train_loss - math.log(2)) < 0.01


def test_xor_with_hidden_layer_solves_what_the_neuron_cannot() -> None:
    s = lesson("05-xor-with-hidden-layer.toml")
    assert s.data.dataset == "xor-gate" and len(s.layers) == 2
    assert trained("05-xor-with-hidden-layer.toml").epochs[-1].test_metric == 1.0


def test_two_circles_is_the_playground_default() -> None:
    s = lesson("06-two-circles.toml")
    assert (s.data.dataset, s.data.noise, s.data.test_fraction) == ("circle", 0.0, 0.5)
    assert [(l.units, l.activation, l.init, l.bias_init) for l in s.layers] == [
        (4, "tanh", "playground", 0.1), (2, "tanh", "playground", 0.1), (1, "tanh", "playground", 0.1)]
    t = s.training
    assert (t.loss, t.optimizer, t.learning_rate, t.batch_size) == ("mse", "sgd", 0.03, 10)
    assert s.goals.test_accuracy_at_least == 0.95
    session = build_session(s)
    assert set(np.unique(session.trainer.y_train)) == {-1.0, 1.0}   # ±1 labels for a tanh output


def test_two_circles_mse_steps_twice_the_playgrounds_half_squared_error() -> None:
    """The playground's loss is the batch mean of ½(o − t)²; with batches of 10 that is sse / 10.
    nnsim's mse at 0.03 takes exactly the steps of the playground's loss at 0.06 (sse at 0.006),
    and mse at 0.015 those of the playground at 0.03 (sse at 0.003)."""
    s = lesson("06-two-circles.toml")
    for mse_lr, playground_lr in ((0.03, 0.06), (0.015, 0.03)):
        mse = train(with_training(s, learning_rate=mse_lr), epochs=2).trainer.net.get_weights()
        half = train(with_training(s, loss="sse", learning_rate=playground_lr / 10),
                     epochs=2).trainer.net.get_weights()
        for key in mse:
            np.testing.assert_allclose(mse[key], half[key], rtol=1e-4, atol=1e-6)


def test_activation_lessons_differ_only_in_the_hidden_activation() -> None:
    names = ["09-activation-relu.toml", "10-activation-tanh.toml", "11-activation-sigmoid.toml",
             "12-activation-linear.toml"]
    scenarios = [lesson(n) for n in names]
    for s, act in zip(scenarios, ["relu", "tanh", "sigmoid", "linear"]):
        assert [l.activation for l in s.layers] == [act, act, "sigmoid"]
        assert s.data == scenarios[0].data and s.meta.seed == scenarios[0].meta.seed
        one_epoch = {"epochs": 1}
        assert s.training.model_copy(update=one_epoch) == scenarios[0].training.model_copy(update=one_epoch)
    relu, tanh, sigmoid = (trained(n) for n in names[:3])
    reached = [first_epoch_reaching(r, 0.9) for r in (relu, tanh, sigmoid)]
    assert None not in reached and reached[2] > 3 * max(reached[:2])
    g = sigmoid.epochs[0].grad_norms
    assert g[0] < g[-1] / 10   # the sigmoid stack's first layer learns slowly from the start


def test_multiclass_spiral_uses_softmax_over_three_classes() -> None:
    s = lesson("13-multiclass-spiral-softmax.toml")
    assert s.data.classes == 3 and s.layers[-1].units == 3 and s.layers[-1].activation == "softmax"
    run = trained("13-multiclass-spiral-softmax.toml")
    assert abs(run.trainer.history.batch_loss[0] - math.log(3)) < 0.3
    probs = run.trainer.predict(run.session.dataset.x_test[:5])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_regression_plane_neuron_finds_the_rule() -> None:
    run = trained("14-regression-plane.toml")
    w = run.trainer.net.get_weights()
    np.testing.assert_allclose(w["layer0.W"].ravel(), [0.1, 0.1], atol=0.01)
    assert abs(float(w["layer0.b"][0])) < 0.01


def test_sse_with_batch_10_steps_like_mse_at_five_times_the_rate() -> None:
    s = lesson("16-losses-sse.toml")
    assert s.training.loss == "sse" and s.training.batch_size == 10
    sse = train(s, epochs=3)
    mse = train(with_training(s, loss="mse", learning_rate=s.training.learning_rate * 5), epochs=3)
    a, b = sse.trainer.net.get_weights(), mse.trainer.net.get_weights()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-3, atol=1e-5)
    # The SSE loss reported is a sum over the set: 50 × the MSE of the same predictions.
    r_sse, r_mse = sse.epochs[-1], mse.epochs[-1]
    assert r_sse.test_loss == pytest.approx(50 * r_mse.test_loss, rel=1e-2)


def test_learning_rate_too_high_raises_divergence_error() -> None:
    s = lesson("17-learning-rate-too-high.toml")
    run = trained("17-learning-rate-too-high.toml")
    assert isinstance(run.diverged, DivergenceError)
    assert run.diverged.epoch < s.training.epochs
    assert "learning rate" in str(run.diverged)
    # The loss climbed by orders of magnitude before the overflow.
    assert run.epochs[-1].train_loss > 1e6 * run.trainer.history.batch_loss[0]
    # The same lesson at a small enough rate converges.
    calm = train(with_training(s, learning_rate=0.03), epochs=3)
    assert calm.diverged is None and calm.epochs[-1].train_loss < 1e-6


def test_momentum_reaches_the_target_much_sooner_than_plain_sgd() -> None:
    sgd, mom = lesson("18-sgd-plain.toml"), lesson("19-sgd-momentum.toml")
    assert sgd.data == mom.data and sgd.layers == mom.layers and sgd.meta.seed == mom.meta.seed
    assert sgd.training.learning_rate == mom.training.learning_rate
    assert (sgd.training.optimizer, mom.training.optimizer) == ("sgd", "momentum")
    a = first_epoch_reaching(trained("18-sgd-plain.toml"), 0.9)
    b = first_epoch_reaching(trained("19-sgd-momentum.toml"), 0.9)
    assert a is not None and b is not None and 4 * b < a


def test_cosine_annealing_settles_where_a_constant_rate_does_not() -> None:
    s = lesson("20-learning-rate-annealing.toml")
    assert s.training.schedule.name == "cosine"
    run = trained("20-learning-rate-annealing.toml")
    rates = [r.learning_rate for r in run.epochs]
    assert rates[0] == pytest.approx(s.training.learning_rate)
    assert all(x >= y for x, y in zip(rates, rates[1:])) and rates[-1] < 0.01 * rates[0]
    constant = train(with_training(s, schedule=Schedule(name="constant")))
    assert constant.diverged is None
    assert constant.epochs[-1].train_loss > 5 * run.epochs[-1].train_loss
    # the numbers the text states: the same ground at epoch 50, a different end
    assert run.epochs[49].train_loss == pytest.approx(0.57, abs=0.01)
    assert constant.epochs[49].train_loss == pytest.approx(0.55, abs=0.01)
    assert run.epochs[-1].train_loss == pytest.approx(0.025, abs=0.002) and run.epochs[-1].test_metric > 0.98
    assert constant.epochs[-1].train_loss == pytest.approx(0.19, abs=0.01)
    assert constant.epochs[-1].test_metric == pytest.approx(0.88, abs=0.01)


def test_zero_initialisation_hidden_units_stay_identical() -> None:
    s = lesson("21-zero-initialisation.toml")
    assert all(l.init == "zeros" for l in s.layers)
    run = trained("21-zero-initialisation.toml")
    w = run.trainer.net.get_weights()
    W, b, V = w["layer0.W"], w["layer0.b"], w["layer1.W"]
    assert W.shape[1] > 1
    assert np.abs(W).max() > 0.01                     # the weights did move ...
    np.testing.assert_array_equal(W, np.repeat(W[:, :1], W.shape[1], axis=1))   # ... in lockstep
    np.testing.assert_array_equal(b, np.full_like(b, b[0]))
    np.testing.assert_array_equal(V, np.full_like(V, V[0, 0]))
    # The fix the lesson suggests: random hidden weights break the symmetry.
    fixed = s.model_copy(update={"layers": [s.layers[0].model_copy(update={"init": "glorot_uniform"}),
                                            s.layers[1]]})
    run = train(fixed, epochs=120)
    assert run.epochs[-1].test_metric >= 0.95


def test_vanishing_gradients_shrink_layer_by_layer() -> None:
    s = lesson("22-vanishing-gradients.toml")
    hidden = [l for l in s.layers if isinstance(l, DenseLayer)][:-1]
    assert len(hidden) >= 6 and all(l.activation == "sigmoid" for l in hidden)
    g = trained("22-vanishing-gradients.toml").epochs[0].grad_norms   # first to last dense layer
    assert len(g) == len(hidden) + 1
    assert all(early < late for early, late in zip(g, g[1:])), g
    assert g[-1] > 1e4 * g[0]


def test_deep_relu_with_he_init_keeps_gradients_comparable() -> None:
    g = trained("23-deep-relu-he-init.toml").epochs[0].grad_norms
    assert len(g) == 9 and max(g) < 20 * min(g)


def dead_units(run: Run) -> list[int]:
    """Per hidden layer: units with z ≤ 0 for every training point (dead, for relu)."""
    return [int((layer <= 0).all(axis=0).sum()) for layer in hidden_pre_activations(run)]


def test_dying_relu_kills_a_whole_layer_and_leaky_relu_does_not() -> None:
    dying = trained("24-dying-relu.toml")
    z = hidden_pre_activations(dying)
    dead = [int((layer <= 0).all(axis=0).sum()) for layer in z]
    assert dead == [3, z[-1].shape[1]], dead          # 3 of 8, and every unit of the last layer
    assert dying.epochs[-1].grad_norms[:-1] == [0.0] * (len(z))
    assert max(r.test_metric for r in dying.epochs) < 0.55
    first = train(lesson("24-dying-relu.toml"), epochs=1)
    assert dead_units(first) == [3, 8]                 # "within the first epoch"
    # The first fix the lesson suggests: the same relu network at learning rate 0.3 trains.
    calmer = train(with_training(lesson("24-dying-relu.toml"), learning_rate=0.3))
    assert calmer.diverged is None and calmer.epochs[-1].test_metric >= 0.9


def test_leaky_relu_is_the_dying_relu_lesson_with_one_change_and_recovers() -> None:
    relu, leaky = lesson("24-dying-relu.toml"), lesson("25-leaky-relu.toml")
    assert relu.data == leaky.data and relu.meta.seed == leaky.meta.seed
    assert relu.training == leaky.training and relu.training.learning_rate == 3.0
    assert [l.activation for l in relu.layers] == ["relu", "relu", "sigmoid"]
    assert [l.activation for l in leaky.layers] == ["leaky_relu", "leaky_relu", "sigmoid"]
    assert ([l.model_copy(update={"activation": "x"}) for l in relu.layers[:2]]
            == [l.model_copy(update={"activation": "x"}) for l in leaky.layers[:2]])
    run = trained("25-leaky-relu.toml")
    acc = [r.test_metric for r in run.epochs]
    assert acc[0] < 0.55 and acc[1] < 0.55                       # two epochs like the relu run
    assert 0.85 <= acc[2] < 0.93 and acc[3] >= 0.95               # about 90% at 3, 95% at 4
    assert all(r.train_loss < 0.65 for r in run.epochs[:2])
    assert dead_units(run) == [5, 7]                              # "dead" for relu, not here
    assert all(g > 0.01 for g in run.epochs[-1].grad_norms)       # every layer keeps learning
    dying = trained("24-dying-relu.toml")
    assert max(r.test_metric for r in dying.epochs) < 0.55 < min(acc[3:])


def test_overfitting_gap_and_what_l2_does_to_it() -> None:
    over, l2 = lesson("26-overfitting.toml"), lesson("27-l2-regularization.toml")
    assert over.data == l2.data and over.layers == l2.layers and over.meta.seed == l2.meta.seed
    assert (over.training.regularization, l2.training.regularization) == ("none", "l2")
    a, b = trained("26-overfitting.toml").epochs, trained("27-l2-regularization.toml").epochs
    assert a[-1].train_metric == 1.0
    assert a[-1].test_loss > 10 * a[-1].train_loss
    assert a[-1].test_loss > 2 * min(r.test_loss for r in a)     # the test loss turned and climbed
    assert (b[-1].test_loss - b[-1].train_loss) < (a[-1].test_loss - a[-1].train_loss) / 5
    assert sum(b[-1].weight_norms) < sum(a[-1].weight_norms) / 2


def test_admissions_beats_always_saying_no() -> None:
    s = lesson("28-admissions.toml")
    assert s.data.normalize and [l.units for l in s.layers] == [2, 1]
    assert all(l.activation == "sigmoid" and l.init == "lecun_normal" for l in s.layers)
    t = s.training
    assert (t.loss, t.batch_size, t.epochs) == ("sse", "full", 900)     # the classic exercise
    run = trained("28-admissions.toml")
    assert run.trainer.batch_size == run.trainer.n_train == 360 and run.trainer.batches_per_epoch == 1
    y = run.session.dataset.y_test
    assert max(y.mean(), 1 - y.mean()) == pytest.approx(0.6)
    assert run.epochs[0].test_metric == pytest.approx(0.6)
    assert run.epochs[-1].test_metric == pytest.approx(0.675)
    assert run.epochs[-1].test_metric > max(y.mean(), 1 - y.mean())
    # the loss is ½ Σ (y − ŷ)² over the 360 rows: about 41.5 at the start, about 34 at the end
    fresh = build_session(s).trainer
    pred = fresh.predict(fresh.x_train).astype(np.float64)
    start = 0.5 * float(np.sum((fresh.y_train - pred) ** 2))
    assert start == pytest.approx(41.5, abs=0.1) and 2 * start / 360 == pytest.approx(0.23, abs=0.005)
    assert run.epochs[-1].train_loss == pytest.approx(34.2, abs=0.1)
    # the summed step at lr 0.01 is the exercise's averaged step at learnrate 0.01 × 360 = 3.6:
    # the same first update as mse (mean (y − ŷ)², twice ½) at 0.01 × 360 / 2
    a = train(s, epochs=1).trainer.net.get_weights()
    b = train(with_training(s, loss="mse", learning_rate=0.01 * 360 / 2), epochs=1).trainer.net.get_weights()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-4, atol=1e-6)


def _xor_loss(W1, b1, W2, b2, x, y) -> float:
    """The wiggle lesson's loss in NumPy: tanh hidden layer, sigmoid output, mean binary CE."""
    p = 1.0 / (1.0 + np.exp(-(np.tanh(x @ W1 + b1) @ W2 + b2)))
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_wiggle_one_weight_numbers() -> None:
    """Lesson 40's numbers from a finite difference computed here, in NumPy: L(w), dL/dw, and
    how the central and forward differences' errors shrink with h until rounding takes over."""
    s = lesson("40-wiggle-one-weight.toml")
    assert s.training.batch_size == "full" and [l.units for l in s.layers] == [3, 1]
    session = build_session(s)
    tr = session.trainer
    w = {k: v.astype(np.float64) for k, v in tr.net.get_weights().items()}
    x, y = tr.x_train.astype(np.float64), tr.y_train.astype(np.float64)
    assert len(x) == 4 and tr.batch_size == 4

    def L(delta: float) -> float:
        W1 = w["layer0.W"].copy()
        W1[0, 0] += delta
        return _xor_loss(W1, w["layer0.b"], w["layer1.W"], w["layer1.b"], x, y)

    base = L(0.0)
    assert base == pytest.approx(0.70927, abs=5e-6)
    g = (L(1e-6) - L(-1e-6)) / 2e-6
    assert g == pytest.approx(-0.061621, abs=5e-7)

    def rel(a: float) -> float:
        return abs(a - g) / (abs(a) + abs(g))

    central = {h: rel((L(h) - L(-h)) / (2 * h)) for h in (0.1, 0.01, 0.001, 1e-5, 1e-8, 1e-11)}
    forward = {h: rel((L(h) - base) / h) for h in (0.1, 0.01, 0.001, 1e-5)}
    for h, stated in ((0.1, 6e-3), (0.01, 1e-3), (0.001, 1e-4), (1e-5, 1e-6)):
        assert stated / 2 < forward[h] < stated * 2, (h, forward[h])
    for h, stated in ((0.1, 4e-3), (0.01, 4e-5), (0.001, 4e-7)):
        assert stated / 2 < central[h] < stated * 2, (h, central[h])
    assert central[1e-5] < 1e-9 and 1e-9 < central[1e-8] < 1e-7 and 1e-6 < central[1e-11] < 1e-4
    # the backward pass (the card's dL/dw₀, the batch being all four rows) gives the same number
    phases = list(tr.walk_step())
    layer1 = next(p for p in phases if p.kind == "backward" and p.layer == 0).trace.layers[0]
    assert float(layer1.dW[0, 0]) == pytest.approx(g, rel=1e-5)
    run = trained("40-wiggle-one-weight.toml")
    first = next(r.epoch for r in run.epochs if r.test_metric == 1.0 and r.train_loss < 0.1)
    assert 150 <= first <= 250                                      # "after about 200 epochs"


def first_epoch_at(run: Run, accuracy: float) -> int | None:
    return next((r.epoch for r in run.epochs if r.test_metric >= accuracy), None)


def test_batch_size_lesson_full_batch_mini_batch_and_one_sample() -> None:
    s = lesson("41-batch-size.toml")
    assert s.training.batch_size == 10 and s.training.learning_rate == 0.3
    mini = trained("41-batch-size.toml")
    full = train(with_training(s, batch_size="full", epochs=200))
    one = train(with_training(s, batch_size=1))
    assert (mini.trainer.batches_per_epoch, full.trainer.batches_per_epoch,
            one.trainer.batches_per_epoch) == (25, 1, 250)
    assert first_epoch_at(mini, 0.95) == 5
    assert (first_epoch_at(full, 0.9), first_epoch_at(full, 0.95)) == (105, 127)
    assert (first_epoch_at(one, 0.9), first_epoch_at(one, 0.95)) == (3, 9)
    # counted in updates, the full batch and batches of 10 need about the same number
    assert abs(127 * 1 - 5 * 25) <= 5
    assert mini.epochs[-1].train_loss == pytest.approx(0.02, abs=0.005)

    def rises(run: Run) -> float:
        loss = np.array([r.train_loss for r in run.epochs])
        return float(np.mean(np.diff(loss) > 0))

    assert rises(full) == 0.0                          # smooth: falls at every epoch
    assert 0.1 < rises(mini) < 0.25                     # about one epoch in six
    assert 0.25 < rises(one) < 0.45                     # about a third


@pytest.mark.slow
def test_digits_is_the_keras_quick_start_with_initial_loss_ln_10() -> None:
    s = lesson("29-digits.toml")
    kinds = [(type(l).__name__, getattr(l, "units", None), getattr(l, "activation", None),
              getattr(l, "rate", None)) for l in s.layers]
    assert kinds == [("DenseLayer", 128, "relu", None), ("DropoutLayer", None, None, 0.2),
                     ("DenseLayer", 10, "linear", None)]
    assert isinstance(s.layers[1], DropoutLayer)
    t = s.training
    assert (t.loss, t.from_logits, t.optimizer) == ("sparse_categorical_crossentropy", True, "adam")
    assert 5 <= t.epochs <= 10
    run = trained("29-digits.toml")
    assert abs(run.trainer.history.batch_loss[0] - math.log(10)) < 0.3
    assert run.epochs[-1].test_metric >= 0.95
