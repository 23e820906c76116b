"""Scenario → session building, target encoding and goal evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.engine.history import EpochRecord
from nnsim.scenarios import ScenarioError, loads_scenario
from nnsim.scenarios.build import build_session
from nnsim.scenarios.goals import evaluate_goals
from nnsim.scenarios.schema import Goals

BASE = """
[scenario]
name = "t"
seed = 3
[data]
dataset = "{dataset}"
{data_extra}
{layers}
[training]
loss = "{loss}"
learning_rate = 0.05
batch_size = 10
epochs = 3
{training_extra}
"""


def scen(dataset="circle", layers=None, loss="mse", data_extra="", training_extra=""):
    layers = layers or [(4, "tanh"), (1, "tanh")]
    text = "".join(f'[[layers]]\nunits = {u}\nactivation = "{a}"\n' for u, a in layers)
    return loads_scenario(BASE.format(dataset=dataset, layers=text, loss=loss,
                                      data_extra=data_extra, training_extra=training_extra))


def test_tanh_mse_on_classes_uses_pm1_targets_and_accuracy() -> None:
    s = build_session(scen())
    assert set(np.unique(s.trainer.y_train)) == {-1.0, 1.0}
    assert s.trainer.metric == "accuracy" and s.trainer.pm1


def test_sigmoid_bce_uses_01_and_multiclass_mse_uses_onehot() -> None:
    s = build_session(scen(layers=[(4, "tanh"), (1, "sigmoid")], loss="binary_crossentropy"))
    assert set(np.unique(s.trainer.y_train)) == {0.0, 1.0}
    s = build_session(scen(dataset="blobs", layers=[(4, "tanh"), (3, "softmax")], loss="mse",
                           data_extra="classes = 3"))
    assert s.trainer.y_train.shape[1] == 3 and np.all(s.trainer.y_train.sum(axis=1) == 1)


def test_regression_uses_mae_metric() -> None:
    s = build_session(scen(dataset="sine", layers=[(8, "tanh"), (1, "linear")]))
    assert s.trainer.metric == "mae" and s.dataset.input_kind == "line"


def test_seed_override_changes_data_and_weights() -> None:
    a, b = build_session(scen()), build_session(scen(), seed=99)
    assert a.scenario.meta.seed == 3 and b.scenario.meta.seed == 99
    assert not np.array_equal(a.network.P, b.network.P)
    assert not np.array_equal(a.dataset.x_train, b.dataset.x_train)


def test_cosine_t_max_defaults_to_epochs() -> None:
    s = build_session(scen(training_extra='schedule = "cosine"'))
    assert s.trainer.schedule.options["t_max"] == 3


def test_missing_csv_becomes_scenario_error(tmp_path) -> None:
    p = tmp_path / "l.toml"
    p.write_text(BASE.format(dataset="csv", data_extra='path = "nope.csv"\ntarget = "y"',
                             layers='[[layers]]\nunits = 1\n', loss="mse", training_extra=""))
    from nnsim.scenarios import load_scenario
    with pytest.raises(ScenarioError) as err:
        build_session(load_scenario(p))
    assert "data.path" in str(err.value)


def rec(epoch: int, test_metric: float, test_loss: float = 1.0) -> EpochRecord:
    return EpochRecord(epoch, 1.0, test_loss, 0.5, test_metric, "accuracy", 0.0, 0.1, [], [], 0.0, 1)


def test_reach_goal_judged_on_last_epoch_without_window() -> None:
    g = Goals(test_accuracy_at_least=0.9)
    assert evaluate_goals(g, [rec(1, 0.95), rec(2, 0.8)], False)[0].met is False
    assert evaluate_goals(g, [rec(1, 0.5), rec(2, 0.92)], False)[0].met is True


def test_within_epochs_window() -> None:
    g = Goals(test_accuracy_at_least=0.9, within_epochs=2)
    assert evaluate_goals(g, [rec(1, 0.5), rec(2, 0.91), rec(3, 0.5)], False)[0].met is True
    assert evaluate_goals(g, [rec(1, 0.5), rec(2, 0.6), rec(3, 0.99)], False)[0].met is False


def test_at_most_must_hold_every_epoch_and_divergence() -> None:
    g = Goals(test_accuracy_at_most=0.75)
    assert evaluate_goals(g, [rec(1, 0.5), rec(2, 0.75)], False)[0].met is True
    assert evaluate_goals(g, [rec(1, 0.8), rec(2, 0.5)], False)[0].met is False
    d = Goals(diverges=True)
    assert evaluate_goals(d, [rec(1, 0.5)], True)[0].met is True
    assert evaluate_goals(d, [rec(1, 0.5)], False)[0].met is False
    assert evaluate_goals(Goals(test_loss_below=2.0), [rec(1, 0.5)], True)[0].met is False


def test_renamed_schedule_drops_the_old_schedules_settings() -> None:
    s = scen(training_extra='schedule = { name = "cosine", min_lr = 0.001 }')
    sched = s.training.schedule.model_copy(update={"name": "constant"})
    edited = s.model_copy(update={"training": s.training.model_copy(update={"schedule": sched})})
    assert build_session(edited).trainer.schedule.name == "constant"
