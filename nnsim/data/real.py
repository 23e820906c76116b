"""Real datasets shipped inside scikit-learn: digits and iris. No network.

The CSV files are read straight from scikit-learn's installed package data,
without importing scikit-learn itself (which is slow to import and pulls in
rich for its progress callbacks). If the files are not where expected, the
loaders fall back to ``sklearn.datasets``.
"""

from __future__ import annotations

import gzip
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import DataError

IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def _sklearn_data_dir() -> Path | None:
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def _frozen(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.setflags(write=False)


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    folder = _sklearn_data_dir()
    path = folder / "digits.csv.gz" if folder else None
    if path is not None and path.is_file():
        with gzip.open(path, "rt") as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.float64)
        pixels, target = table[:, :-1], table[:, -1]
    else:  # pragma: no cover - depends on the installed scikit-learn layout
        try:
            from sklearn.datasets import load_digits
        except ImportError as exc:
            raise DataError("dataset 'digits' needs scikit-learn", "data.dataset") from exc
        bunch = load_digits()
        pixels, target = bunch.data, bunch.target
    x = np.ascontiguousarray(pixels, dtype=np.float64) / 16.0
    y = np.asarray(target, dtype=np.int64)
    _frozen(x, y)
    return x, y


@lru_cache(maxsize=1)
def _iris() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    folder = _sklearn_data_dir()
    path = folder / "iris.csv" if folder else None
    if path is not None and path.is_file():
        with open(path, encoding="utf-8") as fh:
            species = tuple(fh.readline().strip().split(",")[2:])
            table = np.loadtxt(fh, delimiter=",", dtype=np.float64)
        data, target = table[:, :4], table[:, 4]
    else:  # pragma: no cover - depends on the installed scikit-learn layout
        try:
            from sklearn.datasets import load_iris
        except ImportError as exc:
            raise DataError("dataset 'iris' needs scikit-learn", "data.dataset") from exc
        bunch = load_iris()
        data, target, species = bunch.data, bunch.target, tuple(bunch.target_names)
    x = np.ascontiguousarray(data, dtype=np.float64)
    y = np.asarray(target, dtype=np.int64)
    _frozen(x, y)
    return x, y, tuple(str(s) for s in species)


def digits() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """1,797 8x8 digit images flattened row by row to 64 pixels in [0, 1]; labels 0-9."""
    x, y = _digits()
    names = [f"px{r}_{c}" for r in range(8) for c in range(8)]
    return x.copy(), y.copy(), names


def iris() -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Fisher's iris: 150 flowers, 4 measurements in cm, 3 species."""
    x, y, species = _iris()
    return x.copy(), y.copy(), list(IRIS_FEATURES), list(species)
