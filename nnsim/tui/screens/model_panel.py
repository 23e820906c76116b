"""The model panel: the layer list (add, remove, reorder, edit) and the training settings.

Edits go through `nnsim.tui.edits`; a refused value is shown in red under its field with the
reason, an accepted one posts `ModelPanel.Changed` for the workspace to redraw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, OptionList, Select, Static

from nnsim.engine import activations, initializers, losses, optimizers, regularizers, schedules
from nnsim.numfmt import num
from nnsim.scenarios import DenseLayer
from nnsim.scenarios.schema import OPTIMIZER_OPTIONS, Conv2DLayer

from .. import edits
from ..controller import Lab

CHOICES: dict[str, list[str]] = {
    "activation": activations.names(), "init": initializers.INITIALIZERS.names(),
    "loss": losses.names(), "optimizer": optimizers.names(),
    "regularization": regularizers.names(), "schedule": schedules.names(),
}
LAYER_FIELDS = ("units", "activation", "init", "rate")
TRAINING_FIELDS = ("loss", "optimizer", "learning_rate", *optimizers.all_options(),
                   "schedule", "batch_size", "regularization", "regularization_rate", "clip_norm",
                   "epochs")
LABELS = {"learning_rate": "lr", "batch_size": "batch size", "regularization": "regularize",
          "regularization_rate": "reg. rate", "activation": "activation",
          "initial_accumulator": "init. acc.", "clip_norm": "clip norm"}


def field_text(value: Any) -> str:
    """A setting as its field shows it (numbers in the one format, trailing zeros dropped)."""
    if value is None:
        return ""
    return num(value, 6, trim=True) if isinstance(value, float) else str(value)


def _size(v: Any) -> str:
    return "×".join(str(x) for x in (v if isinstance(v, list) else [v, v]))


def layer_label(i: int, layer: Any, last: bool) -> str:
    if isinstance(layer, DenseLayer):
        tail = " (output)" if last else ""
        return f"{i + 1} dense {layer.units} {layer.activation}{tail}"
    if isinstance(layer, Conv2DLayer):
        return f"{i + 1} conv {layer.filters}×{_size(layer.kernel_size)} {layer.activation}"
    if layer.type in ("maxpool2d", "avgpool2d"):
        return f"{i + 1} {layer.type[:3]}pool {_size(layer.pool_size)}"
    if layer.type == "flatten":
        return f"{i + 1} flatten"
    if layer.type in ("simple_rnn", "lstm"):
        name = "lstm" if layer.type == "lstm" else f"rnn {layer.activation}"
        return f"{i + 1} {name} {layer.units}" + (" seq" if layer.return_sequences else "")
    return f"{i + 1} dropout {layer.rate:g}"


def layer_fields(layer: Any) -> tuple[str, ...]:
    """The settings the panel edits for a layer (conv: activation and init; pool and flatten
    layers have none here: edit them in the file)."""
    if isinstance(layer, DenseLayer):
        return ("units", "activation", "init")
    if isinstance(layer, Conv2DLayer):
        return ("activation", "init")
    if layer.type == "simple_rnn":
        return ("units", "activation", "init")
    if layer.type == "lstm":
        return ("units", "init")
    return ("rate",) if layer.type == "dropout" else ()


class ModelPanel(VerticalScroll):
    """Layers and training settings of the lab's scenario."""

    BINDINGS = [
        Binding("a", "add_layer", "Add layer", show=False),
        Binding("x,delete", "remove_layer", "Remove layer", show=False),
        Binding("ctrl+up", "move_layer(-1)", "Move up", show=False),
        Binding("ctrl+down", "move_layer(1)", "Move down", show=False),
    ]

    @dataclass
    class Changed(Message):
        """An edit was accepted."""

        outcome: edits.Outcome

    @dataclass
    class Refused(Message):
        """A layer operation (add, remove, move) was refused; `reason` says why."""

        reason: str

    def __init__(self, lab: Lab, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lab = lab
        self.layer_index = 0

    # -- building ----------------------------------------------------------------------------
    def _current(self, prefix: str, name: str) -> Any:
        """The scenario's value for a field (None when the field does not apply)."""
        s = self.lab.scenario
        if prefix == "ly":
            return getattr(s.layers[self.layer_index], name, None)
        return s.training.schedule.name if name == "schedule" else getattr(s.training, name, None)

    def _field(self, prefix: str, name: str) -> ComposeResult:
        """A row with a label and its control (the error line below is mounted when needed)."""
        with Horizontal(classes="field", id=f"row-{prefix}-{name}"):
            yield Label(LABELS.get(name, name), classes="field-label")
            if name in CHOICES:
                value = self._current(prefix, name)
                choices = CHOICES[name] + ([value] if value and value not in CHOICES[name] else [])
                yield Select([(c, c) for c in choices], allow_blank=False, compact=True,
                             value=value if value in choices else Select.NULL, id=f"{prefix}-{name}")
            else:
                hint = "default" if name in OPTIMIZER_OPTIONS else ""
                yield Input(compact=True, id=f"{prefix}-{name}", placeholder=hint)

    def compose(self) -> ComposeResult:
        yield Static("Layers", classes="panel-title")
        yield OptionList(id="layer-list")
        with Horizontal(classes="layer-buttons"):
            yield Button("+", id="layer-add", compact=True, tooltip="add a layer after this one (a)")
            yield Button("−", id="layer-remove", compact=True, tooltip="remove this layer (x)")
            yield Button("↑", id="layer-up", compact=True, tooltip="move up (ctrl+↑)")
            yield Button("↓", id="layer-down", compact=True, tooltip="move down (ctrl+↓)")
        yield Static("", id="layer-heading", classes="panel-subtitle")
        for name in LAYER_FIELDS:
            yield from self._field("ly", name)
        yield Static("Training", classes="panel-title")
        for name in TRAINING_FIELDS:
            yield from self._field("tr", name)
        yield Static("", id="model-message")

    def on_mount(self) -> None:
        self.sync()

    # -- showing the lab's values ----------------------------------------------------------------
    def _set(self, prefix: str, name: str, value: Any) -> None:
        widget = self.query_one(f"#{prefix}-{name}")
        if isinstance(widget, Select):
            choices = CHOICES[name] if value in CHOICES[name] else [*CHOICES[name], value]
            with self.prevent(Select.Changed):
                if len(choices) != len(CHOICES[name]):
                    widget.set_options([(c, c) for c in choices])
                widget.value = value
        elif isinstance(widget, Input):
            widget.value = field_text(value)
        self.clear_error(prefix, name)

    def _show_row(self, prefix: str, name: str, shown: bool) -> None:
        self.query_one(f"#row-{prefix}-{name}").display = shown
        if not shown:
            self.clear_error(prefix, name)

    def sync(self) -> None:
        """Show the scenario's current layers and settings."""
        s = self.lab.scenario
        layers = s.layers
        self.layer_index = max(0, min(self.layer_index, len(layers) - 1))
        ol = self.query_one("#layer-list", OptionList)
        ol.set_options([layer_label(i, l, i == len(layers) - 1) for i, l in enumerate(layers)])
        ol.highlighted = self.layer_index
        self._sync_layer()
        t = s.training
        for name in TRAINING_FIELDS:
            value = t.schedule.name if name == "schedule" else getattr(t, name)
            if name in OPTIMIZER_OPTIONS:
                shown = t.optimizer in OPTIMIZER_OPTIONS[name]
                self._show_row("tr", name, shown)
                if value is None:
                    value = optimizers.defaults(t.optimizer).get(name)
            elif name == "clip_norm":   # shown for recurrent networks, or once it is set
                self._show_row("tr", name, self.lab.trainer.net.recurrent or bool(value))
            self._set("tr", name, value)

    def sync_field(self, prefix: str, name: str) -> None:
        """Show one field's current value (cheaper than `sync`)."""
        self._set(prefix, name, self._current(prefix, name))

    def _sync_layer(self) -> None:
        layer = self.lab.scenario.layers[self.layer_index]
        fields = layer_fields(layer)
        self.query_one("#layer-heading", Static).update(
            Text(f"Layer {self.layer_index + 1} ({layer.type})", style="bold"))
        for name in LAYER_FIELDS:
            shown = name in fields
            self._show_row("ly", name, shown)
            if shown:
                self._set("ly", name, getattr(layer, name))

    # -- errors and messages -----------------------------------------------------------------------
    def show_error(self, prefix: str, name: str, reason: str, reverted: bool = False) -> None:
        """Refuse a value inline: red field, the reason under it (`reverted`: the field shows the
        value in use again; the note stays, in yellow, until the field changes)."""
        text = Text("✗ " + reason, style="yellow" if reverted else "red")
        found = self.query(f"#err-{prefix}-{name}")
        if found:
            err = found.first(Static)
            err.update(text)
            err.display = True
        else:
            self.mount(Static(text, classes="field-error", id=f"err-{prefix}-{name}"),
                       after=self.query_one(f"#row-{prefix}-{name}"))
        if not reverted:
            self.query_one(f"#{prefix}-{name}").add_class("-refused")

    def clear_error(self, prefix: str, name: str) -> None:
        for err in self.query(f"#err-{prefix}-{name}"):
            err.display = False
        self.query_one(f"#{prefix}-{name}").remove_class("-refused")

    def _accepted(self, outcome: edits.Outcome) -> None:
        style = "yellow" if outcome.reinitialised else "green"
        self.query_one("#model-message", Static).update(Text(outcome.message, style=style))
        self.sync()
        self.post_message(self.Changed(outcome))

    def apply(self, prefix: str, name: str, text: str) -> bool:
        """Apply a typed or chosen value; False (and an inline reason) when refused."""
        try:
            if prefix == "ly":
                outcome = edits.apply_layer(self.lab, self.layer_index, name, text)
            else:
                outcome = edits.apply_training(self.lab, name, text)
        except edits.EditError as err:
            self.show_error(prefix, name, str(err))
            return False
        self._accepted(outcome)
        return True

    # -- events ------------------------------------------------------------------------------------
    @on(Input.Blurred)
    def _left(self, event: Input.Blurred) -> None:
        """Leaving a field whose text was not applied (refused, or never entered) puts the
        scenario's value back and says so under the field."""
        prefix, name = (event.input.id or "").split("-", 1)
        current = field_text(self._current(prefix, name))
        typed = event.value.strip()
        if typed == current or not self.is_attached:
            return
        refused = self.query(f"#err-{prefix}-{name}")
        reason = str(refused.first(Static).render()).removeprefix("✗ ") if (
            refused and refused.first().display) else "not applied (enter applies a value)"
        self._set(prefix, name, self._current(prefix, name))
        self.show_error(prefix, name, f"{typed or '(empty)'}: {reason}; back to {current or 'the default'}",
                        reverted=True)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        prefix, name = (event.input.id or "").split("-", 1)
        self.apply(prefix, name, event.value)

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        prefix, name = (event.select.id or "").split("-", 1)
        current = self._current(prefix, name)
        if event.value is not Select.NULL and current is not None and event.value != current:
            self.apply(prefix, name, str(event.value))

    @on(OptionList.OptionHighlighted, "#layer-list")
    def _layer_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.layer_index = event.option_index
        self._sync_layer()

    @on(OptionList.OptionSelected, "#layer-list")
    def _layer_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        fields = layer_fields(self.lab.scenario.layers[self.layer_index])
        if fields:
            self.query_one(f"#ly-{fields[0]}").focus()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        action = {"layer-add": self.action_add_layer, "layer-remove": self.action_remove_layer,
                  "layer-up": lambda: self.action_move_layer(-1),
                  "layer-down": lambda: self.action_move_layer(1)}.get(event.button.id or "")
        if action is not None:
            action()

    def _layer_op(self, fn: Any, *args: Any) -> None:
        try:
            result = fn(self.lab, self.layer_index, *args)
        except edits.EditError as err:
            self.query_one("#model-message", Static).update(Text("✗ " + str(err), style="red"))
            self.post_message(self.Refused(str(err)))
            return
        outcome, self.layer_index = result if isinstance(result, tuple) else (result, self.layer_index)
        self._accepted(outcome)

    def action_add_layer(self) -> None:
        self._layer_op(edits.add_layer)

    def action_remove_layer(self) -> None:
        self._layer_op(edits.remove_layer)

    def action_move_layer(self, delta: int) -> None:
        self._layer_op(edits.move_layer, delta)
