"""Input features for 2-D ("plane") datasets, as in TensorFlow Playground."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .errors import DataError, choices

_FEATURE_FUNCS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1^2": lambda a, b: a * a,
    "x2^2": lambda a, b: b * b,
    "x1*x2": lambda a, b: a * b,
    "sin(x1)": lambda a, b: np.sin(a),
    "sin(x2)": lambda a, b: np.sin(b),
}

#: The seven playground features, in the playground's order.
FEATURES: tuple[str, ...] = tuple(_FEATURE_FUNCS)

#: What ``features=None`` means.
DEFAULT_FEATURES: tuple[str, ...] = ("x1", "x2")


def check_features(features: Sequence[str] | None) -> tuple[str, ...]:
    """Validate a feature list; ``None`` gives the default ``("x1", "x2")``."""
    if features is None:
        return DEFAULT_FEATURES
    if isinstance(features, str) or not isinstance(features, Sequence):
        raise DataError(
            f"features must be a list of names from {choices(FEATURES)}, got {features!r}",
            "data.features",
        )
    out = tuple(features)
    if not out:
        raise DataError(
            f"features is empty; pick at least one of {choices(FEATURES)}", "data.features"
        )
    for name in out:
        if name not in _FEATURE_FUNCS:
            raise DataError(
                f"unknown feature {name!r}; valid features are {choices(FEATURES)}",
                "data.features",
            )
    dup = sorted({n for n in out if out.count(n) > 1})
    if dup:
        raise DataError(f"feature {dup[0]!r} is listed twice", "data.features")
    return out


def expand(points: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """Map raw plane points (N, 2) to the feature columns (N, len(features))."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"plane points must have shape (N, 2), got {pts.shape}")
    a, b = pts[:, 0], pts[:, 1]
    cols = [_FEATURE_FUNCS[name](a, b) for name in features]
    return np.stack(cols, axis=1).astype(np.float64, copy=False).reshape(len(pts), len(cols))
