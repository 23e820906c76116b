"""Weight penalties (weights only, never biases).

l1: penalty = rate·Σ|w|, gradient rate·sign(w).  l2: penalty = rate·Σw²/2, gradient rate·w.
"""

from __future__ import annotations

import numpy as np

from .registry import Registry

NONE, L1, L2 = 0, 1, 2
REGULARIZERS: Registry[int] = Registry("regularization")
REGULARIZERS.add("none", NONE, aliases=["off", ""])
REGULARIZERS.add("l1", L1, aliases=["lasso"])
REGULARIZERS.add("l2", L2, aliases=["ridge", "weight_decay"])


def get(name: str) -> int:
    return REGULARIZERS.get(name)


def names() -> list[str]:
    return REGULARIZERS.names()


def penalty(code: int, rate: float, weights: list[np.ndarray]) -> float:
    """The penalty added to the data loss (reported separately)."""
    if code == L1:
        return float(rate * sum(np.abs(w.astype(np.float64)).sum() for w in weights))
    if code == L2:
        return float(rate * 0.5 * sum((w.astype(np.float64) ** 2).sum() for w in weights))
    return 0.0


def gradient(code: int, rate: float, w: np.ndarray) -> np.ndarray:
    """d(penalty)/dw."""
    if code == L1:
        return rate * np.sign(w)
    if code == L2:
        return rate * w
    return np.zeros_like(w)
