"""Scenario files: the broken-file corpus, valid files, defaults, writing back, fuzzing."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nnsim.scenarios import (
    MISSING,
    DenseLayer,
    DropoutLayer,
    Problem,
    Scenario,
    ScenarioError,
    check_scenario,
    dump_scenario,
    load_scenario,
    loads_scenario,
    names,
    save_scenario,
)
from nnsim.scenarios.lines import find_line, key_lines

ROOT = Path(__file__).resolve().parents[1]
BROKEN = Path(__file__).parent / "data" / "broken"
DOCS = ROOT / "docs" / "scenarios.md"

VALID = """\
[scenario]
name = "Two circles"
description = \"\"\"
Line one.
Line two.\"\"\"
seed = 3

[data]
dataset = "circle"
noise = 0.1

[[layers]]
units = 4
activation = "tanh"

[[layers]]
type = "dropout"
rate = 0.2

[[layers]]
units = 1
activation = "sigmoid"

[training]
loss = "binary_crossentropy"
learning_rate = 0.03
batch_size = 10
schedule = { name = "step", gamma = 0.7 }

[goals]
test_accuracy_at_least = 0.9
"""

# file -> [(key path, message fragment, line or None)]; "" is a whole-file problem.
EXPECTED: dict[str, list[tuple[str, str, int | None]]] = {
    "not_toml.toml": [("", "not valid TOML", 1)],
    "empty.toml": [("", "file is empty", None)],
    "only_comments.toml": [("", "file is empty", None)],
    "not_utf8.toml": [("", "not UTF-8", 2)],
    "missing_keys.toml": [
        ("scenario.name", "required key is missing", 2),
        ("data.dataset", "required key is missing; must be a dataset name: circle", 5),
        ("layers[0].units", "required key is missing", 8),
        ("training", "required table [training] is missing", None),
    ],
    "wrong_types.toml": [
        ("scenario.description", "must be a string", 3),
        ("data.features", "list of feature names; got a string", 7),
        ("layers[0].units", "must be an integer >= 1 and <= 4096 (memory limit); got a float", 10),
        ("layers[1].use_bias", "must be true or false; got a string", 16),
        ("training.epochs", "must be an integer >= 1 and <= 100000; got a string", 20),
        ("training.shuffle", "must be true or false; got an integer", 21),
        ("training.schedule", "must be a schedule name or a table", 22),
    ],
    "out_of_range.toml": [
        ("scenario.seed", "must be an integer >= 0", 3),
        ("data.samples", "<= 200000 (memory limit)", 7),
        ("data.noise", "must be a number >= 0 and <= 0.5", 8),
        ("data.test_fraction", "<= 0.9", 9),
        ("layers[0].units", "<= 4096 (memory limit)", 12),
        ("layers[1].rate", "must be a number >= 0 and < 1", 17),
        ("training.learning_rate", "must be a number > 0 and <= 1000", 25),
        ("training.epochs", ">= 1", 26),
        ("training.momentum", "< 1", 27),
        ("training.schedule.step_size", ">= 1", 28),
        ("training.schedule.gamma", "> 0 and <= 1", 28),
        ("goals.test_accuracy_at_least", ">= 0 and <= 1", 31),
    ],
    "unknown_names.toml": [
        ("data.dataset", "unknown dataset 'circles'; did you mean 'circle'?", 5),
        ("layers[0].activation", "did you mean 'relu'? valid choices: linear, sigmoid, tanh", 9),
        ("layers[0].init", "did you mean 'he_normal'?", 10),
        ("training.loss", "valid choices: mse, sse, mae, binary_crossentropy", 17),
        ("training.optimizer", "did you mean 'adam'?", 18),
        ("training.schedule", "did you mean 'cosine'?", 19),
        ("training.regularization", "valid choices: none, l1, l2", 20),
    ],
    "unknown_keys.toml": [
        ("data.noize", "unknown key 'noize' in [data]; did you mean 'noise'?", 6),
        ("layers[0].unit", "did you mean 'units'?", 9),
        ("training.learning_rte",
         "unknown key 'learning_rte' in [training]; did you mean 'learning_rate'?", 18),
        ("traning", "unknown table [traning]; did you mean [training]?", 20),
        ("goal", "did you mean [goals]?", 23),
    ],
    "mismatched_units.toml": [
        ("layers[1].units", "dataset 'iris' has 3 classes, so sparse_categorical_crossentropy needs "
                            "3 output units, got 2", 14),
    ],
    "bce_three_units.toml": [("layers[1].units", "binary_crossentropy needs 1 output unit, got 3", 12)],
    "multiple_problems.toml": [
        ("scenario.seed", ">= 0", 3),
        ("data.nois", "did you mean 'noise'?", 8),
        ("layers[2].type", "two dropout layers in a row", 19),
        ("layers[3].units", "dataset 'spiral' has 4 classes", 23),
        ("training.from_logits", 'use activation = "linear"', 28),
        ("training.learning_rate", "> 0 and <= 1000", 29),
        ("training.momentum", "does not apply to optimizer 'adam'", 31),
        ("goals.within_epochs", "more than training.epochs (10)", 34),
    ],
    "regression_mismatch.toml": [
        ("layers[1].units", "regression dataset with 1 target", 12),
        ("training.loss", "use a regression loss: mse, sse, mae", 16),
        ("goals.test_accuracy_at_least", "accuracy is not measured on a regression dataset", 19),
    ],
    "logits_with_softmax.toml": [
        ("training.from_logits", "applies 'softmax'; use activation = \"linear\"", 17),
    ],
    "layer_structure.toml": [
        ("layers[0].alpha", "alpha applies only to leaky_relu and elu", 11),
        ("layers[1].type",
         "unknown layer type; did you mean 'conv2d'? valid types: dense, dropout, conv2d", 14),
        ("layers[2].type", "a dropout layer cannot be the last layer", 18),
    ],
    "too_big.toml": [("layers[1].units", "the limit is 5,000,000 (memory)", 12)],
    "single_bracket_layers.toml": [("layers", "write [[layers]] (double brackets)", 7)],
    "misplaced_keys.toml": [
        ("name", "belongs inside a table such as [scenario]", 1),
        ("data.path", "required for dataset 'csv'", 3),
        ("data.target", "required for dataset 'csv'", 3),
        ("data.noise", "takes no noise", 5),
        ("scenario", "required table [scenario] is missing", None),
    ],
}


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def test_every_broken_file_has_expectations() -> None:
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file(name: str) -> None:
    path = BROKEN / name
    problems = _problems(path)
    text = str(ScenarioError(problems))
    for key, fragment, line in EXPECTED[name]:
        hits = [p for p in problems if p.path == key and fragment in p.message]
        assert hits, f"{name}: no problem at {key!r} containing {fragment!r}:\n{text}"
        assert hits[0].line == line, f"{name}: {key} on line {hits[0].line}, expected {line}"
        assert hits[0].file == str(path)
    assert len(problems) >= len(EXPECTED[name])
    assert "pydantic" not in text and "http" not in text and "Input should" not in text
    assert len(text.splitlines()) == len(problems)


def test_error_string_format() -> None:
    with pytest.raises(ScenarioError) as info:
        loads_scenario(VALID.replace("learning_rate = 0.03", "learning_rate = -1"), source="lesson.toml")
    assert str(info.value) == "lesson.toml:26: training.learning_rate = -1: must be a number > 0 and <= 1000"
    problem = info.value.problems[0]
    assert (problem.file, problem.path, problem.value, problem.line) == (
        "lesson.toml", "training.learning_rate", -1, 26)


def test_file_errors(tmp_path: Path) -> None:
    assert "file not found" in str(ScenarioError(_problems(tmp_path / "nope.toml")))
    assert "is a folder" in _problems(tmp_path)[0].message
    missing = _problems(tmp_path / "nope.toml")[0]
    assert missing.path == "" and missing.value is MISSING and missing.line is None


def test_valid_file_defaults_filled(tmp_path: Path) -> None:
    path = tmp_path / "lesson.toml"
    path.write_text(VALID, encoding="utf-8")
    s = load_scenario(path)
    assert s.source_path == path
    assert (s.meta.name, s.meta.description, s.meta.seed) == ("Two circles", "Line one.\nLine two.", 3)
    assert (s.data.dataset, s.data.noise, s.data.test_fraction, s.data.samples) == ("circle", 0.1, 0.5, None)
    assert [type(layer) for layer in s.layers] == [DenseLayer, DropoutLayer, DenseLayer]
    first = s.layers[0]
    assert isinstance(first, DenseLayer)
    assert (first.init, first.bias_init, first.use_bias) == ("glorot_uniform", "zeros", True)
    t = s.training
    assert (t.optimizer, t.epochs, t.shuffle, t.regularization, t.dtype) == (
        "sgd", 10, True, "none", "float32")
    assert (t.schedule.name, t.schedule.step_size, t.schedule.gamma) == ("step", 10, 0.7)
    assert s.goals.test_accuracy_at_least == 0.9 and s.view.panel is None
    assert check_scenario(s) == []


def test_round_trip_and_atomic_save(tmp_path: Path) -> None:
    s = loads_scenario(VALID)
    text = dump_scenario(s)
    assert 'description = """' in text and "None" not in text and "[view]" not in text
    assert loads_scenario(text) == s
    target = tmp_path / "out.toml"
    save_scenario(s, target)
    save_scenario(s, target)  # replacing an existing file
    assert load_scenario(target) == s
    assert os.listdir(tmp_path) == ["out.toml"]


def test_docs_example_loads_and_round_trips() -> None:
    text = DOCS.read_text(encoding="utf-8")
    example = re.search(r"## A complete example\n\n```toml\n(.*?)```", text, re.S)
    assert example is not None
    s = loads_scenario(example.group(1), source="docs")
    assert loads_scenario(dump_scenario(s)) == s


def test_scenario_built_in_code_is_checked() -> None:
    s = loads_scenario(VALID)
    edited = s.model_copy(update={"layers": [DenseLayer(units=3, activation="sigmoid")]})
    problems = check_scenario(edited)
    assert [p.path for p in problems] == ["layers[0].units"]


def test_csv_path_is_checked_relative_to_the_file(tmp_path: Path) -> None:
    text = VALID.replace('dataset = "circle"\nnoise = 0.1', 'dataset = "csv"\npath = "d.csv"\ntarget = "y"')
    text = text.replace("binary_crossentropy", "mse")
    path = tmp_path / "lesson.toml"
    path.write_text(text, encoding="utf-8")
    assert "CSV file not found" in _problems(path)[0].message
    (tmp_path / "d.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    assert load_scenario(path).data.path == "d.csv"


def test_schema_takes_ranges_and_names_from_the_registries() -> None:
    """No second copy: every optimizer and schedule setting the engine knows is a scenario key
    with the engine's range, and a value the engine refuses is refused by the file too."""
    from nnsim.engine import optimizers, schedules
    from nnsim.scenarios.schema import Schedule, TrainingSpec

    for key, opt in optimizers.all_options().items():
        assert key in TrainingSpec.model_fields
        outside = opt.high + 1 if opt.high != float("inf") else opt.low - 1
        with pytest.raises(ScenarioError, match=f"training.{key}"):
            loads_scenario(VALID.replace("learning_rate = 0.03",
                                         f"learning_rate = 0.03\n{key} = {outside}"))
    for name in schedules.names():
        for opt in schedules.options(name):
            assert opt.name in Schedule.model_fields
    assert names.choices("optimizers") == optimizers.names()


def test_dataset_specs_state_the_shapes_their_data_have() -> None:
    from nnsim.data import DATASETS, load_dataset

    for name, spec in DATASETS.items():
        if spec.inputs is None:
            continue
        ds = load_dataset(name, seed=0)
        assert ds.x_train.shape[1] == spec.inputs, name
        assert len(np.unique(np.concatenate([ds.y_train, ds.y_test]))) == spec.classes, name


def test_key_lines_skip_multiline_strings_and_arrays() -> None:
    text = ('[a]\nx = """\n[b]\ny = 1\n"""\nz = [\n  1,\n  2,\n]\nw.v = 3\n"q k" = 4\n'
            '[[l]]\nu = 1\n[[l]]\nu = 2\n')
    lines = key_lines(text)
    assert lines["a.x"] == 2 and "b" not in lines and "a.y" not in lines
    assert lines["a.z"] == 6 and lines["a.w.v"] == 10 and lines["a.q k"] == 11
    assert lines["l[1].u"] == 15 and find_line(lines, "l[1].missing") == 14 and find_line(lines, "l") == 12


def test_loading_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    """Loading prints nothing, valid or not (the import contracts are in test_contracts.py)."""
    for path in BROKEN.iterdir():
        with pytest.raises(ScenarioError):
            load_scenario(path)
    loads_scenario(VALID)
    assert capsys.readouterr() == ("", "")


# --- property tests --------------------------------------------------------------------------

KNOWN_KEYS = sorted({
    "scenario", "data", "layers", "training", "goals", "view", "name", "description", "seed",
    "dataset", "samples", "noise", "features", "classes", "type", "units", "activation", "rate",
    "loss", "optimizer", "learning_rate", "schedule", "epochs", "from_logits", "gamma",
})
keys = st.sampled_from(KNOWN_KEYS) | st.text(min_size=1, max_size=8)
scalars = (
    st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.floats() | st.booleans()
    | st.text(max_size=20) | st.dates() | st.sampled_from(["relu", "circle", "mse", "dense", "step"])
)
values = st.recursive(
    scalars, lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)
FUZZ = settings(max_examples=int(os.environ.get("NNSIM_FUZZ_EXAMPLES", "300")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _load_or_error(text: str) -> Scenario | None:
    try:
        s = loads_scenario(text)
    except ScenarioError as err:
        assert err.problems and all(isinstance(p, Problem) for p in err.problems)
        assert "pydantic" not in str(err)
        return None
    assert loads_scenario(dump_scenario(s)) == s
    return s


@FUZZ
@given(st.dictionaries(keys, values, max_size=6))
def test_fuzz_arbitrary_toml(doc: dict) -> None:
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):
        assume(False)
    _load_or_error(text)


@FUZZ
@given(st.text(max_size=200))
def test_fuzz_arbitrary_text(text: str) -> None:
    _load_or_error(text)


@FUZZ
@given(st.sampled_from(["scenario", "data", "training", "goals", "view", "layers"]), keys, values | st.none())
def test_fuzz_mutated_valid_file(table: str, key: str, value: object) -> None:
    doc = tomllib.loads(VALID)
    target = doc.setdefault(table, {})
    if isinstance(target, list):
        target = target[-1]
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):
        assume(False)
    _load_or_error(text)


@st.composite
def valid_docs(draw: st.DrawFn) -> dict:
    """Scenario documents that must load."""
    dataset, out_units, loss, act = draw(st.sampled_from([
        ("circle", 1, "binary_crossentropy", "sigmoid"),
        ("iris", 3, "sparse_categorical_crossentropy", "softmax"),
        ("sine", 1, "mse", "linear"), ("xor", 1, "mse", "tanh"),
        ("digits", 10, "categorical_crossentropy", "softmax"),
    ]))
    floats = lambda lo, hi: st.floats(lo, hi, allow_nan=False)  # noqa: E731
    hidden = draw(st.lists(st.fixed_dictionaries(
        {"units": st.integers(1, 64), "activation": st.sampled_from(["tanh", "relu", "sigmoid"])},
        optional={"bias_init": floats(-1, 1) | st.just("ones"), "use_bias": st.booleans()}), max_size=3))
    layers = []
    for layer in hidden:
        layers.append(layer)
        if draw(st.booleans()):
            layers.append({"type": "dropout", "rate": draw(floats(0, 0.99))})
    layers.append({"units": out_units, "activation": act})
    schedule = draw(st.sampled_from(["constant", "cosine"]) | st.fixed_dictionaries(
        {"name": st.just("step"), "step_size": st.integers(1, 50), "gamma": floats(0.01, 1)}))
    return {
        "scenario": {"name": draw(st.text(min_size=1)), "description": draw(st.text()),
                     "seed": draw(st.integers(0, 2**40))},
        "data": {"dataset": dataset, "test_fraction": draw(floats(0, 0.9)), "normalize": draw(st.booleans())},
        "layers": layers,
        "training": {"loss": loss, "learning_rate": draw(floats(1e-6, 10).filter(lambda x: x > 0)),
                     "epochs": draw(st.integers(1, 1000)), "schedule": schedule,
                     "optimizer": "adam", "beta1": draw(floats(0, 0.99))},
        "goals": draw(st.fixed_dictionaries({}, optional={"test_loss_below": floats(0.001, 5)})),
    }


@FUZZ
@given(valid_docs())
def test_valid_scenarios_round_trip(doc: dict) -> None:
    text = tomli_w.dumps(doc, multiline_strings=True)
    s = _load_or_error(text)
    assert s is not None
    assert s.meta.description == tomllib.loads(text)["scenario"]["description"]
