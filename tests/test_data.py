"""Tests for nnsim.data: generated and built-in datasets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnsim.data import DATASETS, FEATURES, DataError, Dataset, load_dataset

GENERATED = [n for n, s in DATASETS.items() if s.default_samples is not None]
PLAYGROUND_CLASSIFY = ["circle", "xor", "gauss", "spiral", "moons"]
GATES = {  # rows (0,0), (0,1), (1,0), (1,1), written out independently of the code
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "nand": [1, 1, 1, 0],
    "nor": [1, 0, 0, 0],
    "xor-gate": [0, 1, 1, 0],
}
# Total size of each dataset with default arguments (gates count their 4 rows twice).
EXPECTED_TOTAL = {
    "circle": 500, "xor": 500, "gauss": 500, "spiral": 500, "moons": 500, "blobs": 500,
    "reg-plane": 1200, "reg-gauss": 1200, "sine": 200, "polynomial": 200,
    "admissions": 400, "digits": 1797, "iris": 150, "edges": 200, **{g: 8 for g in GATES},
    "sine_wave": 500, "first_symbol": 1000, "adding": 1000,
}
NON_CSV = [n for n, s in DATASETS.items() if not (s.takes_path or s.takes_images)]  # no files


def _all_arrays(ds: Dataset) -> list[np.ndarray]:
    arrays = [ds.x_train, ds.x_test, ds.y_train, ds.y_test]
    return arrays + [p for p in (ds.points_train, ds.points_test) if p is not None]


def test_registry_covers_the_required_datasets() -> None:
    required = {"circle", "xor", "gauss", "spiral", "reg-plane", "reg-gauss", "moons", "blobs",
                "and", "or", "nand", "nor", "xor-gate", "sine", "polynomial", "admissions",
                "digits", "iris", "csv"}
    assert required <= set(DATASETS)
    for name, spec in DATASETS.items():
        assert spec.description and "\n" not in spec.description, name
        assert spec.task in ("binary", "multiclass", "regression")


@pytest.mark.parametrize("name", NON_CSV)
def test_shapes_and_dtypes(name: str) -> None:
    ds = load_dataset(name)
    assert ds.name == name
    assert ds.x_train.dtype == np.float64 and ds.x_test.dtype == np.float64
    assert ds.x_train.ndim == 2 and ds.x_test.ndim == 2
    assert ds.x_train.shape[1] == ds.x_test.shape[1] == ds.input_dim == len(ds.feature_names)
    assert len(ds.y_train) == len(ds.x_train) and len(ds.y_test) == len(ds.x_test)
    assert len(ds.x_train) + len(ds.x_test) == EXPECTED_TOTAL[name]
    if ds.task == "regression":
        assert ds.n_classes is None
        assert ds.y_train.dtype == np.float64 and ds.y_train.shape == (len(ds.x_train), 1)
        assert ds.y_test.shape == (len(ds.x_test), 1)
    else:
        assert ds.y_train.dtype == np.int64 and ds.y_train.ndim == 1 and ds.y_test.ndim == 1
        assert ds.n_classes == (2 if ds.task == "binary" else ds.n_classes) and ds.n_classes >= 2
        assert set(np.unique(ds.y_train)) == set(range(ds.n_classes))
        assert ds.y_test.min() >= 0 and ds.y_test.max() < ds.n_classes
    if ds.input_kind == "plane":
        assert ds.points_train.shape == (len(ds.x_train), 2)
        assert ds.points_test.shape == (len(ds.x_test), 2)
        assert np.abs(ds.points_train).max() <= 6.0 + 1.5  # playground scale (+ blob tails)
    elif ds.input_kind == "line":
        assert ds.points_train.shape == (len(ds.x_train), 1)
        assert ds.task == "regression"
    else:
        assert ds.points_train is None and ds.points_test is None
    for a in _all_arrays(ds):
        assert np.all(np.isfinite(a))


@pytest.mark.parametrize("name", NON_CSV)
def test_same_seed_identical_different_seed_differs(name: str) -> None:
    a = load_dataset(name, seed=3, noise=0.2)
    b = load_dataset(name, seed=3, noise=0.2)
    for u, v in zip(_all_arrays(a), _all_arrays(b)):
        np.testing.assert_array_equal(u, v)
    c = load_dataset(name, seed=4, noise=0.2)
    if name in GATES:  # fixed table, nothing random
        np.testing.assert_array_equal(a.x_train, c.x_train)
    else:
        assert not np.array_equal(a.x_train, c.x_train)


@pytest.mark.parametrize("name", [n for n in GENERATED if DATASETS[n].takes_noise])
def test_noise_changes_the_data(name: str) -> None:
    clean = load_dataset(name, seed=1, noise=0.0, test_fraction=0.0)
    noisy = load_dataset(name, seed=1, noise=0.3, test_fraction=0.0)
    changed = [not np.array_equal(u, v) for u, v in
               ((clean.points_train, noisy.points_train), (clean.x_train, noisy.x_train),
                (clean.y_train, noisy.y_train))]
    assert any(changed)


@pytest.mark.parametrize("name", PLAYGROUND_CLASSIFY)
def test_playground_classes_roughly_balanced(name: str) -> None:
    ds = load_dataset(name, samples=4000, noise=0.1, seed=5, test_fraction=0.0)
    share = ds.y_train.mean()
    assert 0.4 < share < 0.6


def test_circle_classes_separated_by_radius_without_noise() -> None:
    ds = load_dataset("circle", samples=2000, seed=2, test_fraction=0.3)
    for pts, y in ((ds.points_train, ds.y_train), (ds.points_test, ds.y_test)):
        r = np.hypot(pts[:, 0], pts[:, 1])
        assert r[y == 1].max() <= 2.5
        assert r[y == 0].min() >= 3.5 and r[y == 0].max() <= 5.0


def test_xor_labels_follow_sign_of_product_without_noise() -> None:
    ds = load_dataset("xor", samples=2000, seed=9)
    pts = np.concatenate([ds.points_train, ds.points_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    expected = (np.sign(pts[:, 0] * pts[:, 1]) > 0).astype(int)
    np.testing.assert_array_equal(y, expected)
    assert np.abs(pts).min() >= 0.3  # the playground's padding away from the axes


def test_gauss_clouds_sit_on_their_diagonal() -> None:
    ds = load_dataset("gauss", samples=4000, seed=1, test_fraction=0.0)
    assert np.allclose(ds.points_train[ds.y_train == 1].mean(axis=0), [2, 2], atol=0.15)
    assert np.allclose(ds.points_train[ds.y_train == 0].mean(axis=0), [-2, -2], atol=0.15)


def test_regression_targets() -> None:
    plane = load_dataset("reg-plane", seed=1)
    np.testing.assert_allclose(plane.y_train[:, 0], plane.points_train.sum(axis=1) / 10)
    bumps = load_dataset("reg-gauss", seed=1)
    assert bumps.y_train.min() >= -1 and bumps.y_train.max() <= 1
    assert bumps.y_train.max() > 0.8 and bumps.y_train.min() < -0.8
    sine = load_dataset("sine", seed=1)
    np.testing.assert_allclose(sine.y_train[:, 0], np.sin(sine.points_train[:, 0]))
    assert sine.points_train.min() >= -np.pi and sine.points_train.max() <= np.pi
    poly = load_dataset("polynomial", seed=1)
    x = poly.points_train[:, 0]
    np.testing.assert_allclose(poly.y_train[:, 0], (x**3 - 3 * x) / 2)


@pytest.mark.parametrize("gate", list(GATES))
def test_gate_truth_tables(gate: str) -> None:
    ds = load_dataset(gate, test_fraction=0.9, samples=999)  # both ignored
    assert ds.task == "binary" and ds.input_kind == "plane"
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        assert x.shape == (4, 2)
        table = {(int(a), int(b)): int(t) for (a, b), t in zip(x, y)}
        assert table == dict(zip([(0, 0), (0, 1), (1, 0), (1, 1)], GATES[gate]))


def test_digits() -> None:
    ds = load_dataset("digits", samples=10, seed=0)  # samples ignored
    x = np.concatenate([ds.x_train, ds.x_test])
    assert x.shape == (1797, 64)
    assert x.min() == 0.0 and x.max() == 1.0
    assert ds.input_kind == "image" and ds.image_shape == (8, 8)
    assert ds.n_classes == 10 and ds.task == "multiclass"
    # stratified: every digit in both halves, about half each
    counts = np.bincount(ds.y_test, minlength=10)
    assert counts.min() >= 80
    # each image is 16 gray levels scaled by 1/16
    assert np.allclose(x * 16, np.round(x * 16))


def test_real_data_matches_scikit_learn_loaders() -> None:
    from sklearn.datasets import load_digits, load_iris

    for name, bunch, scale in (("digits", load_digits(), 16.0), ("iris", load_iris(), 1.0)):
        ds = load_dataset(name, test_fraction=0.0)
        # compare as multisets of rows (our split shuffles)
        ours = np.column_stack([ds.x_train * scale, ds.y_train])
        theirs = np.column_stack([bunch.data, bunch.target])
        ours = ours[np.lexsort(ours.T[::-1])]
        theirs = theirs[np.lexsort(theirs.T[::-1])]
        np.testing.assert_allclose(ours, theirs)


def test_iris() -> None:
    ds = load_dataset("iris", test_fraction=0.2, seed=1)
    assert len(ds.y_train) + len(ds.y_test) == 150
    assert ds.input_dim == 4 and ds.n_classes == 3
    assert list(np.bincount(ds.y_test)) == [10, 10, 10]


def test_admissions_is_sensible() -> None:
    ds = load_dataset("admissions", samples=20000, seed=0, test_fraction=0.0)
    x, y = ds.x_train, ds.y_train
    assert ds.input_dim == 6 and ds.input_kind == "vector"
    assert 200 <= x[:, 0].min() and x[:, 0].max() <= 800
    assert 2.0 <= x[:, 1].min() and x[:, 1].max() <= 4.0
    np.testing.assert_array_equal(x[:, 2:].sum(axis=1), 1.0)  # one-hot rank
    assert 0.2 < y.mean() < 0.45
    rank1, rank4 = x[:, 2] == 1, x[:, 5] == 1
    assert y[rank1].mean() > y[rank4].mean() + 0.15
    normed = load_dataset("admissions", samples=500, normalize=True)
    np.testing.assert_allclose(normed.x_train.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(normed.x_train.std(axis=0), 1, atol=1e-9)


def test_multiclass_spiral_and_blobs() -> None:
    assert load_dataset("spiral").task == "binary"
    assert load_dataset("spiral", classes=2).n_classes == 2
    sp = load_dataset("spiral", classes=5, samples=1000, test_fraction=0.0)
    assert sp.task == "multiclass" and sp.n_classes == 5
    assert list(np.bincount(sp.y_train)) == [200] * 5
    bl = load_dataset("blobs", classes=8, samples=800, test_fraction=0.0)
    assert bl.n_classes == 8 and list(np.bincount(bl.y_train)) == [100] * 8
    assert load_dataset("blobs").n_classes == 3
    for name, bad in (("blobs", 2), ("blobs", 9), ("spiral", 1), ("spiral", 9),
                      ("circle", 3), ("sine", 2), ("iris", 4)):
        with pytest.raises(DataError) as exc:
            load_dataset(name, classes=bad)
        assert exc.value.field == "data.classes"


def test_features_expand_the_plane() -> None:
    ds = load_dataset("circle", features=list(FEATURES), seed=4)
    p = ds.points_train
    a, b = p[:, 0], p[:, 1]
    expected = np.stack([a, b, a * a, b * b, a * b, np.sin(a), np.sin(b)], axis=1)
    np.testing.assert_allclose(ds.x_train, expected)
    assert ds.feature_names == ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
    only = load_dataset("xor", features=["x1*x2"])
    np.testing.assert_allclose(only.x_train[:, 0], only.points_train.prod(axis=1))


def test_feature_errors() -> None:
    with pytest.raises(DataError) as exc:
        load_dataset("circle", features=["x1", "x3"])
    assert exc.value.field == "data.features"
    assert "'x3'" in str(exc.value) and "sin(x1)" in str(exc.value)
    for name in ("sine", "iris", "digits", "admissions"):
        with pytest.raises(DataError) as exc:
            load_dataset(name, features=["x1"])
        assert exc.value.field == "data.features"
    with pytest.raises(DataError):
        load_dataset("circle", features=[])


@pytest.mark.parametrize("name,kw", [
    ("circle", {"features": ["x1", "x2", "x1*x2", "sin(x2)"]}),
    ("reg-gauss", {"features": ["x1^2", "x2"]}),
    ("sine", {}),
    ("admissions", {}),
    ("iris", {}),
    ("and", {"features": ["x1", "x2", "x1*x2"]}),
])
@pytest.mark.parametrize("normalize", [False, True])
def test_transform_reproduces_model_inputs(name: str, kw: dict, normalize: bool) -> None:
    ds = load_dataset(name, normalize=normalize, seed=2, test_fraction=0.25, **kw)
    if ds.points_train is not None:
        raw_train, raw_test = ds.points_train, ds.points_test
    else:  # vector data: undo the normalization to get the raw rows back
        mean = ds.norm_mean if normalize else 0.0
        std = ds.norm_std if normalize else 1.0
        raw_train, raw_test = ds.x_train * std + mean, ds.x_test * std + mean
    np.testing.assert_allclose(ds.transform(raw_train), ds.x_train, atol=1e-12)
    np.testing.assert_allclose(ds.transform(raw_test), ds.x_test, atol=1e-12)
    if normalize:
        np.testing.assert_allclose(ds.x_train.mean(axis=0), 0, atol=1e-9)
        std = ds.x_train.std(axis=0)
        assert np.all(np.isclose(std, 1) | np.isclose(std, 0))


def test_transform_of_a_grid_matches_features_by_hand() -> None:
    ds = load_dataset("circle", features=["x1^2", "x2^2"], normalize=True, seed=0)
    grid = np.array([[0.0, 0.0], [1.0, -2.0], [6.0, 6.0]])
    sq = grid**2
    sq_train = ds.points_train**2
    mean, std = sq_train.mean(axis=0), sq_train.std(axis=0)
    np.testing.assert_allclose(ds.transform(grid), (sq - mean) / std)
    with pytest.raises(ValueError):
        ds.transform(np.zeros((3, 3)))


def test_normalize_constant_column_uses_std_one() -> None:
    # in every gate table both inputs take 0 and 1 twice: mean 0.5, std 0.5
    ds = load_dataset("and", normalize=True, features=["x1", "x1*x2"])
    np.testing.assert_allclose(ds.x_train[:, 0], [-1, -1, 1, 1])
    assert np.all(np.isfinite(ds.x_train))


@pytest.mark.parametrize("name", ["circle", "reg-plane", "sine", "iris", "digits", "admissions"])
def test_zero_test_fraction_gives_empty_test_set(name: str) -> None:
    ds = load_dataset(name, test_fraction=0.0)
    assert ds.x_test.shape == (0, ds.input_dim)
    assert ds.y_test.shape == ((0, 1) if ds.task == "regression" else (0,))
    if ds.points_test is not None:
        assert ds.points_test.shape == (0, ds.points_train.shape[1])
    assert len(ds.x_train) == EXPECTED_TOTAL[name]


def test_test_fraction_sets_split_size() -> None:
    ds = load_dataset("circle", samples=200, test_fraction=0.3)
    assert (len(ds.x_train), len(ds.x_test)) == (140, 60)
    ds = load_dataset("xor", samples=4, test_fraction=0.9)
    assert len(ds.x_train) >= 1


@pytest.mark.parametrize("kw,field", [
    ({"samples": 3}, "data.samples"),
    ({"samples": 200_001}, "data.samples"),
    ({"samples": 10.5}, "data.samples"),
    ({"noise": 0.6}, "data.noise"),
    ({"noise": -0.1}, "data.noise"),
    ({"test_fraction": 0.95}, "data.test_fraction"),
    ({"test_fraction": -0.1}, "data.test_fraction"),
    ({"seed": -1}, "data.seed"),
])
def test_argument_validation(kw: dict, field: str) -> None:
    with pytest.raises(DataError) as exc:
        load_dataset("circle", **kw)
    assert exc.value.field == field
    if field == "data.samples":
        assert "200,000" in str(exc.value)


def test_sample_limits_are_inclusive() -> None:
    assert len(load_dataset("gauss", samples=4, test_fraction=0).x_train) == 4
    assert len(load_dataset("reg-plane", samples=200_000, test_fraction=0).x_train) == 200_000


def test_unknown_dataset() -> None:
    with pytest.raises(DataError) as exc:
        load_dataset("cirlce")
    err = exc.value
    assert isinstance(err, ValueError)
    assert err.field == "data.dataset"
    assert "cirlce" in str(err) and "'circle'" in str(err) and "'digits'" in str(err)


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(GENERATED), samples=st.integers(4, 600),
       frac=st.floats(0.0, 0.9), seed=st.integers(0, 2**32))
def test_split_sizes_and_determinism_property(name: str, samples: int, frac: float,
                                              seed: int) -> None:
    a = load_dataset(name, samples=samples, test_fraction=frac, seed=seed)
    assert len(a.x_train) + len(a.x_test) == samples
    assert len(a.x_train) >= 1
    assert len(a.x_test) == min(int(np.floor(samples * frac + 1e-9)), samples - 1)
    b = load_dataset(name, samples=samples, test_fraction=frac, seed=seed)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    np.testing.assert_array_equal(a.y_train, b.y_train)


def test_test_fraction_does_not_change_the_generated_points() -> None:
    a = load_dataset("spiral", noise=0.3, seed=8, test_fraction=0.0)
    b = load_dataset("spiral", noise=0.3, seed=8, test_fraction=0.4)
    pts_b = np.concatenate([b.points_train, b.points_test])
    key = np.lexsort(a.points_train.T)
    np.testing.assert_array_equal(a.points_train[key], pts_b[np.lexsort(pts_b.T)])
