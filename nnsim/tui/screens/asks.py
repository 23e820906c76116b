"""Questions the workspace asks: the end-of-lesson summary (train on?), leaving with unsaved
training or edits, and loading the checkpoint saved beside a scenario.

Each is a small modal that dismisses with a word ("on", "reset", "leave", "save", "load", or
None to stay); the workspace acts on it. Text is built as rich `Text` (lesson text through
`user_text`), never as markup.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from nnsim.numfmt import num, pct
from nnsim.scenarios.goals import GoalResult
from nnsim.tui.usertext import user_text

from ..lesson import LessonEnd


def goal_line(g: GoalResult) -> Text:
    """"✓ test accuracy ≥ 95%: 97.2% at epoch 100"."""
    text = Text("✓ " if g.met else "✗ ", style="bold green" if g.met else "bold red")
    text.append(g.text)
    if g.detail:
        text.append(f": {g.detail}", style="dim")
    return text


def figures_line(end: LessonEnd) -> Text:
    """The final train and test figures: "train loss 0.0123, accuracy 99.6% · test …"."""
    r = end.record
    text = Text()
    if r is None:
        return text.append("no epoch finished", style="dim")
    acc = r.metric == "accuracy"
    for side, loss, metric in (("train", r.train_loss, r.train_metric),
                               ("test", r.test_loss, r.test_metric)):
        if loss is None:
            continue
        if side == "test":
            text.append("  ·  ")
        text.append(side, style="bold")
        value = pct(metric) if acc else num(metric)
        text.append(f" loss {num(loss)}, {'accuracy' if acc else r.metric} {value}")
    return text


def summary_text(end: LessonEnd) -> Text:
    """The whole summary as one Text (the dialog's body; tests read it)."""
    text = Text()
    if end.goals:
        verdict = ("All goals met." if end.all_met and len(end.goals) > 1 else
                   "Goal met." if end.all_met else f"{end.met} of {len(end.goals)} goals met.")
        text.append(verdict + "\n", style="bold green" if end.all_met else "bold red")
        for g in end.goals:
            text.append_text(goal_line(g))
            text.append("\n")
    else:
        text.append("This lesson sets no goals.\n", style="bold")
    text.append("\nFinal figures (epoch ", style="bold")
    text.append(f"{end.epoch}", style="bold")
    text.append("): ", style="bold")
    text.append_text(figures_line(end))
    text.append("\n")
    text.append("\nTry next: ", style="bold")
    text.append_text(user_text(end.next, one_line=True))
    if end.watch:
        text.append("\n\nWhat you should have seen: ", style="bold")
        text.append_text(user_text(end.watch, one_line=True))
    return text


class LessonEndDialog(ModalScreen[str | None]):
    """Play reached the lesson's last epoch: the summary, then train on, reset, or stay."""

    BINDINGS = [
        Binding("space", "choose('on')", "Train on"),
        Binding("r", "choose('reset')", "Reset"),
        Binding("escape,enter", "choose(None)", "Close"),
    ]

    def __init__(self, end: LessonEnd) -> None:
        super().__init__()
        self.end = end

    @property
    def text(self) -> str:
        return summary_text(self.end).plain

    def compose(self) -> ComposeResult:
        with Vertical(id="lesson-end-box", classes="dialog"):
            yield Static(Text(f"End of the lesson: epoch {self.end.epoch} of {self.end.end_epoch}"),
                         classes="dialog-title")
            with VerticalScroll(classes="dialog-scroll"):
                yield Static(summary_text(self.end), id="lesson-end-text")
            yield Static("Play stopped at the lesson's last epoch. space trains on past it "
                         "(n and e step on too), r starts over, escape stays here.",
                         classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Train on (space)", id="ask-on", compact=True)
                yield Button("Reset (r)", id="ask-reset", compact=True)
                yield Button("Close (esc)", id="ask-close", variant="primary", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss({"ask-on": "on", "ask-reset": "reset"}.get(event.button.id or ""))

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)


class LeaveDialog(ModalScreen[str | None]):
    """Escape from a workspace with training or edits: leave, save and leave, or stay."""

    BINDINGS = [
        Binding("y,l", "choose('leave')", "Leave"),
        Binding("s", "choose('save')", "Save and leave"),
        Binding("escape,n", "choose(None)", "Stay"),
    ]

    def __init__(self, what: str) -> None:
        """`what`: what would be lost, e.g. "12 epochs of training and 2 edits"."""
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="leave-box", classes="dialog"):
            yield Static("Leave this lesson?", classes="dialog-title")
            yield Static(Text(f"Going back to the gallery discards {self.what}. "
                              "s saves the scenario and a checkpoint first (reopening it offers "
                              "to load the checkpoint)."), id="leave-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Leave (y)", id="ask-leave", variant="error", compact=True)
                yield Button("Save and leave (s)", id="ask-save", compact=True)
                yield Button("Stay (esc)", id="ask-stay", variant="primary", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss({"ask-leave": "leave", "ask-save": "save"}.get(event.button.id or ""))

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)


class ResumeDialog(ModalScreen[str | None]):
    """A checkpoint lies beside the opened scenario: load it, or start fresh."""

    BINDINGS = [
        Binding("y,enter", "choose('load')", "Load"),
        Binding("escape,n", "choose(None)", "Start fresh"),
    ]

    def __init__(self, checkpoint: Path) -> None:
        super().__init__()
        self.checkpoint = checkpoint

    def compose(self) -> ComposeResult:
        with Vertical(id="resume-box", classes="dialog"):
            yield Static("Load the saved training?", classes="dialog-title")
            text = Text("A checkpoint was saved beside this scenario: ")
            text.append_text(user_text(self.checkpoint.name, "bold", one_line=True))
            text.append(". Loading it restores the weights, the optimizer state, the counters "
                        "and the history where s saved them; otherwise training starts from "
                        "epoch 1 with fresh weights.")
            yield Static(text, id="resume-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Load it (y)", id="ask-load", variant="primary", compact=True)
                yield Button("Start fresh (n)", id="ask-fresh", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss("load" if event.button.id == "ask-load" else None)

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)
