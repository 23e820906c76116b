"""Model-panel edits: parse a typed value, check the edited scenario, apply it to the trainer.

Learning rate, optimizer settings, schedule, regularization and batch size change live. Other
edits rebuild the trainer; the weights are kept when every dense layer keeps its shape, and
re-initialised (and the outcome says so) when a shape or an initializer changes. A refused edit
raises `EditError` whose text is the reason. Imports no textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nnsim.engine import optimizers, schedules
from nnsim.scenarios import (
    DenseLayer,
    DropoutLayer,
    Scenario,
    ScenarioError,
    dump_scenario,
    loads_scenario,
)
from nnsim.scenarios.problems import display_path
from nnsim.scenarios.schema import OPTIMIZER_OPTIONS
from nnsim.scenarios.schema import Schedule as ScheduleSpec

from .controller import Lab
from .session import build_session

#: Field -> parser for typed text.
INT_FIELDS = {"units", "batch_size", "epochs"}
FLOAT_FIELDS = {"rate", "learning_rate", "regularization_rate", "alpha", "clip_norm",
                *(k for k, o in optimizers.all_options().items() if not o.integer)}
#: Training settings applied to the running trainer without a reset.
LIVE_FIELDS = {"learning_rate", "batch_size", "optimizer", "regularization", "regularization_rate",
               "schedule", "epochs", "clip_norm", *OPTIMIZER_OPTIONS}


class EditError(ValueError):
    """An edit was refused; str() is the reason to show beside the field."""


@dataclass(frozen=True)
class Outcome:
    """What an accepted edit did."""

    message: str
    rebuilt: bool = False          # a new trainer was built (counters start over)
    reinitialised: bool = False    # the weights were drawn afresh


def parse_value(field: str, text: str) -> Any:
    """Typed text -> value for `field` (EditError with the reason when it does not parse)."""
    text = text.strip()
    if field == "batch_size" and text.lower().strip('"') == "full":
        return "full"          # the whole training set: one update per epoch
    if field in INT_FIELDS:
        try:
            return int(text)
        except ValueError:
            raise EditError(f"{field} must be a whole number, got {text!r}") from None
    if field in FLOAT_FIELDS:
        try:
            value = float(text)
        except ValueError:
            raise EditError(f"{field} must be a number, got {text!r}") from None
        if not np.isfinite(value):
            raise EditError(f"{field} must be a finite number, got {text!r}")
        return value
    if not text:
        raise EditError(f"{field} cannot be empty")
    return text


def validated(scenario: Scenario) -> Scenario:
    """The scenario checked like a file would be (EditError naming the first problems)."""
    try:
        return loads_scenario(dump_scenario(scenario), source="edit", source_path=scenario.source_path)
    except ScenarioError as err:
        parts = [f"{display_path(p.path)}: {p.message}" if p.path else p.message
                 for p in err.problems[:2]]
        raise EditError("; ".join(parts)) from None


def _with_layers(s: Scenario, layers: list[Any]) -> Scenario:
    return s.model_copy(update={"layers": layers})


def layer_changed(s: Scenario, index: int, field: str, value: Any) -> Scenario:
    """The scenario with one layer setting changed."""
    layers = list(s.layers)
    if not 0 <= index < len(layers):
        raise EditError(f"there is no layer {index + 1}")
    if field not in type(layers[index]).model_fields or field == "type":
        raise EditError(f"a {layers[index].type} layer has no setting {field!r}")
    layers[index] = layers[index].model_copy(update={field: value})
    return validated(_with_layers(s, layers))


def layer_added(s: Scenario, index: int, kind: str = "dense") -> tuple[Scenario, int]:
    """A new hidden layer after `index` (before the output layer at the latest)."""
    layers = list(s.layers)
    at = min(index + 1, len(layers) - 1)
    prev = next((l for l in reversed(layers[:at]) if isinstance(l, DenseLayer)), None)
    act = prev.activation if prev is not None else "tanh"
    new = DropoutLayer(rate=0.2) if kind == "dropout" else DenseLayer(units=4, activation=act)
    layers.insert(at, new)
    return validated(_with_layers(s, layers)), at


def layer_removed(s: Scenario, index: int) -> Scenario:
    layers = list(s.layers)
    dense = [i for i, layer in enumerate(layers) if isinstance(layer, DenseLayer)]
    if dense and index == dense[-1]:
        raise EditError("the output layer can't be removed: it gives the network's answer "
                        "(change its activation, or add and remove hidden layers)")
    if len(layers) <= 1:
        raise EditError("a network needs at least one layer")
    del layers[index]
    return validated(_with_layers(s, layers))


def layer_moved(s: Scenario, index: int, delta: int) -> tuple[Scenario, int]:
    layers = list(s.layers)
    to = index + delta
    if not 0 <= to < len(layers):
        raise EditError("that layer cannot move further")
    layers[index], layers[to] = layers[to], layers[index]
    return validated(_with_layers(s, layers)), to


def training_changed(s: Scenario, field: str, value: Any) -> Scenario:
    """The scenario with one training setting changed (optimizer settings kept only if used)."""
    update: dict[str, Any] = {field: value}
    if field == "schedule":
        try:
            update[field] = ScheduleSpec(name=value)
        except ValueError as exc:
            raise EditError(str(exc).splitlines()[-1].strip()) from None
    if field == "optimizer":
        for key, users in OPTIMIZER_OPTIONS.items():
            if value not in users:
                update[key] = None
    if field not in type(s.training).model_fields:
        raise EditError(f"training has no setting {field!r}")
    return validated(s.model_copy(update={"training": s.training.model_copy(update=update)}))


# -- applying edits to a Lab ---------------------------------------------------------------------
def _shapes(s: Scenario) -> list[int]:
    return [layer.units for layer in s.dense_layers]


def _rebuild(lab: Lab, new: Scenario, reinit_reason: str | None, what: str) -> Outcome:
    """Build a trainer for `new`, keeping the weights unless shapes or initializers changed."""
    old_s, old_net = lab.scenario, lab.trainer.net
    old_P = old_net.P.copy()
    if reinit_reason is None and _shapes(new) != _shapes(old_s):
        reinit_reason = "the layer shapes changed"
    try:
        same_data = new.data == old_s.data and new.meta.seed == old_s.meta.seed
        session = build_session(new, lab.session.dataset if same_data else None)
    except ScenarioError as err:
        raise EditError("; ".join(p.message for p in err.problems[:2])) from None
    except ValueError as exc:
        raise EditError(str(exc)) from None
    if reinit_reason is None and session.trainer.net.n_params != old_net.n_params:
        reinit_reason = "the number of parameters changed"
    with lab.lock:
        lab.session = session
        lab.reset()
        if reinit_reason is None:
            session.trainer.net.P[:] = old_P
    if reinit_reason is not None:
        return Outcome(f"{what}: {reinit_reason}, so the weights were re-initialised "
                       f"(seed {session.trainer.net.seed}); training starts over.", True, True)
    return Outcome(f"{what}: weights kept; training counters start over.", True, False)


def apply_layer(lab: Lab, index: int, field: str, text: str) -> Outcome:
    """Change one layer setting (units, activation, init, bias_init, alpha, rate)."""
    value = parse_value(field, text)
    new = layer_changed(lab.scenario, index, field, value)
    reason = f"the initializer changed to {value}" if field in ("init", "bias_init") else None
    return _rebuild(lab, new, reason, f"layer {index + 1} {field} = {value}")


def add_layer(lab: Lab, index: int, kind: str = "dense") -> tuple[Outcome, int]:
    new, at = layer_added(lab.scenario, index, kind)
    return _rebuild(lab, new, None, f"added a {kind} layer at position {at + 1}"), at


def remove_layer(lab: Lab, index: int) -> Outcome:
    return _rebuild(lab, layer_removed(lab.scenario, index), None, f"removed layer {index + 1}")


def move_layer(lab: Lab, index: int, delta: int) -> tuple[Outcome, int]:
    new, to = layer_moved(lab.scenario, index, delta)
    return _rebuild(lab, new, None, f"moved layer {index + 1} to position {to + 1}"), to


def apply_training(lab: Lab, field: str, text: str) -> Outcome:
    """Change one training setting: live where the engine allows it, else by a rebuild."""
    value = parse_value(field, text)
    new = training_changed(lab.scenario, field, value)
    if field not in LIVE_FIELDS:
        return _rebuild(lab, new, None, f"{field} = {value}")
    t, spec = lab.trainer, new.training
    with lab.lock:
        try:
            if field == "learning_rate":
                t.learning_rate = spec.learning_rate
            elif field == "batch_size":
                t.batch_size = spec.batch_rows(t.n_train)
            elif field in ("regularization", "regularization_rate"):
                t.set_regularization(spec.regularization, spec.regularization_rate)
            elif field == "clip_norm":
                t.clip_norm = spec.clip_norm
            elif field == "schedule":
                t.schedule = schedules.Schedule.create(spec.schedule.name, **spec.schedule_options())
                t.learning_rate = t.base_lr
            elif field != "epochs":
                t.set_optimizer(spec.optimizer, **spec.optimizer_options())
        except ValueError as exc:
            raise EditError(str(exc)) from None
        lab.session.scenario = new
    return Outcome(f"{field} = {value} (live, no reset)" + _no_effect(spec))


def _no_effect(spec: Any) -> str:
    """A note when the regularization settings cancel out (l1/l2 at rate 0, or a rate unused)."""
    if spec.regularization != "none" and spec.regularization_rate == 0:
        return (f"; {spec.regularization} with reg. rate 0 has no effect: set reg. rate above 0 "
                "(e.g. 0.001)")
    if spec.regularization == "none" and spec.regularization_rate:
        return "; the reg. rate has no effect while regularize is none"
    return ""
