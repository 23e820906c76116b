"""Headless parts of the app's first ten minutes: the lesson's speed, end and text sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from nnsim.scenarios import ScenarioError, dump_scenario, loads_scenario

LESSONS = Path(__file__).resolve().parents[1] / "scenarios"


def _with_view(extra: str) -> str:
    return (LESSONS / "06-two-circles.toml").read_text(encoding="utf-8") + extra


def test_view_speed_is_optional_checked_and_written_back():
    s = loads_scenario(_with_view("speed = 30\n"))
    assert s.view.speed == 30
    assert "speed = 30" in dump_scenario(s)
    assert loads_scenario(_with_view("")).view.speed is None
    with pytest.raises(ScenarioError, match="view.speed"):
        loads_scenario(_with_view("speed = 0\n"))


# -- the controller: play stops at the lesson's end, at a watchable speed --------------------------
from nnsim.scenarios import load_scenario  # noqa: E402
from nnsim.tui.controller import SPEEDS, Lab, checkpoint_beside, speed_index_for  # noqa: E402
from nnsim.tui.session import build_session  # noqa: E402


def _lab(name: str, tmp_path: Path, **training: object) -> Lab:
    s = load_scenario(next(LESSONS.glob(f"{name}*.toml")))
    if training:
        s = s.model_copy(update={"training": s.training.model_copy(update=training)})
    return Lab(build_session(s), tmp_path)


def test_play_stops_at_the_lessons_last_epoch(tmp_path):
    lab = _lab("06", tmp_path, epochs=3)
    frames = []
    while not (frames and frames[-1].finished):
        frames.append(lab.play_chunk(None, stop_at_end=True))
        assert len(frames) < 10_000
    assert lab.trainer.epoch == 3 and lab.trainer.batch == 0 and lab.at_end
    assert lab.play_chunk(None, stop_at_end=True).batches == 0      # stays there
    lab.past_end = True                                              # "train on" was chosen
    assert not lab.at_end and lab.play_chunk(5, stop_at_end=True).batches == 5
    lab.reset()
    assert not lab.past_end and lab.trainer.epoch == 0 and lab.batches_to_end() == 75


def test_small_lessons_start_at_a_speed_a_person_can_follow(tmp_path):
    lab = _lab("06", tmp_path)                       # 100 epochs x 25 batches
    assert lab.speed is not None and 2500 / lab.speed >= 5          # seconds, not one frame
    assert _lab("01", tmp_path).speed <= 30                          # traced: card and stepper follow
    assert speed_index_for(None, 10**9) == len(SPEEDS) - 1          # huge lessons: as fast as possible
    assert SPEEDS[speed_index_for(12, 1)] == 10 and SPEEDS[speed_index_for(25, 1)] == 30
    lab.speed_index = 0
    for _ in range(len(SPEEDS)):
        lab.change_speed(True)
    assert lab.speed is None and lab.speed_label() == "max"          # + reaches today's max


def test_view_speed_sets_the_starting_speed(tmp_path):
    s = load_scenario(LESSONS / "06-two-circles.toml")
    s = s.model_copy(update={"view": s.view.model_copy(update={"speed": 3.0})})
    assert Lab(build_session(s), tmp_path).speed == 3


def test_checkpoint_beside_a_saved_scenario_is_found_and_loads(tmp_path):
    lab = _lab("06", tmp_path)
    for _ in range(30):
        lab.step_batch()
    toml_path, ckpt = lab.save()
    assert checkpoint_beside(toml_path) == ckpt
    fresh = Lab(build_session(load_scenario(toml_path)), tmp_path)
    assert fresh.load_checkpoint(ckpt) == 1 and fresh.trainer.step == 30
    assert checkpoint_beside(LESSONS / "06-two-circles.toml") is None


def test_goals_in_one_unit():
    """The app shows accuracies as percentages in goals and status alike; the CLI as fractions."""
    from nnsim.engine import EpochRecord
    from nnsim.scenarios.goals import evaluate_goals, goal_texts
    from nnsim.scenarios.schema import Goals

    g = Goals(test_accuracy_at_least=0.95, test_loss_below=0.1)
    assert [t for _, t in goal_texts(g, percent=True)] == ["test loss < 0.1", "test accuracy ≥ 95%"]
    assert [t for _, t in goal_texts(g)] == ["test loss < 0.1", "test accuracy ≥ 0.95"]
    rec = EpochRecord(epoch=3, train_loss=0.05, test_loss=0.06, train_metric=0.99, test_metric=0.9725,
                      metric="accuracy", penalty=0.0, learning_rate=0.03, grad_norms=[1.0],
                      weight_norms=[1.0],
                      seconds=0.0, batches=25)
    acc = evaluate_goals(g, [rec], False, percent=True)[1]
    assert acc.met and acc.detail == "97.2% at epoch 3"
    assert evaluate_goals(g, [rec], False)[1].detail == "0.9725 at epoch 3"


def test_messages_count_layers_from_one(tmp_path):
    """Validation messages name layers as the app does (layer 1 = the first [[layers]]); the
    problem's key path stays 0-based for programs."""
    from nnsim.scenarios.problems import display_path
    from nnsim.tui import edits

    assert display_path("layers[0].units") == "layer 1 units" and display_path("layers[2]") == "layer 3"
    assert display_path("training.learning_rate") == "training.learning_rate"
    bad = (LESSONS / "06-two-circles.toml").read_text().replace('units = 4', 'units = -4', 1)
    with pytest.raises(ScenarioError) as err:
        loads_scenario(bad)
    assert err.value.problems[0].path == "layers[0].units" and "layer 1 units = -4" in str(err.value)
    lab = _lab("06", tmp_path)
    with pytest.raises(edits.EditError, match=r"^layer 3 units: "):
        edits.apply_layer(lab, 2, "units", "3")


def test_play_never_races_to_catch_up_after_a_stall(monkeypatch):
    """A stall (the kernels compiling on a first launch) is not made up for: the next batches
    come at the chosen rate, not as fast as possible."""
    from nnsim.tui import pacing

    clock = [100.0]
    monkeypatch.setattr(pacing.time, "perf_counter", lambda: clock[0])
    p = pacing.Pacer()
    assert p.due(30) == 1
    p.add(1)
    clock[0] += 3.0                                   # three seconds without training
    assert p.due(30) == 1
    p.add(1)
    assert p.due(30) == 0                             # the next one 1/30 s later, not at once
    clock[0] += 1 / 30 + 1e-6
    assert p.due(30) == 1
