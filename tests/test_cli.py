"""The `nnsim` command line: list, check, run, gradcheck, opening the app, exit codes, errors."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnsim.scenarios.library as library
from nnsim.cli.main import main
from nnsim.scenarios import load_scenario
from nnsim.scenarios.build import build_session
from nnsim.scenarios.library import builtin_lessons, first_sentence, scan_lessons

DATA = Path(__file__).parent / "data" / "cli"
GOOD = DATA / "three_four_two.toml"          # 3 -> 4 -> 2, 26 parameters, reaches its goal
UNREACHABLE = DATA / "unreachable.toml"      # same network, 2 epochs, goals out of reach
DIVERGES = DATA / "diverges.toml"            # lr 10: diverges, and says so in [goals]
DIVERGES_UNEXPECTED = DATA / "diverges_unexpected.toml"
SINE = DATA / "sine.toml"                    # regression (metric mae), 4 epochs, no goals
SMALL = DATA / "gradcheck_small.toml"        # tanh/sigmoid with dropout and L2
BROKEN = DATA / "broken_values.toml"         # unknown activation, negative learning rate
NOT_TOML = DATA / "not_toml.toml"

NUM = r"(?:0|\d+(?:\.\d+)?(?:e-?\d+)?)"       # nnsim.numfmt: 4 significant digits, 0, 1.2e-5
EPOCH_LINE = re.compile(
    rf"^Epoch (\d+)/(\d+) - loss: {NUM} - accuracy: {NUM} - test_loss: {NUM} - "
    rf"test_accuracy: {NUM} - \d+\.\d{{2}}s$", re.M)


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- list ----------------------------------------------------------------------------------------
@pytest.fixture
def lesson_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(GOOD, folder / "01-three-four-two.toml")
    shutil.copy(SINE, folder / "02-sine.toml")
    shutil.copy(BROKEN, folder / "03-broken.toml")
    (folder / "notes.txt").write_text("not a lesson")
    monkeypatch.setattr(library, "builtin_lessons_dir", lambda: folder)
    return folder


def test_list_shows_each_lesson_with_name_and_first_sentence(capsys, lesson_dir) -> None:
    code, out, err = run_cli(capsys, "list")
    assert code == 0, err
    lines = out.splitlines()
    first = next(l for l in lines if l.startswith("01-three-four-two.toml"))
    assert "Three four two" in first
    assert "A tiny network on the two circles." in first
    assert "Watch the accuracy" not in first            # only the first sentence
    assert any(l.startswith("02-sine.toml") and "Sine" in l for l in lines)
    broken = next(l for l in lines if l.startswith("03-broken.toml"))
    assert "(broken:" in broken and "layer 1 activation" in broken and "1 more problem" in broken
    assert "notes.txt" not in out
    assert "3 lessons" in out


def test_list_without_lessons_folder(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(library, "builtin_lessons_dir", lambda: tmp_path / "missing")
    code, out, _ = run_cli(capsys, "list")
    assert code == 0 and "No built-in lessons" in out


def test_builtin_lessons_api(lesson_dir) -> None:
    lessons = builtin_lessons()
    assert [p.name for p, _ in lessons] == ["01-three-four-two.toml", "02-sine.toml"]
    assert lessons[0][1].meta.name == "Three four two"
    scanned = scan_lessons()
    assert [f.ok for f in scanned] == [True, True, False]
    assert "training.learning_rate" in str(scanned[2].error)


def test_builtin_lessons_dir_is_the_repository_scenarios_folder() -> None:
    """nnsim/lessons links to the repository's scenarios/ (so wheels carry the lessons)."""
    import nnsim
    from nnsim.scenarios.library import builtin_lessons_dir
    repo = Path(nnsim.__file__).resolve().parent.parent / "scenarios"
    assert builtin_lessons_dir().resolve() == repo.resolve()
    assert sorted(p.name for p in builtin_lessons_dir().glob("*.toml")) == sorted(
        p.name for p in repo.glob("*.toml"))


def test_first_sentence() -> None:
    assert first_sentence("One.  Two.") == "One."
    assert first_sentence("\nWrapped\nacross lines! Next") == "Wrapped across lines!"
    assert first_sentence("") == ""
    assert first_sentence("No full stop") == "No full stop"
    assert first_sentence("x" * 300, limit=50).endswith("…")
    assert first_sentence("Version 1.5 is out. Then") == "Version 1.5 is out."


# -- check ---------------------------------------------------------------------------------------
def test_check_prints_keras_summary_with_26_params(capsys) -> None:
    code, out, err = run_cli(capsys, "check", GOOD)
    assert code == 0, err
    header = next(l for l in out.splitlines() if "Layer (type)" in l)
    assert header.index("Layer (type)") < header.index("Output Shape") < header.index("Param #")
    assert re.search(r"dense_1 \(Dense\)\s*\S\s*\(None, 4\)\s*\S\s*16\b", out)
    assert re.search(r"dense_2 \(Dense\)\s*\S\s*\(None, 2\)\s*\S\s*10\b", out)
    assert "Total params: 26" in out
    assert "Trainable params: 26" in out
    assert "Non-trainable params: 0" in out
    assert "dataset: circle" in out and "100 train / 100 test" in out
    assert "inputs: 3 (x1, x2, x1*x2)" in out
    assert "optimizer: adam" in out and "learning rate 0.03" in out
    assert "batch size 10 (10 batches per epoch), 30 epochs" in out
    assert "test accuracy ≥ 0.9" in out


def test_check_dropout_and_regression(capsys) -> None:
    code, out, _ = run_cli(capsys, "check", SMALL)
    assert code == 0
    assert re.search(r"dropout_1 \(Dropout\)\s*\S\s*\(None, 5\)\s*\S\s*0\b", out)
    assert "regularization: l2, rate 0.01" in out
    code, out, _ = run_cli(capsys, "check", SINE)
    assert code == 0 and "regression" in out and "metric: mae" in out and "Goals\n  none" in out


# -- run -----------------------------------------------------------------------------------------
def test_run_goals_met_exit_0(capsys) -> None:
    code, out, err = run_cli(capsys, "run", GOOD)
    assert code == 0, out + err
    lines = EPOCH_LINE.findall(out)
    assert [int(e) for e, _ in lines] == list(range(1, 31)) and {t for _, t in lines} == {"30"}
    assert "✓ test accuracy ≥ 0.9" in out
    assert "Goal met." in out


def test_run_goals_not_met_exit_1(capsys) -> None:
    code, out, _ = run_cli(capsys, "run", UNREACHABLE)
    assert code == 1
    assert len(EPOCH_LINE.findall(out)) == 2
    assert "✗ test accuracy ≥ 1.0" in out and "✗ train loss < 0.0001" in out
    assert "0 of 2 goals met." in out


def test_run_epochs_option_overrides_the_file(capsys) -> None:
    code, out, _ = run_cli(capsys, "run", GOOD, "--epochs", "3")
    assert [t for _, t in EPOCH_LINE.findall(out)] == ["3"] * 3
    assert code == 1  # 3 epochs are not enough for this goal


def test_run_quiet_prints_only_the_last_epoch(capsys) -> None:
    code, out, _ = run_cli(capsys, "run", GOOD, "--quiet")
    assert code == 0
    assert [e for e, _ in EPOCH_LINE.findall(out)] == ["30"]


def test_run_regression_line_uses_mae(capsys) -> None:
    code, out, _ = run_cli(capsys, "run", SINE)
    assert code == 0 and "No goals set." in out
    assert re.search(rf"^Epoch 4/4 - loss: {NUM} - mae: {NUM} - test_loss: {NUM} - "
                     rf"test_mae: {NUM} - \d+\.\d{{2}}s$", out, re.M)


def test_run_without_a_test_set_leaves_the_test_columns_out(capsys, tmp_path) -> None:
    path = tmp_path / "no_test.toml"
    path.write_text(SINE.read_text().replace("test_fraction = 0.2", "test_fraction = 0"))
    hist = tmp_path / "h.csv"
    code, out, _ = run_cli(capsys, "run", path, "--history", hist)
    assert code == 0
    assert re.search(rf"^Epoch 4/4 - loss: {NUM} - mae: {NUM} - \d+\.\d{{2}}s$", out, re.M)
    assert "test_loss" not in out
    with hist.open(newline="") as fh:
        assert all(r["test_loss"] == "" for r in csv.DictReader(fh))


def first_batch_loss(path: Path) -> float:
    """The loss of the first mini-batch `nnsim run path` trains, worked out here in NumPy from the
    initial weights and that batch's rows, for a 3-4-2 tanh/softmax net with sparse CE."""
    trainer = build_session(load_scenario(path)).trainer
    w = {k: v.astype(np.float64) for k, v in trainer.net.get_weights().items()}
    _, trace, _ = trainer.step_batch(trace=True)
    x = trainer.x_train[trace.indices].astype(np.float64)
    labels = trainer.y_train[trace.indices, 0].astype(int)
    logits = np.tanh(x @ w["layer0.W"] + w["layer0.b"]) @ w["layer1.W"] + w["layer1.b"]
    logp = logits - logits.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def test_history_json(capsys, tmp_path) -> None:
    out_file = tmp_path / "h.json"
    code, out, _ = run_cli(capsys, "run", GOOD, "--epochs", "4", "--history", out_file, "--quiet")
    assert code == 1
    doc = json.loads(out_file.read_text())
    assert len(doc["epochs"]) == 4
    assert list(doc["epochs"][0]) == ["epoch", "train_loss", "test_loss", "train_accuracy",
                                      "test_accuracy", "learning_rate", "seconds", "warnings"]
    assert [r["epoch"] for r in doc["epochs"]] == [1, 2, 3, 4]
    assert doc["decimated"] is False and doc["epochs_total"] == 4 and doc["batches_total"] == 40
    assert doc["epochs"][0]["learning_rate"] == pytest.approx(0.03)
    first = pytest.approx(first_batch_loss(GOOD), rel=1e-5)  # worked out independently
    # 100 training samples in batches of 10
    assert len(doc["batches"]) == 4 * 10
    assert doc["batches"][0] == {"step": 1, "epoch": 1, "batch": 1, "loss": first}
    assert doc["batches"][-1]["epoch"] == 4 and doc["batches"][-1]["batch"] == 10
    assert all(np.isfinite(b["loss"]) for b in doc["batches"])
    assert doc["metric"] == "accuracy" and doc["diverged"] is False
    assert [p.name for p in tmp_path.iterdir()] == ["h.json"]  # no temp file left behind
    assert "History written to" in out


def test_history_json_regression_keys(capsys, tmp_path) -> None:
    out_file = tmp_path / "sine.json"
    assert run_cli(capsys, "run", SINE, "--history", out_file)[0] == 0
    doc = json.loads(out_file.read_text())
    assert {"train_mae", "test_mae"} <= set(doc["epochs"][0])
    assert "train_accuracy" not in doc["epochs"][0]
    assert len(doc["epochs"]) == 4 and len(doc["batches"]) == 4 * 5  # 80 samples, batch 16


def test_history_csv(capsys, tmp_path) -> None:
    out_file = tmp_path / "h.csv"
    code, _, _ = run_cli(capsys, "run", GOOD, "--epochs", "3", "--history", out_file)
    assert code == 1
    with out_file.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3
    assert list(rows[0]) == ["epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy",
                             "learning_rate", "seconds", "warnings"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert all(0 <= float(r["test_accuracy"]) <= 1 for r in rows)


def test_save_then_load_resumes_like_a_continued_run(capsys, tmp_path) -> None:
    straight, first, resumed = tmp_path / "straight.npz", tmp_path / "first.npz", tmp_path / "resumed.npz"
    run_cli(capsys, "run", GOOD, "--epochs", "5", "--save", straight, "-q")
    run_cli(capsys, "run", GOOD, "--epochs", "3", "--save", first, "-q")
    hist = tmp_path / "h.json"
    code, out, err = run_cli(capsys, "run", GOOD, "--load", first, "--epochs", "5", "--save", resumed,
                             "--history", hist)
    assert "resuming after epoch 3" in out, out + err
    assert [e for e, _ in EPOCH_LINE.findall(out)] == ["4", "5"]
    with np.load(straight) as a, np.load(resumed) as b:
        names = [n for n in a.files if n.startswith("layer")]
        assert names
        for name in names:
            np.testing.assert_array_equal(a[name], b[name])
    doc = json.loads(hist.read_text())
    assert [r["epoch"] for r in doc["epochs"]] == [1, 2, 3, 4, 5]  # the restored history too
    assert len(doc["batches"]) == 50


def test_load_weights_only_checkpoint(capsys, tmp_path) -> None:
    from nnsim.engine.checkpoint import save_checkpoint
    from nnsim.scenarios import load_scenario
    from nnsim.scenarios.build import build_session

    session = build_session(load_scenario(GOOD))
    for _ in session.trainer.train(2):
        pass
    ckpt = tmp_path / "weights.npz"
    save_checkpoint(session.trainer, ckpt, weights_only=True)
    code, out, _ = run_cli(capsys, "run", GOOD, "--load", ckpt, "--epochs", "2")
    assert "the optimizer starts fresh" in out
    assert [e for e, _ in EPOCH_LINE.findall(out)] == ["1", "2"]


def test_load_checkpoint_already_past_the_target(capsys, tmp_path) -> None:
    ckpt = tmp_path / "c.npz"
    run_cli(capsys, "run", GOOD, "--epochs", "3", "--save", ckpt, "-q")
    code, out, err = run_cli(capsys, "run", GOOD, "--load", ckpt, "--epochs", "3")
    assert code == 2 and "already trained 3 epochs" in err and "Epoch" not in out


def test_load_checkpoint_that_does_not_fit(capsys, tmp_path) -> None:
    ckpt = tmp_path / "sine.npz"
    run_cli(capsys, "run", SINE, "--epochs", "1", "--save", ckpt, "-q")
    code, _, err = run_cli(capsys, "run", GOOD, "--load", ckpt)
    assert code == 2 and "does not fit this network" in err and "Traceback" not in err


def test_seed_option_changes_the_run(capsys, tmp_path) -> None:
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    run_cli(capsys, "run", SINE, "--history", a)
    run_cli(capsys, "run", SINE, "--history", b)
    run_cli(capsys, "run", SINE, "--seed", "7", "--history", c)
    loss = lambda p: [r["loss"] for r in json.loads(p.read_text())["batches"]]  # noqa: E731
    assert loss(a) == loss(b) and loss(a) != loss(c)
    assert json.loads(c.read_text())["seed"] == 7


# -- divergence ------------------------------------------------------------------------------------
def test_divergence_expected_by_the_goals_exit_0(capsys, tmp_path) -> None:
    hist = tmp_path / "h.json"
    code, out, err = run_cli(capsys, "run", DIVERGES, "--history", hist)
    assert code == 0, out + err
    assert "Diverged: training diverged at step" in out
    assert "✓ training diverges: diverged" in out
    assert json.loads(hist.read_text())["diverged"] is True


def test_unexpected_divergence_exit_1_names_layer_and_step(capsys) -> None:
    code, out, err = run_cli(capsys, "run", DIVERGES_UNEXPECTED)
    assert code == 1
    assert re.search(r"diverged at step \d+ \(epoch \d+, batch \d+\)", out)
    assert re.search(r"in layer \d+ became non-finite", out)
    assert "✗ train loss < 0.1: training diverged" in out
    assert "Traceback" not in out + err


def test_unexpected_divergence_without_goals_exit_1(capsys, tmp_path) -> None:
    text = DIVERGES.read_text().replace("[goals]\ndiverges = true\n", "")
    path = tmp_path / "no_goals.toml"
    path.write_text(text)
    code, out, _ = run_cli(capsys, "run", path)
    assert code == 1 and "does not expect it" in out


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["check"], ["run"], ["gradcheck"], []])
def test_broken_file_exit_2_lists_every_problem(capsys, command) -> None:
    code, out, err = run_cli(capsys, *command, BROKEN)
    assert code == 2
    assert "broken_values.toml:13: training.learning_rate = -1: must be a number > 0" in err
    assert 'layer 1 activation = "relu2": unknown activation' in err
    assert "2 problems" in err
    assert "Traceback" not in out + err


def test_not_toml_exit_2(capsys) -> None:
    code, out, err = run_cli(capsys, "check", NOT_TOML)
    assert code == 2 and "not valid TOML" in err and "Traceback" not in out + err


@pytest.mark.parametrize("command", [["check"], ["run"], ["gradcheck"], []])
def test_missing_file_exit_2(capsys, tmp_path, command) -> None:
    code, out, err = run_cli(capsys, *command, tmp_path / "nope.toml")
    assert code == 2 and "file not found" in err and "Traceback" not in out + err


def test_csv_data_problem_exit_2(capsys, tmp_path) -> None:
    path = tmp_path / "csv.toml"
    path.write_text(SINE.read_text().replace('dataset = "sine"\nsamples = 100',
                                             'dataset = "csv"\npath = "missing.csv"\ntarget = "y"'))
    code, out, err = run_cli(capsys, "run", path)
    assert code == 2 and "data.path" in err and "missing.csv" in err and "Traceback" not in err


@pytest.mark.parametrize("option", [["--epochs", "0"], ["--epochs", "-3"], ["--epochs", "ten"],
                                    ["--epochs", "100001"], ["--seed", "-1"], ["--nope"]])
def test_bad_run_options_exit_2(capsys, option) -> None:
    code, out, err = run_cli(capsys, "run", GOOD, *option)
    assert code == 2 and "usage: nnsim run" in err and "Epoch" not in out


def test_bad_samples_option_exit_2(capsys) -> None:
    code, _, err = run_cli(capsys, "gradcheck", SMALL, "--samples", "0")
    assert code == 2 and "--samples" in err


@pytest.mark.parametrize("name, message", [
    ("missing/h.json", "does not exist"),
    ("h.txt", "must end in .json or .csv"),
    ("folder.json", "is a folder"),
])
def test_unwritable_history_path_exit_2_before_training(capsys, tmp_path, name, message) -> None:
    (tmp_path / "folder.json").mkdir()
    code, out, err = run_cli(capsys, "run", GOOD, "--history", tmp_path / name)
    assert code == 2 and message in err and "Epoch" not in out and "Traceback" not in err


def test_bad_save_and_load_paths_exit_2(capsys, tmp_path) -> None:
    code, _, err = run_cli(capsys, "run", GOOD, "--save", tmp_path / "no" / "c.npz")
    assert code == 2 and "does not exist" in err
    code, _, err = run_cli(capsys, "run", GOOD, "--load", tmp_path / "nope.npz")
    assert code == 2 and "checkpoint file not found" in err
    code, _, err = run_cli(capsys, "run", GOOD, "--load", GOOD)
    assert code == 2 and "not an .npz checkpoint" in err


def test_keyboard_interrupt_exit_130(capsys, monkeypatch) -> None:
    import nnsim.cli.run as run_mod

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_mod, "train_epochs", interrupted)
    code, _, err = run_cli(capsys, "run", GOOD)
    assert code == 130 and "interrupted" in err and "Traceback" not in err


def test_help_and_version(capsys) -> None:
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "nnsim FILE.toml" in out and "exit status" in out
    code, out, _ = run_cli(capsys, "run", "--help")
    assert code == 0 and "--history" in out
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.startswith("nnsim ")


# -- gradcheck -------------------------------------------------------------------------------------
def test_gradcheck_passes_on_a_small_net(capsys) -> None:
    code, out, err = run_cli(capsys, "gradcheck", SMALL, "--samples", "16")
    assert code == 0, out + err
    # dense layers counted from 1, as in the app (the dropout layer in between is not counted)
    for name in ("layer1.W", "layer1.b", "layer2.W", "layer2.b", "layer3.W", "layer3.b"):
        assert re.search(rf"{re.escape(name)}\s.*✓ pass", out), name
    assert "on 16 training samples" in out and "All 6 tensors pass." in out
    assert "Relative error" in out
    # beside each label, the tensor's checkpoint key: every layer counted from 0, dropout too
    from nnsim.scenarios import load_scenario
    from nnsim.scenarios.build import build_session
    keys = [sl.name for sl in build_session(load_scenario(SMALL)).trainer.net.param_slices()]
    labels = ["layer1.W", "layer1.b", "layer2.W", "layer2.b", "layer3.W", "layer3.b"]
    for label, key in zip(labels, keys, strict=True):
        assert re.search(rf"│ {re.escape(label)}\s+│ {re.escape(key)}\s+│", out), (label, key)
    assert keys != labels   # the dropout layer makes the two numberings differ


def test_gradcheck_reports_failure_exit_1(capsys, monkeypatch) -> None:
    import nnsim.engine.gradcheck as gc

    real = gc.gradient_check

    def broken(trainer, **kw):
        rows = real(trainer, **kw)
        return [rows[0].__class__(r.name, r.shape, r.checked, 0.3 if i == 1 else r.rel_error,
                                  r.max_abs_diff) for i, r in enumerate(rows)]

    monkeypatch.setattr(gc, "gradient_check", broken)
    code, out, _ = run_cli(capsys, "gradcheck", GOOD)
    assert code == 1
    assert re.search(r"layer0\.b\s.*FAIL", out) and "1 of 4 tensors FAIL" in out


# -- opening the app -------------------------------------------------------------------------------
@pytest.fixture
def fake_app(monkeypatch) -> list:
    import nnsim.tui
    calls: list = []

    def run_app(path=None):
        calls.append(path)
        return 0

    monkeypatch.setattr(nnsim.tui, "run_app", run_app, raising=False)
    return calls


def test_no_arguments_opens_the_app(capsys, fake_app) -> None:
    assert main([]) == 0 and fake_app == [None]


def test_file_opens_the_app_after_validation(capsys, fake_app) -> None:
    assert main([str(GOOD)]) == 0 and fake_app == [str(GOOD)]
    code, _, err = run_cli(capsys, BROKEN)
    assert code == 2 and "training.learning_rate" in err and fake_app == [str(GOOD)]


def test_file_with_extra_arguments_or_wrong_suffix(capsys, fake_app, tmp_path) -> None:
    code, _, err = run_cli(capsys, GOOD, "--epochs", "3")
    assert code == 2 and "unexpected arguments" in err
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    code, _, err = run_cli(capsys, other)
    assert code == 2 and "not a scenario file" in err
    assert fake_app == []


def test_unknown_command_suggests(capsys, fake_app) -> None:
    code, _, err = run_cli(capsys, "lsit")
    assert code == 2 and "did you mean 'list'" in err and fake_app == []


def test_app_not_importable_exit_2(capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "nnsim.tui", None)
    code, _, err = run_cli(capsys)
    assert code == 2 and "the app is not available" in err and "Traceback" not in err


def test_app_failing_to_import_its_modules_exit_2(capsys, monkeypatch) -> None:
    import nnsim.tui

    def run_app(path=None):
        raise ModuleNotFoundError("No module named 'textual'")

    monkeypatch.setattr(nnsim.tui, "run_app", run_app, raising=False)
    code, _, err = run_cli(capsys, GOOD)
    assert code == 2 and "No module named 'textual'" in err


# -- a real process --------------------------------------------------------------------------------
def _python_m(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("NNSIM_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "nnsim.cli.main", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, encoding="utf-8", env=env, timeout=300)


def test_subprocess_run_and_history(tmp_path) -> None:
    hist = tmp_path / "h.csv"
    proc = _python_m("run", GOOD, "--epochs", "2", "--history", hist, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr        # 2 epochs do not reach the goal
    assert len(EPOCH_LINE.findall(proc.stdout)) == 2
    assert "\x1b[" not in proc.stdout                # no colour codes in a pipe
    assert len(hist.read_text().splitlines()) == 3


def test_subprocess_errors_have_no_traceback(tmp_path) -> None:
    for args in (["check", BROKEN], ["run", tmp_path / "missing.toml"], ["run", GOOD, "--epochs", "0"]):
        proc = _python_m(*args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stdout + proc.stderr
