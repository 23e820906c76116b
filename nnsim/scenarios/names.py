"""Valid names for scenario fields, read from the engine and data registries (the one source)."""

from __future__ import annotations

from dataclasses import dataclass

from ..data import DATASETS, FEATURES, DatasetSpec
from ..data.registry import TARGET_INPUTS
from ..engine import activations, initializers, losses, optimizers, regularizers, schedules

_REGISTRIES = {"activations": activations, "losses": losses, "optimizers": optimizers,
               "initializers": initializers, "schedules": schedules,
               "regularizers": regularizers}

REGRESSION_LOSSES = tuple(n for n in losses.names() if not losses.get(n).classification)
CROSSENTROPY_LOSSES = tuple(n for n in losses.names() if losses.get(n).classification)


def choices(kind: str) -> list[str]:
    """Valid names of one registry kind ("activations", "losses", ...)."""
    return [str(n) for n in _REGISTRIES[kind].names()]


def valid_names(kind: str) -> list[str]:
    """Valid names of `kind`: a registry kind, "datasets" or "features"."""
    if kind == "datasets":
        return dataset_names()
    if kind == "features":
        return feature_names()
    return choices(kind)


def dataset_names() -> list[str]:
    """Valid `data.dataset` names: the keys of `nnsim.data.DATASETS`."""
    return list(DATASETS)


def feature_names() -> list[str]:
    """Valid `data.features` names."""
    return [str(f) for f in FEATURES]


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
    input_shape: tuple[int, ...] | None = None
    """(channels, height, width) of image data with a fixed shape (digits, edges); (steps,
    features) of the sequence sets."""
    takes_shape: bool = False
    takes_images: bool = False
    takes_steps: bool = False
    takes_pattern: bool = False
    n_targets: int = 1
    """Target values per sample for regression (a sequence of targets, or the inputs)."""
    targets_are_inputs: bool = False


def dataset_info(name: str, classes: int | None = None, steps: int | None = None,
                 pattern: str | None = None, target: str | None = None) -> DatasetInfo | None:
    """Facts about dataset `name` with `data.classes`, `steps`, `pattern` and `target`
    applied; None for an unknown name."""
    spec: DatasetSpec | None = DATASETS.get(name)
    if spec is None:
        return None
    inputs = {"plane": 2, "line": 1}.get(spec.input_kind, spec.inputs)
    k = 2 if spec.task == "binary" else spec.classes
    if spec.takes_classes:
        k = classes if classes is not None else spec.default_classes
    shape = spec.input_shape
    n_targets = 1
    if spec.takes_steps:
        t = steps if steps is not None else spec.default_steps
        f = spec.step_features if spec.step_features is not None else k
        if t is not None and f is not None:
            shape, inputs = (t, f), t * f
            if spec.takes_pattern and pattern not in (None, "many_to_one"):
                n_targets = t
    if target == TARGET_INPUTS and not spec.takes_path:
        return DatasetInfo(
            name=name, task="regression", n_classes=None, n_features=inputs,
            takes_noise=spec.takes_noise, takes_classes=spec.takes_classes,
            classes_range=spec.classes_range, takes_features=spec.takes_features,
            takes_path=spec.takes_path, fixed_size=spec.fixed_size, input_shape=shape,
            takes_shape=spec.takes_shape, takes_images=spec.takes_images,
            takes_steps=spec.takes_steps, takes_pattern=spec.takes_pattern,
            n_targets=inputs or 1, targets_are_inputs=True)
    if spec.takes_path:
        kind_of_task, k = "unknown", None
    elif spec.task == "regression":
        kind_of_task, k = "regression", None
    else:
        kind_of_task = "classification"
    return DatasetInfo(
        name=name, task=kind_of_task, n_classes=k, n_features=inputs,
        takes_noise=spec.takes_noise, takes_classes=spec.takes_classes,
        classes_range=spec.classes_range, takes_features=spec.takes_features,
        takes_path=spec.takes_path, fixed_size=spec.fixed_size, input_shape=shape,
        takes_shape=spec.takes_shape, takes_images=spec.takes_images,
        takes_steps=spec.takes_steps, takes_pattern=spec.takes_pattern, n_targets=n_targets,
    )


def datasets_that(flag: str) -> list[str]:
    """Names of the datasets whose DatasetInfo has `flag` set ("takes_classes", ...)."""
    out = []
    for name in dataset_names():
        info = dataset_info(name)
        if info is not None and getattr(info, flag):
            out.append(name)
    return out
