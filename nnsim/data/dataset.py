"""The ``Dataset`` container, train/test splitting and input preparation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .errors import DataError
from .features import check_features, expand

Task = Literal["binary", "multiclass", "regression"]
InputKind = Literal["plane", "line", "vector", "image", "sequence"]


@dataclass
class Dataset:
    """A train/test split ready for a network.

    ``x_*`` are the model inputs (float64, (N, D)) after feature expansion and
    normalization. ``y_*`` are int64 class indices (N,) for classification or
    float64 targets (N, K) for regression (K = 1 but for sequence targets, K = T, and
    for ``target = "inputs"``, K = D: the targets are the inputs, an autoencoder). ``points_*`` keep the raw 2-D
    coordinates (plane datasets) or raw x (N, 1) (line datasets), else None.
    """

    name: str
    task: Task
    n_classes: int | None
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    points_train: np.ndarray | None = None
    points_test: np.ndarray | None = None
    input_kind: InputKind = "vector"
    image_shape: tuple[int, int] | None = None
    #: (channels, height, width) of image inputs: each row of ``x_*`` is that image flattened
    #: channel by channel, row by row; (steps, features) of sequences, step by step (None: the
    #: inputs are a flat vector).
    input_shape: tuple[int, ...] | None = None
    #: one sample's targets as a shape where they are more than one value: (steps,) for a
    #: sequence of targets, the input shape for an autoencoder (None: (K,) as they are)
    target_shape: tuple[int, ...] | None = None
    #: the class labels (N,) when the targets are the inputs (an autoencoder keeps them to
    #: colour its codes by class), else None
    labels_train: np.ndarray | None = field(default=None, repr=False)
    labels_test: np.ndarray | None = field(default=None, repr=False)
    class_names: list[str] | None = None
    target_name: str | None = None
    #: Names of the raw input columns ``transform`` takes (plane: x1, x2 or CSV names).
    raw_names: list[str] | None = None
    #: Plane features ``transform`` applies (None for non-plane data).
    features: tuple[str, ...] | None = None
    #: Training-split mean/std used by normalization (None when not normalized).
    norm_mean: np.ndarray | None = field(default=None, repr=False)
    norm_std: np.ndarray | None = field(default=None, repr=False)

    @property
    def input_dim(self) -> int:
        """Number of model input columns."""
        return int(self.x_train.shape[1])

    @property
    def raw_dim(self) -> int:
        """Number of columns ``transform`` expects (2 for plane data)."""
        if self.input_kind == "plane":
            return 2
        if self.input_kind == "line":
            return 1
        return self.input_dim

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    def transform(self, raw_points: np.ndarray) -> np.ndarray:
        """Turn raw inputs into model inputs the way ``x_train`` was made.

        Plane data: (N, 2) points -> features -> normalization. Line data:
        (N, 1) or (N,) x values. Vector/image data: (N, D) unnormalized rows.
        """
        raw = np.asarray(raw_points, dtype=np.float64)
        if self.input_kind == "line" and raw.ndim == 1:
            raw = raw.reshape(-1, 1)
        if raw.ndim != 2 or raw.shape[1] != self.raw_dim:
            raise ValueError(
                f"{self.name}: transform expects shape (N, {self.raw_dim}), got {raw.shape}"
            )
        x = expand(raw, self.features) if self.features is not None else raw.copy()
        if self.norm_mean is not None and self.norm_std is not None:
            x = (x - self.norm_mean) / self.norm_std
        return np.ascontiguousarray(x, dtype=np.float64)


def n_test_for(n: int, test_fraction: float) -> int:
    """Test-set size for ``n`` samples: floor(n * f), leaving at least one for training."""
    return min(int(math.floor(n * test_fraction + 1e-9)), n - 1)


def plain_split(
    n: int, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` and cut it: (train indices, test indices)."""
    perm = rng.permutation(n)
    n_train = n - n_test_for(n, test_fraction)
    return perm[:n_train], perm[n_train:]


def stratified_split(
    labels: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled split keeping class proportions; every class keeps a training sample."""
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = n_test_for(len(idx), test_fraction)
        test.append(idx[:k])
        train.append(idx[k:])
    tr = rng.permutation(np.concatenate(train))
    te = rng.permutation(np.concatenate(test)) if test else np.zeros(0, dtype=np.int64)
    return tr, te


def build(
    *,
    name: str,
    task: Task,
    n_classes: int | None,
    raw_train: np.ndarray,
    raw_test: np.ndarray,
    y_train: np.ndarray,
    y_test: np.ndarray,
    input_kind: InputKind,
    raw_names: Sequence[str] | None = None,
    features: Sequence[str] | None = None,
    normalize: bool = False,
    image_shape: tuple[int, int] | None = None,
    class_names: list[str] | None = None,
    target_name: str | None = None,
    input_shape: tuple[int, ...] | None = None,
    target_shape: tuple[int, ...] | None = None,
    target_inputs: bool = False,
) -> Dataset:
    """Apply features and normalization to a raw split and wrap it in a ``Dataset``.

    ``target_inputs``: the targets become the inputs (after normalization) — an autoencoder's
    regression task; class labels, if any, are kept in ``labels_*``."""
    raw_train = np.asarray(raw_train, dtype=np.float64)
    raw_test = np.asarray(raw_test, dtype=np.float64).reshape(-1, raw_train.shape[1])
    feats: tuple[str, ...] | None = None
    if input_kind == "plane":
        feats = check_features(features)
        x_train, x_test = expand(raw_train, feats), expand(raw_test, feats)
        names = list(feats)
        raw_list = list(raw_names) if raw_names is not None else ["x1", "x2"]
    else:
        if features is not None:
            raise DataError(
                f"features only apply to 2-D (plane) datasets; {name!r} is {input_kind} data",
                "data.features",
            )
        x_train, x_test = raw_train.copy(), raw_test.copy()
        names = list(raw_names) if raw_names is not None else [
            f"x{i + 1}" for i in range(raw_train.shape[1])
        ]
        raw_list = list(names)
    mean = std = None
    if normalize:
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0)
        std = np.where(std > 1e-12, std, 1.0)
        x_train = (x_train - mean) / std
        x_test = (x_test - mean) / std
    labels_train = labels_test = None
    if target_inputs:
        if task != "regression":
            labels_train = np.asarray(y_train, dtype=np.int64).reshape(-1)
            labels_test = np.asarray(y_test, dtype=np.int64).reshape(-1)
        task, y_train, y_test = "regression", x_train.copy(), x_test.copy()
        target_shape = input_shape if input_shape is not None else (x_train.shape[1],)
        target_name, class_names = "the inputs", None
    if task == "regression":
        y_train = np.asarray(y_train, dtype=np.float64)
        y_test = np.asarray(y_test, dtype=np.float64)
        y_train = y_train if y_train.ndim == 2 else y_train.reshape(-1, 1)
        y_test = y_test if y_test.ndim == 2 else y_test.reshape(-1, y_train.shape[1])
    else:
        y_train = np.asarray(y_train, dtype=np.int64).reshape(-1)
        y_test = np.asarray(y_test, dtype=np.int64).reshape(-1)
    keep_points = input_kind in ("plane", "line")
    return Dataset(
        name=name,
        task=task,
        n_classes=None if target_inputs else n_classes,
        x_train=np.ascontiguousarray(x_train, dtype=np.float64),
        x_test=np.ascontiguousarray(x_test, dtype=np.float64),
        y_train=y_train,
        y_test=y_test,
        feature_names=names,
        points_train=raw_train.copy() if keep_points else None,
        points_test=raw_test.copy() if keep_points else None,
        input_kind=input_kind,
        image_shape=image_shape if image_shape is not None else (
            (input_shape[1], input_shape[2]) if input_shape is not None and len(input_shape) == 3
            else None),
        input_shape=input_shape,
        target_shape=target_shape,
        labels_train=labels_train,
        labels_test=labels_test,
        class_names=class_names,
        target_name=target_name,
        raw_names=raw_list,
        features=feats,
        norm_mean=mean,
        norm_std=std,
    )
