"""Valid names for scenario fields, read lazily from the engine and data registries.

The registries live in `nnsim.engine.*` and `nnsim.data`; they are imported inside the functions
here (never at module import), so this package imports even while those modules are missing or
broken. Only then are the FALLBACK lists below used.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# ---------------------------------------------------------------------------------------------
# FALLBACK: the names the engine/data registries are specified to hold. Used ONLY when the real
# registry cannot be imported. This is the single place to update if a registry cannot be read.
# ---------------------------------------------------------------------------------------------
FALLBACK_NAMES: dict[str, list[str]] = {
    "activations": ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softmax"],
    "losses": [
        "mse", "sse", "mae", "binary_crossentropy", "categorical_crossentropy",
        "sparse_categorical_crossentropy",
    ],
    "optimizers": ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"],
    "initializers": [
        "zeros", "ones", "constant", "uniform", "normal", "glorot_uniform", "glorot_normal",
        "xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "kaiming_uniform",
        "kaiming_normal", "lecun_normal", "playground",
    ],
    "schedules": ["constant", "step", "exponential", "cosine"],
    "regularizers": ["none", "l1", "l2"],
}

# FALLBACK dataset specs, mirroring `nnsim.data.DatasetSpec` (task, input_kind, default_samples,
# takes_noise, takes_classes, takes_features, default_classes, classes_range, takes_path). Used only
# while `nnsim.data.DATASETS` cannot be imported.
_PLANE = dict(input_kind="plane", default_samples=500, takes_noise=True, takes_features=True)
_GATE = dict(task="binary", input_kind="plane", default_samples=None, takes_features=True)
FALLBACK_DATASETS: dict[str, dict[str, Any]] = {
    "circle": dict(task="binary", **_PLANE),
    "xor": dict(task="binary", **_PLANE),
    "gauss": dict(task="binary", **_PLANE),
    "spiral": dict(task="binary", takes_classes=True, default_classes=2, classes_range=(2, 8), **_PLANE),
    "reg-plane": dict(task="regression", **_PLANE),
    "reg-gauss": dict(task="regression", **_PLANE),
    "moons": dict(task="binary", **_PLANE),
    "blobs": dict(task="multiclass", takes_classes=True, default_classes=3, classes_range=(3, 8), **_PLANE),
    "and": _GATE, "or": _GATE, "nand": _GATE, "nor": _GATE, "xor-gate": _GATE,
    "sine": dict(task="regression", input_kind="line", default_samples=200, takes_noise=True),
    "polynomial": dict(task="regression", input_kind="line", default_samples=200, takes_noise=True),
    "admissions": dict(task="binary", input_kind="vector", default_samples=400),
    "digits": dict(task="multiclass", input_kind="image", default_samples=None),
    "iris": dict(task="multiclass", input_kind="vector", default_samples=None),
    "csv": dict(task="regression", input_kind="vector", default_samples=None, takes_features=True,
                takes_path=True),
}
#: (classes, inputs) of the fixed vector/image datasets, which their specs do not state.
FIXED_SHAPES: dict[str, tuple[int, int]] = {"digits": (10, 64), "iris": (3, 4), "admissions": (2, 6)}
#: The playground's seven input features for 2-D data.
FALLBACK_FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
# ---------------------------------------------------------------------------------------------

REGRESSION_LOSSES = ("mse", "sse", "mae")
CROSSENTROPY_LOSSES = (
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
)


def choices(kind: str) -> list[str]:
    """Valid names of one registry kind ("activations", "losses", ...), real or fallback."""
    try:
        module = importlib.import_module(f"nnsim.engine.{kind}")
        names = [str(n) for n in module.names()]
    except Exception:  # noqa: BLE001 - a missing or half-written registry must not break loading
        return list(FALLBACK_NAMES[kind])
    return names or list(FALLBACK_NAMES[kind])


def valid_names(kind: str) -> list[str]:
    """Valid names of `kind`: a registry kind, "datasets" or "features"."""
    if kind == "datasets":
        return dataset_names()
    if kind == "features":
        return feature_names()
    return choices(kind)


def _datasets() -> Mapping[str, Any] | None:
    try:
        module = importlib.import_module("nnsim.data")
        datasets = module.DATASETS
    except Exception:  # noqa: BLE001 - see choices()
        return None
    return datasets if isinstance(datasets, Mapping) and datasets else None


def dataset_names() -> list[str]:
    """Valid `data.dataset` names: the keys of `nnsim.data.DATASETS` (or the fallback)."""
    datasets = _datasets()
    if datasets is None:
        return list(FALLBACK_DATASETS)
    return [str(k) for k in datasets]


def feature_names() -> list[str]:
    """Valid `data.features` names (`nnsim.data.FEATURES` if it exists, else the playground's)."""
    try:
        features = importlib.import_module("nnsim.data").FEATURES
        names = [str(f) for f in features]
    except Exception:  # noqa: BLE001 - see choices()
        return list(FALLBACK_FEATURES)
    return names or list(FALLBACK_FEATURES)


@dataclass(frozen=True)
class DatasetInfo:
    """What the checks need to know about a dataset without generating it."""

    name: str
    task: str
    """"classification", "regression" or "unknown" (csv: known only after reading the file)."""
    n_classes: int | None
    """Number of classes (None: regression or unknown)."""
    n_features: int | None
    """Raw input columns before `features` (2 for plane data; None: unknown)."""
    takes_noise: bool = False
    takes_classes: bool = False
    classes_range: tuple[int, int] | None = None
    takes_features: bool = False
    takes_path: bool = False
    fixed_size: bool = False


def _get(spec: Any, key: str, default: Any = None) -> Any:
    value = spec.get(key, default) if isinstance(spec, Mapping) else getattr(spec, key, default)
    return default if callable(value) else value


def dataset_info(name: str, classes: int | None = None) -> DatasetInfo | None:
    """Facts about dataset `name` with `data.classes` applied; None for an unknown name."""
    datasets = _datasets()
    spec = datasets.get(name) if datasets is not None else FALLBACK_DATASETS.get(name)
    if spec is None:
        return None
    task = _get(spec, "task")
    kind = _get(spec, "input_kind")
    takes_classes = bool(_get(spec, "takes_classes", False))
    takes_path = bool(_get(spec, "takes_path", False))
    k, inputs = FIXED_SHAPES.get(name, (None, None))
    if kind == "plane":
        inputs = 2
    elif kind == "line":
        inputs = 1
    if task == "binary":
        k = 2
    if takes_classes:
        k = classes if classes is not None else _get(spec, "default_classes", k)
    if takes_path:
        kind_of_task, k = "unknown", None
    elif task == "regression":
        kind_of_task, k = "regression", None
    elif task in ("binary", "multiclass"):
        kind_of_task = "classification"
    else:
        kind_of_task, k = "unknown", None
    return DatasetInfo(
        name=name, task=kind_of_task, n_classes=k, n_features=inputs,
        takes_noise=bool(_get(spec, "takes_noise", False)), takes_classes=takes_classes,
        classes_range=_get(spec, "classes_range"), takes_features=bool(_get(spec, "takes_features", False)),
        takes_path=takes_path, fixed_size=_get(spec, "default_samples") is None,
    )


def datasets_that(flag: str) -> list[str]:
    """Names of the datasets whose DatasetInfo has `flag` set ("takes_classes", ...)."""
    out = []
    for name in dataset_names():
        info = dataset_info(name)
        if info is not None and getattr(info, flag):
            out.append(name)
    return out
