"""From a validated Scenario to a ready Session: dataset, network and trainer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import DataError, Dataset, load_dataset
from ..engine import AvgPool2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Network, Trainer
from ..engine.layers import LSTM, Layer, SimpleRNN
from ..engine.shapes import ShapeError
from .problems import MISSING, Problem, ScenarioError
from .schema import (
    AvgPool2DLayer,
    Conv2DLayer,
    DenseLayer,
    DropoutLayer,
    FlattenLayer,
    LSTMLayer,
    MaxPool2DLayer,
    Scenario,
    SimpleRNNLayer,
)


@dataclass
class Session:
    """Everything one open lesson needs."""

    scenario: Scenario
    dataset: Dataset
    trainer: Trainer

    @property
    def network(self) -> Network:
        return self.trainer.net


def _source(scenario: Scenario) -> str:
    return str(scenario.source_path) if scenario.source_path else "<scenario>"


def load_data(scenario: Scenario) -> Dataset:
    """The scenario's dataset; a DataError becomes a ScenarioError naming the key."""
    d = scenario.data
    base = scenario.source_path.parent if scenario.source_path else Path.cwd()
    try:
        return load_dataset(d.dataset, samples=d.samples, noise=d.noise,
                            test_fraction=d.test_fraction, seed=scenario.meta.seed,
                            classes=d.classes, features=d.features, normalize=d.normalize,
                            path=d.path, target=d.target, base_dir=base, shape=d.shape,
                            images=d.images, labels=d.labels, test_images=d.test_images,
                            test_labels=d.test_labels, steps=d.steps, pattern=d.pattern)
    except DataError as err:
        raise ScenarioError([Problem(_source(scenario), err.field, MISSING, str(err), None)]) from None


def engine_layer(spec: object) -> Layer:
    """The engine layer one [[layers]] table describes."""
    if isinstance(spec, DenseLayer):
        return Dense(spec.units, spec.activation, init=spec.init, bias_init=spec.bias_init,
                     use_bias=spec.use_bias, alpha=spec.alpha)
    if isinstance(spec, Conv2DLayer):
        return Conv2D(spec.filters, spec.kernel_size, spec.stride, spec.padding, spec.activation,
                      init=spec.init, bias_init=spec.bias_init, use_bias=spec.use_bias,
                      alpha=spec.alpha, kernel=spec.kernel, bias=spec.bias)
    if isinstance(spec, (MaxPool2DLayer, AvgPool2DLayer)):
        kind = MaxPool2D if isinstance(spec, MaxPool2DLayer) else AvgPool2D
        return kind(spec.pool_size, spec.stride)
    if isinstance(spec, FlattenLayer):
        return Flatten()
    if isinstance(spec, SimpleRNNLayer):
        return SimpleRNN(spec.units, spec.return_sequences, spec.init, spec.recurrent_init,
                         spec.bias_init, spec.use_bias, activation=spec.activation,
                         alpha=spec.alpha)
    if isinstance(spec, LSTMLayer):
        return LSTM(spec.units, spec.return_sequences, spec.init, spec.recurrent_init,
                    spec.bias_init, spec.use_bias, forget_bias=spec.forget_bias)
    assert isinstance(spec, DropoutLayer), spec
    return Dropout(spec.rate)


def build_layers(scenario: Scenario) -> list[Layer]:
    return [engine_layer(spec) for spec in scenario.layers]


def targets_for(dataset: Dataset, y: np.ndarray, loss: str, out_activation: str,
                n_out: int) -> np.ndarray:
    """Labels as the loss needs them: class indices for cross-entropy; for a squared or absolute
    error on class labels, ±1 with a tanh/linear single output (as in the playground), 0/1 with
    a sigmoid, one-hot with several outputs."""
    if dataset.task == "regression" or "crossentropy" in loss:
        return y
    if n_out > 1:
        return np.eye(n_out)[y.astype(np.int64)]
    if out_activation in ("tanh", "linear"):
        return 2.0 * y - 1.0
    return y.astype(np.float64)


def build_session(scenario: Scenario, *, seed: int | None = None,
                  dataset: Dataset | None = None, backend: str | None = None) -> Session:
    """Build the dataset, network and trainer a scenario describes.

    `seed` overrides the scenario's seed (data, weights and batch order). Engine errors for
    combinations the schema cannot see become a ScenarioError."""
    if seed is not None:
        scenario = scenario.model_copy(update={"meta": scenario.meta.model_copy(update={"seed": int(seed)})})
    ds = dataset if dataset is not None else load_data(scenario)
    t = scenario.training
    try:
        net = Network(ds.input_dim, build_layers(scenario), dtype=t.dtype, seed=scenario.meta.seed,
                      input_shape=ds.input_shape)
    except ShapeError as err:
        raise ScenarioError([Problem(_source(scenario), f"layers[{err.position}].{err.key}", None,
                                     str(err), None)]) from None
    except ValueError as err:
        raise ScenarioError([Problem(_source(scenario), "training", None, str(err), None)]) from None
    try:
        out_act = net.dense[-1].activation
        trainer = Trainer(
            net, ds.x_train, targets_for(ds, ds.y_train, t.loss, out_act, net.output_dim),
            ds.x_test, targets_for(ds, ds.y_test, t.loss, out_act, net.output_dim),
            loss=t.loss, from_logits=t.from_logits, optimizer=t.optimizer,
            learning_rate=t.learning_rate, optimizer_options=t.optimizer_options(),
            schedule=t.schedule.name, schedule_options=t.schedule_options(),
            regularization=t.regularization, regularization_rate=t.regularization_rate,
            batch_size=t.batch_rows(len(ds.x_train)), shuffle=t.shuffle, seed=scenario.meta.seed,
            metric="mae" if ds.task == "regression" else "accuracy",
            backend=backend or t.backend,   # the command line's --backend, else [training]
            clip_norm=t.clip_norm)
    except ValueError as err:
        raise ScenarioError([Problem(_source(scenario), "training", None, str(err), None)]) from None
    return Session(scenario, ds, trainer)
