"""Weight penalties (weights only, never biases).

l1: penalty = rate·Σ|w|, gradient rate·sign(w).  l2: penalty = rate·Σw²/2, gradient rate·w.
"""

from __future__ import annotations

import numpy as np

from ..kernels import catalogue as cat
from ..kernels import npmath
from .registry import Option, Registry

REGULARIZERS: Registry[int] = Registry("regularization")
for _name, _aliases in (("none", ["off", ""]), ("l1", ["lasso"]), ("l2", ["ridge", "weight_decay"])):
    REGULARIZERS.add(_name, cat.REGULARIZERS[_name], aliases=_aliases)

RATE_OPTION = Option("regularization_rate", 0.0, 0.0, 10.0, hp=cat.HP_REG,
                     doc="λ, the penalty's weight (0: no effect)")


def get(name: str) -> int:
    return REGULARIZERS.get(name)


def names() -> list[str]:
    return REGULARIZERS.names()


def penalty(code: int, rate: float, weights: list[np.ndarray]) -> float:
    """The penalty added to the data loss (reported separately)."""
    return npmath.penalty(code, rate, weights)


def gradient(code: int, rate: float, w: np.ndarray) -> np.ndarray:
    """d(penalty)/dw."""
    return npmath.penalty_gradient(code, rate, w)
