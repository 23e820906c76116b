"""Targets as the loss needs them, and the metric shown beside the loss.

accuracy (classification): one output → threshold 0.5 on probabilities, 0 on logits, or the
sign for ±1 targets; several outputs → argmax. mae (regression): mean |y − ŷ|.
"""

from __future__ import annotations

import numpy as np

from ..kernels import catalogue as cat
from . import losses as losses_mod


def encode_targets(y: np.ndarray, loss: losses_mod.Loss, n_out: int, out_activation: str,
                   name: str = "y") -> np.ndarray:
    """Float (N, K) targets: values, 0/1 (or ±1), one-hot, or (N, 1) class indices (sparse)."""
    arr = np.asarray(y)
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1):
        col = arr.reshape(-1)
        if loss.code == cat.CCE and n_out > 1:
            if not np.all(np.equal(np.mod(col, 1), 0)) or col.min(initial=0) < 0 or col.max(initial=0) >= n_out:
                raise ValueError(f"{name}: class labels must be integers in 0..{n_out - 1}")
            out = np.zeros((len(col), n_out))
            out[np.arange(len(col)), col.astype(np.int64)] = 1.0
            return out
        if loss.code == cat.SPARSE_CCE:
            if not np.all(np.equal(np.mod(col, 1), 0)) or col.min(initial=0) < 0 or col.max(initial=0) >= n_out:
                raise ValueError(f"{name}: class labels must be integers in 0..{n_out - 1}")
            return col.astype(np.float64).reshape(-1, 1)
        if n_out != 1:
            raise ValueError(f"{name} has one column but the network has {n_out} outputs")
        return col.astype(np.float64).reshape(-1, 1)
    if arr.ndim == 2:
        if loss.code == cat.SPARSE_CCE:
            raise ValueError(f"{name}: sparse_categorical_crossentropy needs integer labels, not one-hot")
        if arr.shape[1] != n_out:
            raise ValueError(f"{name} has {arr.shape[1]} columns but the network has {n_out} outputs")
        return arr.astype(np.float64)
    raise ValueError(f"{name} must be 1-D labels or a 2-D array, got shape {arr.shape}")


def metric_name(loss: losses_mod.Loss) -> str:
    return "accuracy" if loss.classification else "mae"


def predicted_classes(out: np.ndarray, from_logits: bool, pm1: bool) -> np.ndarray:
    """Class index (or ±1) the network predicts for each row."""
    if out.shape[1] == 1:
        if pm1:
            return np.where(out[:, 0] >= 0, 1.0, -1.0)
        return (out[:, 0] >= (0.0 if from_logits else 0.5)).astype(np.float64)
    return np.argmax(out, axis=1).astype(np.float64)


def metric_value(metric: str, out: np.ndarray, y: np.ndarray, loss: losses_mod.Loss,
                 from_logits: bool, pm1: bool = False) -> float:
    if metric == "mae":
        return float(np.mean(np.abs(out - y)))
    pred = predicted_classes(out, from_logits, pm1)
    if out.shape[1] == 1 and y.shape[1] == 1 and loss.code != cat.SPARSE_CCE:
        truth = y[:, 0] if pm1 else (y[:, 0] >= 0.5).astype(np.float64)
    elif y.shape[1] == 1:
        truth = y[:, 0]
    else:
        truth = np.argmax(y, axis=1).astype(np.float64)
    return float(np.mean(pred == truth)) if len(truth) else float("nan")
