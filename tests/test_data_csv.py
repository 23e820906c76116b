"""Tests for the csv dataset of nnsim.data (fixtures in tests/data/csv/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnsim.data import DataError, load_dataset

CSV_DIR = Path(__file__).parent / "data" / "csv"


def _load(path: str, target: str | None = "y", **kw: object):
    return load_dataset("csv", path=path, target=target, base_dir=CSV_DIR, **kw)


def _raw_rows(name: str) -> np.ndarray:
    return np.loadtxt(CSV_DIR / name, delimiter=",", skiprows=1)


def test_binary_labels_are_remapped_and_stratified() -> None:
    ds = _load("binary.csv", target="label", test_fraction=0.25, seed=1)
    assert ds.task == "binary" and ds.n_classes == 2
    assert ds.class_names == ["3", "7"]
    assert ds.y_train.dtype == np.int64 and set(np.unique(ds.y_train)) == {0, 1}
    assert list(np.bincount(ds.y_test)) == [5, 5]  # 20 of each label, a quarter held out
    assert ds.input_kind == "plane" and ds.raw_names == ["height", "weight"]
    # rows are kept intact: each (height, weight) -> label pair occurs in the file
    rows = {(h, w): int(t) for h, w, t in _raw_rows("binary.csv")}
    for (h, w), y in zip(ds.points_train, ds.y_train):
        assert rows[(h, w)] == (3 if y == 0 else 7)


def test_relative_path_resolves_against_base_dir() -> None:
    ds = load_dataset("csv", path="csv/binary.csv", target="label", base_dir=CSV_DIR.parent)
    assert len(ds.x_train) + len(ds.x_test) == 40
    absolute = load_dataset("csv", path=str(CSV_DIR / "binary.csv"), target="label")
    np.testing.assert_array_equal(absolute.x_train, ds.x_train)


def test_multiclass_vector_file() -> None:
    ds = _load("multiclass.csv", target="species", normalize=True)
    assert ds.task == "multiclass" and ds.n_classes == 3 and ds.input_kind == "vector"
    assert ds.feature_names == ["a", "b", "const"]
    assert ds.points_train is None
    np.testing.assert_allclose(ds.x_train[:, 2], 0.0)  # constant column: std treated as 1
    assert np.all(np.isfinite(ds.x_test))


def test_regression_file() -> None:
    ds = _load("regression.csv", target="price", test_fraction=0.2, seed=3)
    assert ds.task == "regression" and ds.n_classes is None
    assert ds.y_train.shape == (20, 1) and ds.y_test.shape == (5, 1)
    prices = set(np.round(_raw_rows("regression.csv")[:, 3], 2))
    assert set(np.round(ds.y_train[:, 0], 2)) <= prices
    with pytest.raises(DataError) as exc:
        _load("regression.csv", target="price", features=["x1"])
    assert exc.value.field == "data.features"


def test_one_input_regression_is_a_line() -> None:
    ds = _load("line.csv", test_fraction=0.0)
    assert ds.input_kind == "line" and ds.points_train.shape == (21, 1)
    np.testing.assert_allclose(ds.y_train[:, 0], ds.points_train[:, 0] ** 2, atol=1e-4)


def test_same_seed_same_split() -> None:
    a = _load("regression.csv", target="price", seed=5)
    b = _load("regression.csv", target="price", seed=5)
    c = _load("regression.csv", target="price", seed=6)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)


def test_missing_file_names_the_resolved_path() -> None:
    with pytest.raises(DataError) as exc:
        _load("nope/missing.csv")
    assert exc.value.field == "data.path"
    assert str(CSV_DIR.resolve() / "nope" / "missing.csv") in str(exc.value)


def test_missing_path_argument() -> None:
    with pytest.raises(DataError) as exc:
        load_dataset("csv", target="y")
    assert exc.value.field == "data.path"


@pytest.mark.parametrize("name", ["empty.csv", "blank.csv"])
def test_empty_file(name: str) -> None:
    with pytest.raises(DataError) as exc:
        _load(name)
    assert exc.value.field == "data.path" and "empty" in str(exc.value)
    assert name in str(exc.value)


def test_header_only_file() -> None:
    with pytest.raises(DataError) as exc:
        _load("header_only.csv")
    assert "no data rows" in str(exc.value)


def test_header_is_required() -> None:
    with pytest.raises(DataError) as exc:
        _load("no_header.csv")
    assert exc.value.field == "data.path" and "header" in str(exc.value)


def test_missing_target_lists_columns() -> None:
    with pytest.raises(DataError) as exc:
        _load("binary.csv", target="weight_kg")
    msg = str(exc.value)
    assert exc.value.field == "data.target"
    assert "'weight_kg'" in msg
    for column in ("height", "weight", "label"):
        assert f"'{column}'" in msg
    with pytest.raises(DataError) as exc:
        _load("binary.csv", target=None)
    assert exc.value.field == "data.target" and "'label'" in str(exc.value)


def test_non_numeric_value_names_row_column_and_value() -> None:
    with pytest.raises(DataError) as exc:
        _load("nonnumeric.csv")
    msg = str(exc.value)
    assert exc.value.field == "data.path"
    assert "line 4" in msg and "'x2'" in msg and "'abc'" in msg


def test_empty_cell_is_reported() -> None:
    with pytest.raises(DataError) as exc:
        _load("missing_value.csv")
    msg = str(exc.value)
    assert "line 3" in msg and "'x2'" in msg and "empty" in msg


def test_ragged_row_reports_expected_and_got() -> None:
    with pytest.raises(DataError) as exc:
        _load("ragged.csv")
    msg = str(exc.value)
    assert exc.value.field == "data.path"
    assert "line 5" in msg and "expected 3" in msg and "got 2" in msg


def test_constant_target_is_rejected() -> None:
    with pytest.raises(DataError) as exc:
        _load("constant_target.csv")
    assert exc.value.field == "data.target"


def test_classes_must_match_the_file() -> None:
    assert _load("binary.csv", target="label", classes=2).n_classes == 2
    with pytest.raises(DataError) as exc:
        _load("binary.csv", target="label", classes=3)
    assert exc.value.field == "data.classes"


def test_many_integer_values_make_regression(tmp_path: Path) -> None:
    lines = ["x,count"] + [f"{i},{i * 3}" for i in range(30)]
    (tmp_path / "counts.csv").write_text("\n".join(lines) + "\n")
    ds = load_dataset("csv", path="counts.csv", target="count", base_dir=tmp_path)
    assert ds.task == "regression"
    few = ["x,grade"] + [f"{i},{i % 20}" for i in range(60)]
    (tmp_path / "grades.csv").write_text("\n".join(few) + "\n")
    ds = load_dataset("csv", path="grades.csv", target="grade", base_dir=tmp_path)
    assert ds.task == "multiclass" and ds.n_classes == 20
