"""Losses as `fn`/`grad` pairs over a batch (the NumPy math of `kernels.npmath`).

`out` is the network's output: probabilities/values, or logits when `from_logits`.
`y` is float (B, K): values, 0/1 or one-hot; for sparse CE, class indices as (B, 1).
Reductions (`kernels.catalogue.loss_norm`): mse, mae and binary CE are means over every value,
categorical CE a mean over the samples, sse a sum (½Σ). The regularization penalty is separate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..kernels import catalogue as cat
from ..kernels import npmath
from .registry import Registry

Array = np.ndarray
EPS = cat.EPS_P  # probabilities are clipped to [EPS, 1 − EPS] before log (as Keras does)


@dataclass(frozen=True)
class Loss:
    """L = fn(out, y, from_logits); dL/d(out) = grad(out, y, from_logits)."""

    name: str
    code: int
    fn: Callable[[Array, Array, bool], float]
    grad: Callable[[Array, Array, bool], Array]
    formula: str
    classification: bool
    reduction: str      # how the batch is reduced, in words (shown by the app)

    def value(self, out: Array, y: Array, from_logits: bool = False) -> float:
        return npmath.loss_value(self.code, out, y, from_logits)

    def gradient(self, out: Array, y: Array, from_logits: bool = False) -> Array:
        return npmath.loss_gradient(self.code, out, y, from_logits)


_MEAN_ALL = "mean over the batch's samples and outputs"
_MEAN_SAMPLES = "mean over the batch's samples (summed over classes)"
#: formula, classification?, reduction, aliases — codes and math come from the kernel layer.
_INFO: dict[str, tuple[str, bool, str, list[str]]] = {
    "mse": ("L = mean over samples and outputs of (y − ŷ)²", False, _MEAN_ALL,
            ["mean_squared_error"]),
    "sse": ("L = ½ Σ over samples and outputs of (y − ŷ)²", False,
            "sum over the batch (½ Σ, not a mean)", ["sum_squared_error"]),
    "mae": ("L = mean |y − ŷ|", False, _MEAN_ALL, ["mean_absolute_error"]),
    "binary_crossentropy": ("L = −mean[y log p + (1 − y) log(1 − p)]", True, _MEAN_ALL,
                            ["bce", "binary_cross_entropy"]),
    "categorical_crossentropy": ("L = −(1/B) Σ y·log p (one-hot y)", True, _MEAN_SAMPLES,
                                 ["cce", "categorical_cross_entropy"]),
    "sparse_categorical_crossentropy": ("L = −(1/B) Σ log p[label]", True, _MEAN_SAMPLES,
                                        ["sparse_cce", "scce"]),
}
LOSSES: Registry[Loss] = Registry("loss")
for _name, _code in cat.LOSSES.items():
    _formula, _cls, _red, _aliases = _INFO[_name]
    _fn, _grad = npmath.LOSS_FNS[_code]
    LOSSES.add(_name, Loss(_name, _code, _fn, _grad, _formula, _cls, _red), aliases=_aliases)


def get(name: str) -> Loss:
    """The loss called `name`; `ValueError` lists the valid names."""
    return LOSSES.get(name)


def names() -> list[str]:
    return LOSSES.names()


def batch_divisor(code: int, n: int) -> float:
    """D in L = (Σᵢ ℓᵢ) / D over a batch of n samples, where ℓᵢ is sample i's own loss (reduced
    over its outputs as the loss reduces them: a mean for mse, mae and binary CE, a sum over
    the classes for categorical CE, ½Σ for sse). D = n for every loss that averages over the
    samples, 1 for sse, which sums."""
    return cat.loss_norm(code, n, 1)
