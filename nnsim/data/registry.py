"""The dataset registry and ``load_dataset``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import classic, idx, playground, real, sequences
from . import images as imagesets
from .csvdata import read_csv
from .dataset import Dataset, InputKind, Task, build, plain_split, stratified_split
from .errors import DataError, choices

MIN_SAMPLES = 4
MAX_SAMPLES = 200_000
MAX_NOISE = 0.5
MAX_TEST_FRACTION = 0.9
MAX_STEPS = 1000
#: `target` = this on any dataset but csv: the targets are the inputs (an autoencoder)
TARGET_INPUTS = "inputs"


@dataclass(frozen=True)
class DatasetSpec:
    """What the app needs to know about a dataset before loading it.

    ``task`` is the task with default settings (spiral becomes "multiclass"
    with classes > 2; csv's real task is known only after reading the file).
    ``default_samples`` is None for fixed-size sets, which ignore ``samples``.
    """

    name: str
    description: str
    task: Task
    input_kind: InputKind
    default_samples: int | None
    takes_noise: bool = False
    takes_classes: bool = False
    takes_features: bool = False
    default_classes: int | None = None
    classes_range: tuple[int, int] | None = None
    takes_path: bool = False
    inputs: int | None = None      # input columns before features, where fixed (vector/image)
    classes: int | None = None     # number of classes, where fixed
    input_shape: tuple[int, int, int] | None = None   # (channels, height, width), where fixed
    takes_shape: bool = False      # `shape`: the CSV's columns are an image or a sequence
    takes_images: bool = False     # `images`, `labels` (and test_*): IDX files
    default_steps: int | None = None   # sequences: `steps` (time steps), None: takes none
    takes_pattern: bool = False    # `pattern`: many_to_one, many_to_many or one_to_many
    step_features: int | None = None   # sequences: features per step (None: one per class)

    @property
    def takes_steps(self) -> bool:
        return self.default_steps is not None

    @property
    def fixed_size(self) -> bool:
        return self.default_samples is None


def _spec(name: str, description: str, task: Task, kind: InputKind, samples: int | None,
          **kw: object) -> tuple[str, DatasetSpec]:
    return name, DatasetSpec(name, description, task, kind, samples, **kw)  # type: ignore[arg-type]


_PLANE = dict(takes_noise=True, takes_features=True)

DATASETS: dict[str, DatasetSpec] = dict([
    _spec("circle", "Playground: a disc of one class inside a ring of the other",
          "binary", "plane", 500, **_PLANE),
    _spec("xor", "Playground: four quadrants, class by the sign of x1*x2",
          "binary", "plane", 500, **_PLANE),
    _spec("gauss", "Playground: two Gaussian clouds", "binary", "plane", 500, **_PLANE),
    _spec("spiral", "Playground: two interleaved spirals (classes 3-8 for more arms)",
          "binary", "plane", 500, takes_classes=True, default_classes=2, classes_range=(2, 8),
          **_PLANE),
    _spec("reg-plane", "Playground regression: a tilted plane, target (x1 + x2) / 10",
          "regression", "plane", 1200, **_PLANE),
    _spec("reg-gauss", "Playground regression: six positive and negative bumps",
          "regression", "plane", 1200, **_PLANE),
    _spec("moons", "Two interleaving half moons", "binary", "plane", 500, **_PLANE),
    _spec("blobs", "Gaussian blobs on a circle, one per class (3-8 classes)",
          "multiclass", "plane", 500, takes_classes=True, default_classes=3,
          classes_range=(3, 8), **_PLANE),
    *[_spec(g, f"Logic gate {g.upper().replace('-GATE', '')}: its 4-row truth table",
            "binary", "plane", None, takes_features=True) for g in classic.GATE_TABLES],
    _spec("sine", "1-D regression: y = sin(x) on [-pi, pi] plus Gaussian noise",
          "regression", "line", 200, takes_noise=True),
    _spec("polynomial", "1-D regression: the cubic y = (x^3 - 3x) / 2 on [-2, 2] plus noise",
          "regression", "line", 200, takes_noise=True),
    _spec("admissions", "Synthetic graduate admissions: GRE, GPA, rank -> admitted",
          "binary", "vector", 400, inputs=6, classes=2),
    _spec("digits", "Handwritten digits, 1,797 8x8 images, 10 classes (scikit-learn)",
          "multiclass", "image", None, inputs=64, classes=10, input_shape=(1, 8, 8)),
    _spec("edges", "Tiny 6x6 images of a vertical or a horizontal edge (dark to light), "
          "2 classes", "binary", "image", 200, takes_noise=True, inputs=36, classes=2,
          input_shape=imagesets.EDGES_SHAPE),
    _spec("idx", "Your own MNIST-format IDX files (images and labels, plain or .gz)",
          "multiclass", "image", None, takes_images=True),
    _spec("iris", "Fisher's iris flowers: 150 samples, 4 measurements, 3 species",
          "multiclass", "vector", None, inputs=4, classes=3),
    _spec("csv", "Your own CSV file: numeric columns with a header and a target column",
          "regression", "vector", None, takes_features=True, takes_path=True, takes_shape=True),
    _spec("sine_wave", "Sequences: a sine wave (period 16 steps); predict the next value "
          "(pattern many_to_one or many_to_many) or the wave from a seed value (one_to_many)",
          "regression", "sequence", 500, takes_noise=True, default_steps=20, takes_pattern=True,
          step_features=1),
    _spec("first_symbol", "Sequences of random symbols (one-hot); the label is the first "
          "symbol, seen steps earlier (2-8 symbols)", "binary", "sequence", 1000,
          takes_classes=True, default_classes=2, classes_range=(2, 8), default_steps=10),
    _spec("adding", "The adding problem: values and markers; the target is the sum of the two "
          "marked values", "regression", "sequence", 1000, default_steps=20, step_features=2),
])

_SIMPLE_GENERATORS: dict[str, Callable[[int, float, np.random.Generator], tuple]] = {
    "circle": playground.circle,
    "xor": playground.xor,
    "gauss": playground.gauss,
    "spiral": playground.spiral,
    "reg-plane": playground.reg_plane,
    "reg-gauss": playground.reg_gauss,
    "moons": classic.moons,
    "sine": classic.sine,
    "polynomial": classic.polynomial,
}

_BINARY_NAMES = ["negative", "positive"]


def get(name: str) -> DatasetSpec:
    """The spec of dataset ``name``; ``DataError`` naming the valid choices otherwise."""
    if not isinstance(name, str) or name not in DATASETS:
        raise DataError(
            f"unknown dataset {name!r}; valid datasets are {choices(DATASETS)}", "data.dataset"
        )
    return DATASETS[name]


def _is_int(v: object) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_real(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _check_common(spec: DatasetSpec, samples: object, noise: object, test_fraction: object,
                  seed: object) -> tuple[int | None, float, float, int]:
    if not _is_real(noise) or not (0.0 <= float(noise) <= MAX_NOISE):  # type: ignore[arg-type]
        raise DataError(f"noise must be a number from 0 to {MAX_NOISE}, got {noise!r}",
                        "data.noise")
    if not _is_real(test_fraction) or not (
            0.0 <= float(test_fraction) <= MAX_TEST_FRACTION):  # type: ignore[arg-type]
        raise DataError(
            f"test_fraction must be a number from 0 to {MAX_TEST_FRACTION}, got {test_fraction!r}",
            "data.test_fraction")
    if not _is_int(seed) or int(seed) < 0:  # type: ignore[call-overload]
        raise DataError(f"seed must be a non-negative integer, got {seed!r}", "data.seed")
    n: int | None = None
    if not spec.fixed_size:
        n = spec.default_samples if samples is None else samples  # type: ignore[assignment]
        if not _is_int(n) or not (MIN_SAMPLES <= int(n) <= MAX_SAMPLES):  # type: ignore[call-overload]
            raise DataError(
                f"samples must be an integer from {MIN_SAMPLES} to {MAX_SAMPLES:,}, got {n!r}",
                "data.samples")
        n = int(n)  # type: ignore[call-overload]
    return n, float(noise), float(test_fraction), int(seed)  # type: ignore[arg-type,call-overload]


def _check_classes(spec: DatasetSpec, classes: object, actual: int | None) -> int | None:
    """Validate ``classes``; datasets with a fixed class count accept only that count."""
    if classes is None:
        return spec.default_classes
    if not _is_int(classes):
        raise DataError(f"classes must be an integer, got {classes!r}", "data.classes")
    k = int(classes)  # type: ignore[call-overload]
    if spec.classes_range is not None:
        lo, hi = spec.classes_range
        if not lo <= k <= hi:
            raise DataError(f"dataset {spec.name!r} takes classes from {lo} to {hi}, got {k}",
                            "data.classes")
        return k
    if actual is None or k != actual:
        has = "no classes (it is a regression set)" if actual is None else f"{actual} classes"
        raise DataError(f"dataset {spec.name!r} has {has}; classes={k} cannot be chosen",
                        "data.classes")
    return k


def load_dataset(
    name: str,
    *,
    samples: int | None = None,
    noise: float = 0.0,
    test_fraction: float = 0.5,
    seed: int = 0,
    classes: int | None = None,
    features: Sequence[str] | None = None,
    normalize: bool = False,
    path: str | Path | None = None,
    target: str | None = None,
    base_dir: str | Path | None = None,
    shape: Sequence[int] | None = None,
    images: str | Path | None = None,
    labels: str | Path | None = None,
    test_images: str | Path | None = None,
    test_labels: str | Path | None = None,
    steps: int | None = None,
    pattern: str | None = None,
) -> Dataset:
    """Generate or load dataset ``name`` and split it into train and test sets.

    Same arguments (seed included) give identical arrays. ``samples`` is
    ignored by fixed-size sets (gates, digits, iris, csv, idx), ``noise`` by sets
    that take none, ``path``/``target`` by every set but csv. ``shape`` (channels,
    height, width) makes a CSV's input columns an image (read row-major in that
    shape). ``idx`` reads ``images`` and ``labels`` (MNIST-format IDX files; with
    ``test_images`` and ``test_labels`` those are the test set, else
    ``test_fraction`` of the training files is). Relative paths are resolved
    against ``base_dir``. Logic gates ignore ``test_fraction``: train and test are
    both the 4 rows. Sequence sets take ``steps`` (time steps) and sine_wave a
    ``pattern``; a CSV's ``shape`` may also be (steps, features). ``target="inputs"``
    on any dataset but csv makes the targets the inputs (an autoencoder; class
    labels stay in ``labels_*``).
    Raises ``DataError`` (a ``ValueError``) with a ``field`` key path.
    """
    spec = get(name)
    n, noise_f, frac, seed_i = _check_common(spec, samples, noise, test_fraction, seed)
    gen_rng, split_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed_i).spawn(2))
    common: dict = dict(name=name, features=features, normalize=bool(normalize))
    steps_i, pattern_s = _check_sequence(spec, steps, pattern)
    if target == TARGET_INPUTS and name != "csv":
        common["target_inputs"] = True
    elif target is not None and name != "csv":
        raise DataError(f"target applies to csv files (a column name), or is \"{TARGET_INPUTS}\" "
                        f"(the targets are the inputs: an autoencoder), got {target!r}",
                        "data.target")

    if spec.input_kind == "sequence":
        assert n is not None and steps_i is not None
        return _load_sequences(spec, n, noise_f, frac, steps_i, pattern_s, classes, gen_rng,
                               split_rng, common)

    if name in classic.GATE_TABLES:
        _check_classes(spec, classes, 2)
        x, y = classic.gate(name)
        return build(task="binary", n_classes=2, raw_train=x, raw_test=x.copy(), y_train=y,
                     y_test=y.copy(), input_kind="plane", class_names=["0", "1"], **common)

    if name == "idx":
        return _load_idx(spec, classes, frac, split_rng, images, labels, test_images,
                         test_labels, base_dir, common)

    if name == "csv":
        table = read_csv(path, target, base_dir)
        _check_classes(spec, classes, table.n_classes)
        d = table.x.shape[1]
        kind: InputKind = "plane" if d == 2 else (
            "line" if d == 1 and table.task == "regression" else "vector")
        image = _csv_shape(shape, d, table.input_names, table.path.name)
        if image is not None:
            kind = "image" if len(image) == 3 else "sequence"
        if features is not None and kind != "plane":
            raise DataError(
                f"features only apply to CSV files with exactly 2 input columns; "
                f"{table.path.name} has {d} ({', '.join(table.input_names)})", "data.features")
        if table.task == "regression":
            tr, te = plain_split(len(table.y), frac, split_rng)
        else:
            tr, te = stratified_split(table.y, frac, split_rng)
        return build(task=table.task, n_classes=table.n_classes,  # type: ignore[arg-type]
                   raw_train=table.x[tr], raw_test=table.x[te], y_train=table.y[tr],
                   y_test=table.y[te], input_kind=kind, raw_names=table.input_names,
                   class_names=table.class_names, target_name=table.target_name,
                   input_shape=image, **common)

    if name in ("digits", "iris"):
        if name == "digits":
            x, y, names = real.digits()
            class_names, kind, shape = [str(i) for i in range(10)], "image", (8, 8)
        else:
            x, y, names, class_names = real.iris()
            kind, shape = "vector", None
        k = len(class_names)
        _check_classes(spec, classes, k)
        tr, te = stratified_split(y, frac, split_rng)
        return build(task="multiclass", n_classes=k, raw_train=x[tr], raw_test=x[te],
                     y_train=y[tr], y_test=y[te], input_kind=kind, raw_names=names,
                     image_shape=shape, class_names=class_names, input_shape=spec.input_shape,
                     **common)

    if name == "edges":
        assert n is not None
        _check_classes(spec, classes, 2)
        x, y = imagesets.edges(n, noise_f, gen_rng)
        tr, te = plain_split(len(y), frac, split_rng)
        return build(task="binary", n_classes=2, raw_train=x[tr], raw_test=x[te], y_train=y[tr],
                     y_test=y[te], input_kind="image", raw_names=imagesets.pixel_names(spec.input_shape),
                     class_names=list(imagesets.EDGE_CLASSES), input_shape=spec.input_shape, **common)

    assert n is not None
    task: Task = spec.task
    n_classes: int | None = None if task == "regression" else 2
    raw_names: list[str] | None = None
    class_names: list[str] | None = _BINARY_NAMES if task == "binary" else None
    target_name: str | None = "y" if task == "regression" else None
    if name == "spiral" or name == "blobs":
        k = _check_classes(spec, classes, None)
        assert k is not None
        if name == "blobs":
            x, y = classic.blobs(n, noise_f, gen_rng, k)
        else:
            x, y = playground.spiral_arms(n, noise_f, gen_rng, k)
        if k > 2:
            task, n_classes, class_names = "multiclass", k, [f"class {i}" for i in range(k)]
    elif name == "admissions":
        _check_classes(spec, classes, 2)
        x, y = classic.admissions(n, gen_rng)
        raw_names, class_names, target_name = (list(classic.ADMISSIONS_COLUMNS),
                                               ["rejected", "admitted"], "admitted")
    else:
        _check_classes(spec, classes, n_classes)
        x, y = _SIMPLE_GENERATORS[name](n, noise_f, gen_rng)
        if spec.input_kind == "line":
            raw_names = ["x"]
    if name == "moons":
        class_names = ["outer moon", "inner moon"]
    tr, te = plain_split(len(y), frac, split_rng)
    return build(task=task, n_classes=n_classes, raw_train=x[tr], raw_test=x[te],
                 y_train=y[tr], y_test=y[te], input_kind=spec.input_kind, raw_names=raw_names,
                 class_names=class_names, target_name=target_name, **common)


def _csv_shape(shape: Sequence[int] | None, d: int, names: list[str],
               file: str) -> tuple[int, ...] | None:
    """`shape` as (channels, height, width) or (steps, features) when it fits the CSV's d input
    columns."""
    if shape is None:
        return None
    dims = list(shape)
    if len(dims) not in (2, 3) or not all(_is_int(v) and int(v) >= 1 for v in dims):
        raise DataError(f"shape must be [channels, height, width] (an image) or [steps, features] "
                        f"(a sequence), integers >= 1, got {list(shape)!r}", "data.shape")
    out = tuple(int(v) for v in dims)
    size = int(np.prod(out))
    if size != d:
        order = ("channel 0 row by row, then channel 1, …" if len(out) == 3 else
                 "step 0's features, then step 1's, …")
        raise DataError(f"shape {list(out)} holds {size} values, but {file} has {d} input "
                        f"columns ({', '.join(names[:4])}{', …' if d > 4 else ''}); the columns "
                        f"are read as {order}", "data.shape")
    return out


def _check_sequence(spec: DatasetSpec, steps: object, pattern: object) -> tuple[int | None, str]:
    """Validate `steps` and `pattern` for a sequence set (others must leave them unset)."""
    if steps is not None and not spec.takes_steps:
        raise DataError(f"steps applies to the sequence datasets ({choices(SEQUENCE_SETS)}), "
                        f"not {spec.name!r}", "data.steps")
    if pattern is not None and not spec.takes_pattern:
        raise DataError(f"pattern applies to dataset 'sine_wave', not {spec.name!r}", "data.pattern")
    k = spec.default_steps if steps is None else steps
    if k is not None and (not _is_int(k) or not 1 <= int(k) <= MAX_STEPS):  # type: ignore[call-overload]
        raise DataError(f"steps must be an integer from 1 to {MAX_STEPS}, got {k!r}", "data.steps")
    p = "many_to_one" if pattern is None else pattern
    if p not in sequences.PATTERNS:
        raise DataError(f"pattern must be one of {', '.join(sequences.PATTERNS)}, got {p!r}",
                        "data.pattern")
    return (None if k is None else int(k)), str(p)  # type: ignore[call-overload]


def _load_sequences(spec: DatasetSpec, n: int, noise: float, frac: float, steps: int,
                    pattern: str, classes: object, gen_rng: np.random.Generator,
                    split_rng: np.random.Generator, common: dict) -> Dataset:
    """sine_wave, first_symbol, adding: (steps, features) inputs, split plainly (as every
    generated set)."""
    target_shape: tuple[int, ...] | None = None
    class_names = None
    n_classes = None
    task: Task = spec.task
    if spec.name == "sine_wave":
        _check_classes(spec, classes, None)
        x, y = sequences.sine_wave(n, steps, noise, gen_rng, pattern)
        feats, target_name = ["x"], "next value" if pattern == "many_to_one" else "wave"
        if pattern != "many_to_one":
            target_shape = (steps,)
    elif spec.name == "first_symbol":
        k = _check_classes(spec, classes, None)
        assert k is not None
        x, y = sequences.first_symbol(n, steps, k, gen_rng)
        feats, target_name = [f"s{i}" for i in range(k)], "first symbol"
        class_names = [f"s{i}" for i in range(k)]
        n_classes = k
        task = "binary" if k == 2 else "multiclass"
    else:
        _check_classes(spec, classes, None)
        x, y = sequences.adding(n, steps, gen_rng)
        feats, target_name = ["value", "marker"], "sum"
    tr, te = plain_split(len(y), frac, split_rng)
    return build(task=task, n_classes=n_classes, raw_train=x[tr], raw_test=x[te],
                 y_train=y[tr], y_test=y[te], input_kind="sequence",
                 raw_names=sequences.step_names(steps, feats), class_names=class_names,
                 target_name=target_name, input_shape=(steps, len(feats)),
                 target_shape=target_shape, **common)


#: The datasets that take `steps` (their inputs are sequences).
SEQUENCE_SETS = [n for n, s in DATASETS.items() if s.input_kind == "sequence"]


def _load_idx(spec: DatasetSpec, classes: object, frac: float, split_rng: np.random.Generator,
              images_path: object, labels_path: object, test_images: object, test_labels: object,
              base_dir: str | Path | None, common: dict) -> Dataset:
    """The idx dataset: a training pair of IDX files, and a test pair or a split of it."""
    train = idx.read_pair(images_path, labels_path, base_dir)  # type: ignore[arg-type]
    if (test_images is None) != (test_labels is None):
        missing = "test_labels" if test_labels is None else "test_images"
        raise DataError(f"dataset 'idx' needs test_images and test_labels together; "
                        f"{missing} is missing", f"data.{missing}")
    if test_images is not None:
        test = idx.read_pair(test_images, test_labels, base_dir,  # type: ignore[arg-type]
                             keys=("test_images", "test_labels"))
        if test.shape != train.shape:
            raise DataError(f"test_images are {test.shape[1]}×{test.shape[2]} pixels, the "
                            f"training images {train.shape[1]}×{train.shape[2]}; they must "
                            "match", "data.test_images")
        xs, ys = (train.x, test.x), (train.labels, test.labels)
    else:
        tr, te = stratified_split(train.labels, frac, split_rng)
        xs, ys = (train.x[tr], train.x[te]), (train.labels[tr], train.labels[te])
    values = np.unique(np.concatenate(ys))
    if len(values) < 2:
        raise DataError(f"the labels hold a single class ({values[0]}); nothing to learn",
                        "data.labels")
    k = len(values)
    _check_classes(spec, classes, k)
    y_train, y_test = (np.searchsorted(values, y).astype(np.int64) for y in ys)
    shape = train.shape
    return build(task="binary" if k == 2 else "multiclass", n_classes=k, raw_train=xs[0],
                 raw_test=xs[1], y_train=y_train, y_test=y_test, input_kind="image",
                 raw_names=imagesets.pixel_names(shape), class_names=[str(int(v)) for v in values],
                 input_shape=shape, **common)
