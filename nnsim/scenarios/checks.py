"""Checks that relate several tables: network shape vs data and loss, goals vs data, limits.

They run without generating data or training. Each check looks only at values that passed the
schema (`Parts.ok`), so one bad value does not cause a cascade of follow-up messages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import MAX_CSV_BYTES, UserFileError, check_user_file
from . import names
from .names import CROSSENTROPY_LOSSES, REGRESSION_LOSSES, DatasetInfo
from .problems import MISSING, Problem
from .schema import (
    MAX_PARAMS,
    OPTIMIZER_OPTIONS,
    Conv2DLayer,
    DataSpec,
    DenseLayer,
    DropoutLayer,
    Goals,
    LSTMLayer,
    Scenario,
    SimpleRNNLayer,
    TrainingSpec,
    View,
)

#: Layer types that need image inputs, and the most values a mini-batch's workspace may hold.
SPATIAL_TYPES = ("conv2d", "maxpool2d", "avgpool2d")
#: Layer types that need sequence inputs.
RECURRENT_TYPES = ("simple_rnn", "lstm")
MAX_WORKSPACE = 250_000_000


@dataclass
class Parts:
    """The tables that validated (None where one did not), for cross-checks."""

    data: DataSpec | None = None
    layers: list[DenseLayer | DropoutLayer | None] | None = None
    layer_types: list[str | None] = field(default_factory=list)
    training: TrainingSpec | None = None
    goals: Goals | None = None
    view: View | None = None
    bad: set[str] = field(default_factory=set)
    """Key paths whose value was rejected by the schema (a default stands in)."""
    source_path: Path | None = None

    def ok(self, *paths: str) -> bool:
        """True when none of `paths` was rejected by the schema."""
        return not any(p in self.bad for p in paths)


def _problem(path: str, value: Any, message: str) -> Problem:
    return Problem("", path, value, message)


def check_layers(p: Parts) -> list[Problem]:
    """At least one dense layer, a dense output layer, no dropout pairs, alpha where it applies."""
    out: list[Problem] = []
    types = p.layer_types
    if not types:
        return out
    if all(t is not None for t in types) and "dense" not in types:
        out.append(_problem("layers", MISSING, "the network needs at least one dense layer"))
    last = len(types) - 1
    if types[last] == "dropout":
        out.append(_problem(f"layers[{last}].type", "dropout",
                            "a dropout layer cannot be the last layer; the output must come from a dense layer"))
    elif types[last] not in (None, "dense"):
        out.append(_problem(f"layers[{last}].type", types[last], "the last layer must be dense"))
    for i in range(1, len(types)):
        if types[i] == types[i - 1] == "dropout":
            out.append(_problem(f"layers[{i}].type", "dropout",
                                f"two dropout layers in a row (layers[{i - 1}] and layers[{i}]); use one"))
    for i, layer in enumerate(p.layers or []):
        if (isinstance(layer, (DenseLayer, Conv2DLayer, SimpleRNNLayer)) and layer.alpha is not None
                and p.ok(f"layers[{i}].activation")):
            if layer.activation not in ("leaky_relu", "elu"):
                out.append(_problem(f"layers[{i}].alpha", layer.alpha,
                                    f"alpha applies only to leaky_relu and elu (this layer uses {layer.activation!r})"))
    return out


def _info(p: Parts) -> DatasetInfo | None:
    if p.data is None or not p.ok("data.dataset"):
        return None
    d = p.data
    classes = d.classes if p.ok("data.classes") else None
    steps = d.steps if p.ok("data.steps") else None
    pattern = d.pattern if p.ok("data.pattern") else None
    return names.dataset_info(d.dataset, classes, steps, pattern, d.target)


def check_output(p: Parts) -> list[Problem]:
    """The output layer against the loss and the dataset's task and classes."""
    out: list[Problem] = []
    if not p.layers or p.training is None or not p.ok("training.loss"):
        return out
    last = len(p.layers) - 1
    layer = p.layers[last]
    if not isinstance(layer, DenseLayer) or not p.ok(f"layers[{last}].units", f"layers[{last}].activation"):
        return out
    units, act, loss = layer.units, layer.activation, p.training.loss
    at = f"layers[{last}]"
    info = _info(p)
    name = p.data.dataset if p.data is not None else ""
    k = info.n_classes if info else None
    if act == "softmax" and units == 1:
        out.append(_problem(f"{at}.activation", act,
                            "softmax over 1 unit always outputs 1.0; "
                            "use sigmoid for one output, or one unit per class"))
    if loss == "binary_crossentropy":
        if act == "softmax":
            out.append(_problem(f"{at}.activation", act,
                                "softmax does not go with binary_crossentropy; use sigmoid on 1 unit, "
                                "or categorical_crossentropy with one unit per class"))
        if units != 1:
            out.append(_problem(f"{at}.units", units, f"binary_crossentropy needs 1 output unit, got {units}"))
        if k is not None and k > 2:
            out.append(_problem("training.loss", loss,
                                f"dataset {name!r} has {k} classes; binary_crossentropy fits 2 classes: use "
                                f"sparse_categorical_crossentropy or categorical_crossentropy with {k} output units"))
    elif loss in CROSSENTROPY_LOSSES:
        if k is not None and units != k:
            out.append(_problem(f"{at}.units", units,
                                f"dataset {name!r} has {k} classes, so {loss} needs {k} output units, got {units}"))
        elif k is None and units == 1:
            out.append(_problem(f"{at}.units", units,
                                f"{loss} needs one output unit per class (at least 2), got 1; "
                                "for two classes with 1 unit use binary_crossentropy"))
    elif loss in REGRESSION_LOSSES and k is not None and units not in ({1, k} if k == 2 else {k}):
        want = "1 or 2" if k == 2 else str(k)
        out.append(_problem(f"{at}.units", units,
                            f"dataset {name!r} has {k} classes, so with {loss} the output layer needs "
                            f"{want} units, got {units}"))
    if p.training.from_logits and p.ok("training.from_logits"):
        if loss not in CROSSENTROPY_LOSSES:
            out.append(_problem("training.from_logits", True,
                                f"from_logits applies only to cross-entropy losses (loss is {loss!r})"))
        elif act in ("sigmoid", "softmax"):
            out.append(_problem("training.from_logits", True,
                                f"from_logits = true expects raw scores, but the output layer applies {act!r}; "
                                'use activation = "linear" on the output layer'))
    if info is not None and info.task == "regression":
        if loss not in REGRESSION_LOSSES:
            out.append(_problem("training.loss", loss,
                                f"dataset {name!r} is a regression dataset; use a regression loss: "
                                + ", ".join(REGRESSION_LOSSES)))
        per_step = _sequence_output(p)
        targets = info.n_targets
        if per_step and targets != per_step and not info.targets_are_inputs:
            r = _last_recurrent(p)
            out.append(_problem(f"layers[{r}].return_sequences", True,
                                f"layer {r + 1} returns every step, so the output is a sequence of "
                                f"{per_step} values, but dataset {name!r} has {targets} target"
                                + ("s" if targets != 1 else "") + " per sample"
                                + ("; set return_sequences = false (only the last step's h goes on)"
                                   if targets == 1 else "")))
        elif per_step and units != 1:
            out.append(_problem(f"{at}.units", units,
                                f"the output layer applies to each of the {per_step} steps and "
                                f"dataset {name!r} has one target per step, so it needs 1 unit, "
                                f"got {units}"))
        elif not per_step and units != targets and not (info.targets_are_inputs and targets <= 1):
            what = ("its targets are its inputs" if info.targets_are_inputs else
                    f"a regression dataset with {targets} target" + ("s" if targets != 1 else ""))
            out.append(_problem(f"{at}.units", units,
                                f"dataset {name!r} is {what}, so the output layer needs {targets} "
                                f"unit{'s' if targets != 1 else ''}, got {units}"))
    if _sequence_output(p) and (act == "softmax" or loss in CROSSENTROPY_LOSSES) and (
            info is None or info.task != "regression"):
        out.append(_problem("training.loss", loss,
                            "the output is a sequence (return_sequences = true on the last recurrent "
                            "layer); nnsim trains sequence outputs with mse, sse or mae (or sigmoid "
                            "+ binary_crossentropy per step), not softmax over classes"))
    return out


def _last_recurrent(p: Parts) -> int:
    layers = p.layers or []
    return max(i for i, l in enumerate(layers) if isinstance(l, (SimpleRNNLayer, LSTMLayer)))


def _sequence_output(p: Parts) -> int | None:
    """The steps of the output when the last recurrent layer returns sequences and only dense
    (or dropout) layers follow it (a dense layer then applies to every step), else None."""
    layers = p.layers or []
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        if layer is None:
            return None
        if isinstance(layer, (SimpleRNNLayer, LSTMLayer)):
            if not layer.return_sequences:
                return None
            info = _info(p)
            shape = _input_shape(p, info) if info is not None else None
            return shape[0] if shape is not None and len(shape) == 2 else None
        if layer.type not in ("dense", "dropout"):
            return None
    return None


def check_data(p: Parts) -> list[Problem]:
    """Keys the chosen dataset takes: csv's path and target, classes, features, noise, samples."""
    out: list[Problem] = []
    d = p.data
    info = _info(p) if p.data is not None and p.ok("data.dataset") else None
    if d is None or info is None:
        return out
    name = d.dataset
    if d.shape is not None and not info.takes_shape:
        out.append(_problem("data.shape", d.shape,
                            f"applies only to dataset {', '.join(names.datasets_that('takes_shape'))!r} "
                            + (f"({name!r} images are {tuple(info.input_shape)})" if info.input_shape
                               else "")))
    for key in ("images", "labels", "test_images", "test_labels"):
        value = getattr(d, key)
        if info.takes_images and key in ("images", "labels") and value is None and p.ok(f"data.{key}"):
            out.append(_problem(f"data.{key}", MISSING, f"required for dataset {name!r}: an "
                                f"IDX {key} file, relative to the scenario file"))
        elif not info.takes_images and value is not None:
            out.append(_problem(f"data.{key}", value,
                                f"applies only to dataset {', '.join(names.datasets_that('takes_images'))!r}"))
    for key in ("steps", "pattern"):
        value = getattr(d, key)
        if value is not None and not getattr(info, f"takes_{key}"):
            out.append(_problem(f"data.{key}", value,
                                f"applies only to dataset {', '.join(names.datasets_that(f'takes_{key}'))!r}"))
    if info.takes_path:
        for key, what in (("path", "the CSV file"), ("target", "the name of the target column")):
            if getattr(d, key) is None and p.ok(f"data.{key}"):
                out.append(_problem(f"data.{key}", MISSING, f"required for dataset {name!r}: {what}"))
        if d.path is not None and p.source_path is not None:
            csv = p.source_path.parent / d.path
            try:  # a regular file within the size limit; its contents are read when built
                check_user_file(csv, MAX_CSV_BYTES, "CSV file")
            except UserFileError as exc:
                out.append(_problem("data.path", d.path, f"CSV file not found: {csv}"
                                    if exc.reason == "file not found" else f"CSV file {csv} {exc.reason}"))
    else:
        for key in ("path", "target"):
            if key == "target" and d.target == "inputs":
                continue            # the targets are the inputs (an autoencoder): any dataset
            if getattr(d, key) is not None:
                out.append(_problem(f"data.{key}", getattr(d, key),
                                    f"applies only to dataset {', '.join(names.datasets_that('takes_path'))!r}"))
    if d.classes is not None and p.ok("data.classes"):
        if info.takes_classes and info.classes_range is not None:
            lo, hi = info.classes_range
            if not lo <= d.classes <= hi:
                out.append(_problem("data.classes", d.classes, f"dataset {name!r} takes classes from {lo} to {hi}"))
        elif (not info.takes_classes and d.classes != info.n_classes and not info.takes_path
              and not info.takes_images):
            has = f"always has {info.n_classes} classes" if info.n_classes else "has no classes (regression)"
            out.append(_problem("data.classes", d.classes,
                                f"dataset {name!r} {has}; classes can be chosen only for "
                                + ", ".join(names.datasets_that("takes_classes"))))
    if d.features is not None and not info.takes_features and p.ok("data.features"):
        out.append(_problem("data.features", d.features,
                            f"input features apply only to 2-D (plane) datasets; {name!r} has "
                            f"{info.n_features or 'other'} inputs"))
    if d.noise and not info.takes_noise and p.ok("data.noise"):
        out.append(_problem("data.noise", d.noise, f"dataset {name!r} takes no noise; leave noise out"))
    if d.samples is not None and info.fixed_size and p.ok("data.samples"):
        out.append(_problem("data.samples", d.samples, f"dataset {name!r} has a fixed size; leave samples out"))
    return out


def check_training(p: Parts) -> list[Problem]:
    """Optimizer settings only for the optimizers that use them."""
    out: list[Problem] = []
    t = p.training
    if t is None or not p.ok("training.optimizer"):
        return out
    for key, users in OPTIMIZER_OPTIONS.items():
        value = getattr(t, key)
        if value is not None and t.optimizer not in users:
            out.append(_problem(f"training.{key}", value,
                                f"does not apply to optimizer {t.optimizer!r} (only to {', '.join(users)})"))
    return out


def check_goals(p: Parts) -> list[Problem]:
    """Goals that can be met: accuracy only for classification, consistent bounds, epochs."""
    out: list[Problem] = []
    g = p.goals
    if g is None:
        return out
    info = _info(p)
    if info is not None and info.task == "regression":
        for key in ("test_accuracy_at_least", "test_accuracy_at_most"):
            if getattr(g, key) is not None:
                out.append(_problem(f"goals.{key}", getattr(g, key),
                                    f"accuracy is not measured on a regression dataset ({info.name!r}); "
                                    "use test_loss_below"))
    lo, hi = g.test_accuracy_at_least, g.test_accuracy_at_most
    if lo is not None and hi is not None and lo > hi:
        out.append(_problem("goals.test_accuracy_at_most", hi,
                            f"is below test_accuracy_at_least ({lo}); no result can meet both"))
    if g.within_epochs is not None and p.training is not None and p.ok("training.epochs"):
        if g.within_epochs > p.training.epochs:
            out.append(_problem("goals.within_epochs", g.within_epochs,
                                f"is more than training.epochs ({p.training.epochs}); training stops before that"))
    return out


def check_view(p: Parts) -> list[Problem]:
    """The boundary panel needs 2-D inputs (a decision boundary) or 1-D ones (a fitted curve);
    for an autoencoder it shows the reconstructions, for sequences one sequence."""
    info = _info(p)
    if p.view is None or p.view.panel != "boundary" or info is None:
        return []
    if info.targets_are_inputs or info.takes_steps:   # the panel shows images or a sequence
        return []
    if info.n_features not in (None, 1, 2):
        return [_problem("view.panel", "boundary",
                         f"the boundary panel needs 2-D data (or 1-D for a fitted curve); "
                         f"{info.name!r} has {info.n_features} inputs")]
    return []


def check_size(p: Parts) -> list[Problem]:
    """Total parameters within MAX_PARAMS (the input width counted as 1 when unknown).
    Networks with image or recurrent layers are counted by `check_shapes`."""
    if any(t in SPATIAL_TYPES or t in RECURRENT_TYPES for t in p.layer_types):
        return []
    info = _info(p)
    fan_in = 1
    if p.data is not None and p.data.features is not None:
        fan_in = len(p.data.features)
    elif info is not None and info.n_features is not None:
        fan_in = info.n_features
    total = 0
    for i, layer in enumerate(p.layers or []):
        if layer is None:  # not validated: count on from a width of 1 (a lower bound)
            fan_in = 1
        elif isinstance(layer, DenseLayer):
            total += fan_in * layer.units + (layer.units if layer.use_bias else 0)
            fan_in = layer.units
            if total > MAX_PARAMS:
                return [_problem(f"layers[{i}].units", layer.units,
                                 f"the network would have {total:,} parameters or more; "
                                 f"the limit is {MAX_PARAMS:,} (memory)")]
    return []


def check_csv_target(p: Parts) -> list[Problem]:
    """csv with a cross-entropy loss: the target column must hold classes that fit the loss.

    The file's task is known only once it is read (at most MAX_CSV_BYTES, see nnsim.files), so
    this reads it; a file that cannot be read is left to the data loader, which names the line."""
    d, t = p.data, p.training
    if (d is None or t is None or d.dataset != "csv" or d.path is None or d.target is None
            or t.loss not in CROSSENTROPY_LOSSES
            or not p.ok("data.dataset", "data.path", "data.target", "training.loss")):
        return []
    from ..data import DataError
    from ..data.csvdata import MAX_CLASSES, read_csv
    base = p.source_path.parent if p.source_path is not None else Path.cwd()
    try:
        table = read_csv(d.path, d.target, base)
    except DataError:
        return []
    loss, target = t.loss, d.target
    if table.task == "regression":
        y = table.y
        why = (f"more than {MAX_CLASSES} distinct integers" if bool((y == y.round()).all())
               else "values that are not all integers")
        return [_problem("training.loss", loss,
                         f"target column {target!r} of {d.path} holds {why}, so it is a regression "
                         f"target; {loss} needs class labels (2 for binary_crossentropy, at most "
                         f"{MAX_CLASSES} integer classes otherwise): use mse, sse or mae")]
    k = table.n_classes or 0
    names_ = ", ".join(table.class_names or [])
    if loss == "binary_crossentropy" and k != 2:
        return [_problem("training.loss", loss,
                         f"target column {target!r} of {d.path} has {k} classes ({names_}); "
                         "binary_crossentropy needs 2 (read as 0 and 1): use "
                         f"sparse_categorical_crossentropy with {k} output units")]
    last = len(p.layers or []) - 1
    layer = p.layers[last] if p.layers else None
    if (loss != "binary_crossentropy" and isinstance(layer, DenseLayer) and layer.units not in (1, k)
            and p.ok(f"layers[{last}].units")):  # 1 unit: check_output has said so already
        return [_problem(f"layers[{last}].units", layer.units,
                         f"target column {target!r} of {d.path} has {k} classes ({names_}), so "
                         f"{loss} needs {k} output units, got {layer.units}")]
    return []


def _input_shape(p: Parts, info: DatasetInfo) -> tuple[int, ...] | None:
    """One sample's input shape, as far as it is known without reading the data."""
    d = p.data
    assert d is not None
    if info.input_shape is not None:
        return info.input_shape
    if info.takes_images:
        from ..data.idx import image_shape
        base = p.source_path.parent if p.source_path is not None else Path.cwd()
        return image_shape(d.images, base) if p.ok("data.images") else None
    if d.shape is not None:
        return tuple(d.shape) if p.ok("data.shape") else None
    if d.features is not None and info.takes_features and p.ok("data.features"):
        return (len(d.features),)
    return (info.n_features,) if info.n_features is not None else None


def check_shapes(p: Parts) -> list[Problem]:
    """Shapes through the network (conv, pool, flatten and dense), hand-set kernels, and the
    size of networks with image layers: each layer's output from its input, as the engine
    infers it (`nnsim.engine.shapes`); a misfit names the layer (1-based) and the shapes."""
    layers = p.layers or []
    if not any(t in SPATIAL_TYPES or t in RECURRENT_TYPES or t == "flatten" for t in p.layer_types):
        return []
    if not layers or any(l is None for l in layers) or any(
            k.startswith("layers[") for k in p.bad) or p.data is None:
        return []
    info = _info(p)
    if info is None:
        return []
    from ..engine.shapes import ShapeError, infer
    from .build import engine_layer
    shape = _input_shape(p, info)
    if shape is None:
        spatial = next((i for i, t in enumerate(p.layer_types) if t in SPATIAL_TYPES), None)
        if info.takes_path and p.data.shape is None and spatial is not None:
            return [_problem(f"layers[{spatial}].type", p.layer_types[spatial],
                             f"layer {spatial + 1} ({p.layer_types[spatial]}) needs images "
                             "(channels, height, width), but the CSV's columns are a flat vector; "
                             "give [data] shape = [channels, height, width]")]
        return []
    try:
        engine = [engine_layer(l) for l in layers]
        shapes = infer(shape, engine)
    except ShapeError as err:
        key = f"layers[{err.position}].{err.key}"
        return [_problem(key, getattr(layers[err.position], err.key, None), str(err))]
    except ValueError:
        return []   # a value the engine refuses; the build reports it
    out: list[Problem] = []
    total = 0
    batch = p.training.batch_size if p.training is not None and isinstance(
        p.training.batch_size, int) else 1
    work = batch * math.prod(shape)
    for i, (spec, layer, sh) in enumerate(zip(layers, engine, shapes)):
        if isinstance(spec, Conv2DLayer):
            try:
                layer.hand_set(sh.input[0])  # type: ignore[attr-defined]
            except ValueError as err:
                key = "kernel" if "kernel" in str(err) else "bias"
                out.append(_problem(f"layers[{i}].{key}", getattr(spec, key), str(err)))
            kh, kw = sh.window
            total += spec.filters * sh.input[0] * kh * kw + spec.filters
            work += 2 * batch * sh.output[1] * sh.output[2] * sh.input[0] * kh * kw
        elif isinstance(spec, DenseLayer):
            fan_in = (sh.input[0] * sh.input[1] * sh.input[2] if len(sh.input) == 3
                      else sh.input[-1])
            total += fan_in * spec.units + spec.units
        elif isinstance(spec, (SimpleRNNLayer, LSTMLayer)):
            total += layer.param_count(sh.input[-1])  # type: ignore[attr-defined]
            work += 8 * batch * sh.input[0] * (4 if spec.type == "lstm" else 1) * spec.units
        if spec.type != "dropout":
            n = 1
            for v in sh.output:
                n *= v
            work += 4 * batch * n
        if total > MAX_PARAMS:
            key = "filters" if isinstance(spec, Conv2DLayer) else "units"
            return out + [_problem(f"layers[{i}].{key}", getattr(spec, key),
                                   f"the network would have {total:,} parameters or more; "
                                   f"the limit is {MAX_PARAMS:,} (memory)")]
    if work > MAX_WORKSPACE:
        out.append(_problem("training.batch_size", batch,
                            f"a mini-batch of {batch} would need {work:,} values of workspace "
                            f"(activations, gradients and im2col columns of every layer); the "
                            f"limit is {MAX_WORKSPACE:,} (memory): use a smaller batch_size"))
    return out


CHECKS = (check_layers, check_output, check_data, check_training, check_goals, check_view, check_size,
          check_csv_target, check_shapes)


def cross_check(parts: Parts) -> list[Problem]:
    """Run every cross-check on what validated."""
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(parts))
    return problems


def parts_of(scenario: Scenario) -> Parts:
    """A valid Scenario as Parts (for checking one built in code)."""
    return Parts(data=scenario.data, layers=list(scenario.layers),
                 layer_types=[layer.type for layer in scenario.layers], training=scenario.training,
                 goals=scenario.goals, view=scenario.view, source_path=scenario.source_path)


def check_scenario(scenario: Scenario) -> list[Problem]:
    """Cross-check a Scenario built or edited in code (the schema already holds); [] when fine."""
    source = str(scenario.source_path) if scenario.source_path else "<scenario>"
    return [Problem(source, p.path, p.value, p.message) for p in cross_check(parts_of(scenario))]
