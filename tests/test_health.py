"""Numerical diagnosis (issue 9): parameters are checked at build, load and after updates;
settings that do not survive the dtype are refused; the divergence advice names the cause; and
finite-but-stuck training records health warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nnsim.data import load_dataset
from nnsim.engine import Dense, DivergenceError, Network, Trainer, health
from nnsim.scenarios import ScenarioError, loads_scenario
from nnsim.scenarios.build import build_session


def circle(act: str = "tanh", lr: float = 0.03, init: str = "playground", out: str = "tanh",
           dtype: str = "float32", **kw) -> Trainer:
    ds = load_dataset("circle", test_fraction=0.5, seed=0)
    net = Network(2, [Dense(4, act, init=init), Dense(2, act, init=init), Dense(1, out, init=init)],
                  seed=0, dtype=dtype)
    return Trainer(net, ds.x_train, 2 * ds.y_train - 1, ds.x_test, 2 * ds.y_test - 1, loss="mse",
                   learning_rate=lr, batch_size=10, metric="accuracy", **kw)


# -- parameters ----------------------------------------------------------------------------------
def test_infinite_initial_bias_is_refused_at_build() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # no raw NumPy overflow warning either
        with pytest.raises(ValueError, match=r"layer 1: bias_init 1e\+308 .* not finite in float32"):
            Network(2, [Dense(3, "tanh", bias_init=1e308), Dense(1)], dtype="float32")
    Network(2, [Dense(3, "tanh", bias_init=1e308), Dense(1)], dtype="float64")   # fits float64


def test_set_weights_refuses_non_finite_and_non_real_values() -> None:
    net = Network(2, [Dense(3), Dense(1)])
    before = net.P.copy()
    w = net.get_weights()
    for bad in (np.inf, np.nan, 1e300):
        w2 = {**w, "layer0.b": np.full(3, bad)}
        with pytest.raises(ValueError, match="layer0.b holds values that are not finite"):
            net.set_weights(w2)
    with pytest.raises(ValueError, match="real numbers"):
        net.set_weights({**w, "layer0.W": w["layer0.W"].astype(np.complex64)})
    np.testing.assert_array_equal(net.P, before)


@pytest.mark.parametrize("path", ["step", "play"])
def test_infinite_bias_behind_a_saturated_tanh_is_diagnosed(path: str) -> None:
    """The issue's case: an infinite hidden bias saturates tanh, so the loss and the gradients
    stay finite; the check of the weights names the bias — after the first play call, within
    PARAM_CHECK_EVERY single steps."""
    from nnsim.engine.trainer import PARAM_CHECK_EVERY
    tr = circle()
    b0 = next(sl for sl in tr.net.param_slices() if sl.name == "layer0.b")
    tr.net.P[b0.start] = np.inf                       # behind the trainer's back
    with pytest.raises(DivergenceError) as info:
        for _ in range(PARAM_CHECK_EVERY):
            tr.step_batch() if path == "step" else tr.play(5)
    err = info.value
    assert err.applied and err.quantity == "bias b" and err.layer == 1
    assert err.step <= PARAM_CHECK_EVERY and "reset the weights" in str(err)


def test_epsilon_that_vanishes_is_diagnosed() -> None:
    """An epsilon of 0 (set behind the trainer's back) gives 0/0 for a bias without gradient."""
    rng = np.random.default_rng(0)
    net = Network(2, [Dense(2, "tanh", use_bias=False), Dense(1)], dtype="float32")
    tr = Trainer(net, rng.normal(size=(8, 2)), rng.normal(size=8), loss="mse",
                 optimizer="adagrad", optimizer_options={"initial_accumulator": 0.0},
                 learning_rate=0.1, batch_size=8)
    tr.optimizer.options["epsilon"] = 0.0
    tr.learning_rate = 0.1                            # rebuilds the kernels' settings
    with pytest.raises(DivergenceError) as info:
        tr.step_batch()
    assert info.value.cause == "epsilon" and "epsilon" in info.value.advice


# -- settings that must survive the dtype --------------------------------------------------------
@pytest.mark.parametrize("options,field", [
    ({"epsilon": 1e-320}, "epsilon"),               # rounds to 0 in float32
    ({"epsilon": 1e-40}, "epsilon"),                # a float32 subnormal
    ({"beta2": 0.9999999999}, "beta2"),             # rounds to 1.0: out of range
])
def test_optimizer_settings_that_do_not_survive_float32(options: dict, field: str) -> None:
    with pytest.raises(ValueError, match=rf"optimizer adam: {field} = .* does not survive float32"):
        circle(optimizer="adam", optimizer_options=options)
    tr = circle()
    with pytest.raises(ValueError, match=field):
        tr.set_optimizer("adam", **options)
    assert tr.optimizer.name == "sgd"                  # unchanged after the refusal


def test_float64_keeps_what_float32_cannot() -> None:
    tr = circle(dtype="float64", optimizer="adam", optimizer_options={"epsilon": 1e-300})
    assert tr.optimizer.options["epsilon"] == 1e-300
    with pytest.raises(ValueError, match="does not survive float64"):
        circle(dtype="float64", optimizer="adam", optimizer_options={"epsilon": 1e-320})


def test_learning_rate_and_regularization_rate_must_survive() -> None:
    tr = circle()
    with pytest.raises(ValueError, match="learning_rate = 1e-50 does not survive float32"):
        tr.learning_rate = 1e-50
    with pytest.raises(ValueError, match="regularization_rate = 1e-50 does not survive"):
        tr.set_regularization("l2", 1e-50)
    assert tr.base_lr == 0.03 and tr.reg_name == "none"


def test_scenario_with_a_vanishing_epsilon_is_a_scenario_error() -> None:
    text = """
[scenario]
name = "eps"
[data]
dataset = "circle"
[[layers]]
units = 1
activation = "tanh"
[training]
loss = "mse"
optimizer = "adam"
epsilon = 1e-320
"""
    with pytest.raises(ScenarioError, match="epsilon"):
        build_session(loads_scenario(text, source="eps.toml"))


def test_data_beyond_the_dtype_is_refused_without_numpy_warnings() -> None:
    net = Network(2, [Dense(1)])
    x = np.array([[1.0, 2.0], [1e39, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError,
                           match=r"x_train holds a value that is not finite in float32 \(row 1, column 0"):
            Trainer(net, x, np.zeros(2))
        with pytest.raises(ValueError, match="y_train holds a value"):
            Trainer(net, np.zeros((2, 2)), np.array([0.0, 1e39]))
        with pytest.raises(ValueError, match="x_train"):
            Trainer(net, np.array([[np.nan, 0.0]]), np.zeros(1))


# -- divergence advice matches the cause ---------------------------------------------------------
def test_advice_for_huge_inputs_names_the_data() -> None:
    ds = load_dataset("circle", test_fraction=0.5, seed=0)
    net = Network(2, [Dense(8, "relu"), Dense(1)], seed=0)
    tr = Trainer(net, ds.x_train * 1e15, ds.y_train, loss="mse", learning_rate=0.1, batch_size=10)
    with pytest.raises(DivergenceError) as info:
        for _ in tr.train(5):
            pass
    assert info.value.cause == "data" and "not the learning rate" in str(info.value)
    assert "smaller learning rate" not in str(info.value)


def test_advice_for_a_first_step_failure_names_the_initialization() -> None:
    ds = load_dataset("circle", test_fraction=0.5, seed=0)
    net = Network(2, [Dense(4, "linear", init="constant", init_options={"value": 1e30}),
                      Dense(1, "linear", init="constant", init_options={"value": 1e30})], seed=0)
    tr = Trainer(net, ds.x_train, ds.y_train, loss="mse", learning_rate=0.01, batch_size=10)
    with pytest.raises(DivergenceError) as info:
        tr.step_batch()
    err = info.value
    assert err.cause == "initialization" and not err.applied and err.step == 1
    assert "initial weights" in str(err)


def test_advice_for_a_learning_rate_divergence() -> None:
    with pytest.raises(DivergenceError) as info:
        for _ in circle(act="relu", init="he_normal", out="linear", lr=1000.0).train(50):
            pass
    assert info.value.cause == "learning_rate" and "smaller learning rate" in str(info.value)


# -- health warnings -----------------------------------------------------------------------------
def test_healthy_training_has_no_warnings() -> None:
    tr = circle()
    records = list(tr.train(30))
    assert all(r.warnings == [] for r in records)


def test_lr_1000_with_tanh_warns_of_saturated_units() -> None:
    records = list(circle(lr=1000.0).train(20))
    last = records[-1]
    assert any(w.startswith("units saturated:") and "tanh units in layer" in w for w in last.warnings)
    assert np.isfinite(last.train_loss)               # stuck, not diverged


def test_dying_relu_lesson_warns() -> None:
    from nnsim.tui.session import builtin_lessons, load_session
    path = next(p for p in builtin_lessons() if "dying-relu" in p.name)
    tr = load_session(path).trainer
    rec = tr.step_epoch()
    assert any(w.startswith("all relu units dead in layer") for w in rec.warnings)


def test_exploded_weights_warn() -> None:
    tr = circle()
    tr.net.set_weights({**tr.net.get_weights(), "layer2.b": np.array([2e4])})
    rec = tr.step_epoch()
    assert any(w.startswith("weights exploded: |w| reaches 2e+04") for w in rec.warnings)
    assert tr.health()[0].startswith("weights exploded")


def test_unit_checks_follow_their_schedule_and_results_carry_over() -> None:
    due = [e for e in range(1, 3001) if health.check_due(e)]
    assert due[:100] == list(range(1, 101)) and 110 in due and 105 not in due
    assert 2000 in due and 2010 not in due and len(due) == 100 + 90 + 20


def test_warnings_reach_the_history_json_and_the_cli(tmp_path, capsys) -> None:
    import json

    from nnsim.cli.main import main
    toml = tmp_path / "stuck.toml"
    toml.write_text("""
[scenario]
name = "Stuck"
seed = 0
[data]
dataset = "circle"
[[layers]]
units = 4
activation = "tanh"
init = "playground"
[[layers]]
units = 1
activation = "tanh"
init = "playground"
[training]
loss = "mse"
learning_rate = 1000.0
batch_size = 10
epochs = 5
""")
    code = main(["run", str(toml), "--history", str(tmp_path / "h.json")])
    out = capsys.readouterr().out
    assert code in (0, 1) and "warning: units saturated" in out
    assert out.count("warning: units saturated") < 5 * 2        # printed when they change
    doc = json.loads((tmp_path / "h.json").read_text())
    assert any(w.startswith("units saturated") for w in doc["epochs"][-1]["warnings"])
