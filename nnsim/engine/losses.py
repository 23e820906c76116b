"""Losses as `fn`/`grad` pairs over a batch (NumPy reference math).

`out` is the network's output: probabilities/values, or logits when `from_logits`.
`y` is float (B, K): values, 0/1 or one-hot; for sparse CE, class indices as (B, 1).
Data losses are means over the batch (sse: ½Σ); the regularization penalty is separate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .activations import _sigmoid, _softmax
from .registry import Registry

Array = np.ndarray
EPS = 1e-7  # probabilities are clipped to [EPS, 1 − EPS] before log (as Keras does)

MSE, SSE, MAE, BCE, CCE, SPARSE_CCE = range(6)


def _log_softmax(z: Array) -> Array:
    m = z - z.max(axis=1, keepdims=True)
    return m - np.log(np.exp(m).sum(axis=1, keepdims=True))


def _onehot(y: Array, k: int) -> Array:
    out = np.zeros((y.shape[0], k), dtype=np.float64)
    out[np.arange(y.shape[0]), y[:, 0].astype(np.int64)] = 1.0
    return out


def _mse(o: Array, y: Array, lg: bool) -> float:
    return float(np.mean((y - o) ** 2))


def _mse_g(o: Array, y: Array, lg: bool) -> Array:
    return 2.0 * (o - y) / o.size


def _sse(o: Array, y: Array, lg: bool) -> float:
    return float(0.5 * np.sum((y - o) ** 2))


def _sse_g(o: Array, y: Array, lg: bool) -> Array:
    return o - y


def _mae(o: Array, y: Array, lg: bool) -> float:
    return float(np.mean(np.abs(y - o)))


def _mae_g(o: Array, y: Array, lg: bool) -> Array:
    return np.sign(o - y) / o.size


def _bce(o: Array, y: Array, lg: bool) -> float:
    if lg:  # max(z,0) − z·y + log(1 + e^(−|z|))
        return float(np.mean(np.maximum(o, 0) - o * y + np.log1p(np.exp(-np.abs(o)))))
    p = np.clip(o, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _bce_g(o: Array, y: Array, lg: bool) -> Array:
    if lg:
        return (_sigmoid(o) - y) / o.size
    p = np.clip(o, EPS, 1 - EPS)
    inside = (o > EPS) & (o < 1 - EPS)
    return inside * (p - y) / (p * (1 - p)) / o.size


def _cce(o: Array, y: Array, lg: bool) -> float:
    logp = _log_softmax(o) if lg else np.log(np.clip(o, EPS, 1 - EPS))
    return float(-np.sum(y * logp) / o.shape[0])


def _cce_g(o: Array, y: Array, lg: bool) -> Array:
    if lg:
        return (_softmax(o) - y) / o.shape[0]
    inside = (o > EPS) & (o < 1 - EPS)
    return -(inside * y) / np.clip(o, EPS, 1 - EPS) / o.shape[0]


@dataclass(frozen=True)
class Loss:
    """L = fn(out, y, from_logits); dL/d(out) = grad(out, y, from_logits)."""

    name: str
    code: int
    fn: Callable[[Array, Array, bool], float]
    grad: Callable[[Array, Array, bool], Array]
    formula: str
    classification: bool

    def value(self, out: Array, y: Array, from_logits: bool = False) -> float:
        if self.code == SPARSE_CCE:
            y = _onehot(y, out.shape[1])
        return self.fn(out, y, from_logits)

    def gradient(self, out: Array, y: Array, from_logits: bool = False) -> Array:
        if self.code == SPARSE_CCE:
            y = _onehot(y, out.shape[1])
        return self.grad(out, y, from_logits)


LOSSES: Registry[Loss] = Registry("loss")
LOSSES.add("mse", Loss("mse", MSE, _mse, _mse_g, "L = mean over samples and outputs of (y − ŷ)²", False),
           aliases=["mean_squared_error"])
LOSSES.add("sse", Loss("sse", SSE, _sse, _sse_g, "L = ½ Σ over samples and outputs of (y − ŷ)²", False),
           aliases=["sum_squared_error"])
LOSSES.add("mae", Loss("mae", MAE, _mae, _mae_g, "L = mean |y − ŷ|", False),
           aliases=["mean_absolute_error"])
LOSSES.add("binary_crossentropy", Loss(
    "binary_crossentropy", BCE, _bce, _bce_g, "L = −mean[y log p + (1 − y) log(1 − p)]", True),
    aliases=["bce", "binary_cross_entropy"])
LOSSES.add("categorical_crossentropy", Loss(
    "categorical_crossentropy", CCE, _cce, _cce_g, "L = −(1/B) Σ y·log p (one-hot y)", True),
    aliases=["cce", "categorical_cross_entropy"])
LOSSES.add("sparse_categorical_crossentropy", Loss(
    "sparse_categorical_crossentropy", SPARSE_CCE, _cce, _cce_g,
    "L = −(1/B) Σ log p[label]", True), aliases=["sparse_cce", "scce"])


def get(name: str) -> Loss:
    """The loss called `name`; `ValueError` lists the valid names."""
    return LOSSES.get(name)


def names() -> list[str]:
    return LOSSES.names()
