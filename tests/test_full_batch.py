"""batch_size = "full": the whole training set in one step (one update per epoch), in scenario
files, the built trainer, the written-back file, `nnsim check` and the app's edit field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnsim.cli.main import main
from nnsim.scenarios import ScenarioError, dump_scenario, load_scenario, loads_scenario
from nnsim.scenarios.build import build_session
from nnsim.tui.controller import Lab
from nnsim.tui.edits import EditError, apply_training, parse_value

LESSONS = Path(__file__).resolve().parents[1] / "scenarios"
AND = (LESSONS / "01-neuron-and.toml").read_text(encoding="utf-8")
CIRCLES = (LESSONS / "06-two-circles.toml").read_text(encoding="utf-8")


def with_batch(text: str, value: str) -> str:
    lines = [f"batch_size = {value}" if l.startswith("batch_size") else l for l in text.splitlines()]
    return "\n".join(lines) + "\n"


def test_full_is_the_training_set_size_and_is_written_back_as_full() -> None:
    s = loads_scenario(with_batch(CIRCLES, '"full"'))
    assert s.training.batch_size == "full"
    tr = build_session(s).trainer
    assert tr.n_train == 250 and tr.batch_size == 250 and tr.batches_per_epoch == 1
    text = dump_scenario(s)
    assert 'batch_size = "full"' in text.splitlines()
    assert loads_scenario(text) == s
    rec = tr.step_epoch()
    assert rec.batches == 1 and tr.step == 1 and len(tr.history.batch_loss) == 1


def test_one_full_batch_step_is_the_mean_gradient_of_the_whole_set() -> None:
    """The update of one full-batch step equals −η times our own full-set mean gradient."""
    s = loads_scenario(with_batch(AND, '"full"'))
    tr = build_session(s).trainer
    W = tr.net.get_weights()["layer0.W"].astype(np.float64)[:, 0]
    b = float(tr.net.get_weights()["layer0.b"][0])
    x, y = tr.x_train.astype(np.float64), tr.y_train[:, 0].astype(np.float64)
    p = 1 / (1 + np.exp(-(x @ W + b)))
    g = x.T @ (p - y) / len(x)                          # mean binary CE, sigmoid: (p − y)/N
    tr.step_batch()
    np.testing.assert_allclose(tr.net.get_weights()["layer0.W"][:, 0], W - 1.0 * g, rtol=1e-5)


@pytest.mark.parametrize("value", ['"half"', '"Full"', "0", "2.5", "true"])
def test_other_values_are_refused_naming_full(value) -> None:
    with pytest.raises(ScenarioError) as err:
        loads_scenario(with_batch(AND, value))
    text = str(err.value.problems[0])
    assert "training.batch_size" in text and 'or "full" (the whole training set)' in text


def test_check_names_the_full_batch_size(capsys, tmp_path) -> None:
    path = tmp_path / "full.toml"
    path.write_text(with_batch(CIRCLES, '"full"'))
    assert main(["check", str(path)]) == 0
    assert "batch size full = 250 (1 batch per epoch)" in capsys.readouterr().out


def test_the_edit_field_accepts_full_live(tmp_path) -> None:
    assert parse_value("batch_size", "full") == "full"
    assert parse_value("batch_size", " 12 ") == 12
    with pytest.raises(EditError):
        parse_value("batch_size", "most")
    lab = Lab(build_session(load_scenario(LESSONS / "06-two-circles.toml")), tmp_path)
    before = lab.trainer
    outcome = apply_training(lab, "batch_size", "full")
    assert "live" in outcome.message and lab.trainer is before
    assert lab.trainer.batch_size == lab.trainer.n_train == 250
    assert lab.scenario.training.batch_size == "full"
    assert 'batch_size = "full"' in dump_scenario(lab.scenario)
    apply_training(lab, "batch_size", "10")
    assert lab.trainer.batch_size == 10 and lab.scenario.training.batch_size == 10
