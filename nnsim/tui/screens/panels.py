"""Small workspace panels: the lesson text (a column, or a strip on narrow terminals), the status
bar, and the divergence diagnosis. Numbers follow the one format of `nnsim.numfmt`."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from nnsim.engine import DivergenceError
from nnsim.numfmt import num, pct
from nnsim.scenarios.goals import GoalResult, evaluate_goals
from nnsim.tui.usertext import user_text

from ..controller import Frame, Lab
from ..lesson import reflow, what_to_do
from ..timeline import Snapshot, changes

__all__ = ["LessonPanel", "LessonStrip", "diagnosis_text", "goal_marks", "goals_of", "history_text",
           "reflow", "status_text"]


def goals_of(lab: Lab) -> list[GoalResult]:
    """The scenario's goals judged like `nnsim run` does, recomputed only after a new epoch."""
    h = lab.trainer.history
    key = (id(h), h.epoch_count, lab.diverged is not None)
    cached = lab.goal_cache
    if cached is None or cached[0] != key:
        cached = (key, evaluate_goals(lab.scenario.goals, list(h.epochs), lab.diverged is not None,
                                      percent=True))
        lab.goal_cache = cached
    return cached[1]


def goal_marks(goals: list[GoalResult]) -> Text:
    """"test loss < 0.1 ✗  training stays finite ✓"."""
    text = Text()
    for g in goals:
        text.append(g.text + " ")
        text.append("✓" if g.met else "✗", style="bold green" if g.met else "bold red")
        text.append("  ")
    return text


class LessonPanel(VerticalScroll):
    """The scenario's description (what to do, what to watch) and its goals."""

    def compose(self) -> ComposeResult:
        yield Static("", id="lesson-title")
        yield Static("", id="lesson-goals")
        yield Static("", id="lesson-text")

    def show(self, lab: Lab) -> None:
        s = lab.scenario
        self.query_one("#lesson-title", Static).update(user_text(s.meta.name, style="bold", one_line=True))
        self.query_one("#lesson-text", Static).update(user_text(reflow(s.meta.description) or "(no description)"))
        self.show_goals(lab)

    def show_goals(self, lab: Lab) -> None:
        goals = goals_of(lab)
        text = Text("Goals\n", style="bold")
        if not goals:
            text.append("none set: explore freely", style="dim")
        for i, g in enumerate(goals):
            text.append("✓ " if g.met else "✗ ", style="bold green" if g.met else "bold red")
            text.append(g.text + ("\n" if i < len(goals) - 1 else ""))
        box = self.query_one("#lesson-goals", Static)
        if text.plain != getattr(box, "_shown", None):   # only when a goal flips
            box._shown = text.plain  # type: ignore[attr-defined]
            box.update(text)


class LessonStrip(Static):
    """Narrow terminals: the lesson in two lines above the views — the goals with ✓/✗ and the
    start of "What to do" (`l` opens the whole lesson in place of the model panel)."""

    def show(self, lab: Lab) -> None:
        """Redraw (cheap; only when the text changed)."""
        text = lesson_strip_text(lab)
        if text.plain != getattr(self, "_shown", None):
            self._shown = text.plain
            self.update(text)


def lesson_strip_text(lab: Lab) -> Text:
    """"Goals: test accuracy ≥ 95% ✗   (l: the whole lesson)" / "To do: press n a few times …"."""
    text = Text(no_wrap=True, overflow="ellipsis")
    goals = goals_of(lab)
    text.append("Goals ", style="bold")
    if not goals:
        text.append("none set: explore freely", style="dim")
    for g in goals:
        text.append(g.text + " ")
        text.append("✓" if g.met else "✗", style="bold green" if g.met else "bold red")
        text.append("  ")
    text.append(" l: the whole lesson", style="dim")
    text.append("\n")
    todo = " ".join(what_to_do(lab.scenario.meta.description).split()).lstrip("-*• ")
    text.append("To do ", style="bold")
    text.append_text(user_text(todo or "(no description)", one_line=True))
    return text


def _epoch_text(lab: Lab, frame: Frame) -> str:
    """"epoch 3/100" while training towards the lesson's end; "epoch 100/100 (end)" there;
    "epoch 104 (past 100)" after going on."""
    end = lab.end_epoch
    if frame.epoch >= end and frame.batch == 0 and not lab.past_end:
        return f"epoch {frame.epoch}/{end} (end)"
    if frame.epoch >= end:
        return f"epoch {frame.epoch + 1} (past {end})"
    return f"epoch {frame.epoch + 1}/{end}"


def _figures(text: Text, side: str, loss: float | None, metric: float | None, name: str,
             sep: str = "  ", digits: int = 4) -> None:
    if loss is None:
        return
    text.append(f"{sep}{side} ", style="bold")
    text.append(f"loss {num(loss, digits)}")
    if metric is not None:
        text.append(f" acc {pct(metric)}" if name == "accuracy" else f" {name} {num(metric, digits)}")


def status_text(lab: Lab, frame: Frame, playing: bool, width: int = 120) -> Text:
    """Two lines that never wrap: the epoch (of the lesson's), batch, and the train and test
    figures of the last epoch; then the mode, learning rate, speed, phase and goals (goals as
    bare ✓/✗ marks below 100 columns). Accuracies are percentages, as in the goals."""
    r = frame.record
    sep = "  " if width >= 100 else " "      # 80 columns: the test figures still fit
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(_epoch_text(lab, frame), style="bold")
    if not (lab.at_end and frame.batch == 0):       # at the end the batch says nothing
        text.append(f"{sep}batch {frame.batch}/{frame.batches_per_epoch}", style="bold")
    if r is not None:
        digits = 4 if width >= 100 else 3          # 80 columns: both sides fit
        _figures(text, "train", r.train_loss, r.train_metric, r.metric, sep, digits)
        _figures(text, "test", r.test_loss, r.test_metric, r.metric, sep, digits)
    else:
        text.append(f"{sep}mini-batch loss {num(frame.loss)}")
    if width >= 100:                                 # 80 columns: the test figures come first
        text.append(f"{sep}seen {frame.samples_seen:,}", style="dim")
    text.append("\n")
    if lab.cursor is not None:
        snap = lab.browsed
        text.append(f"◀ history: step {snap.step if snap else '?'} "
                    f"({lab.cursor + 1}/{len(lab.timeline)})", style="bold black on yellow")
        if lab.diverged is not None:
            text.append(" ")
    if lab.diverged is not None:
        text.append("■ DIVERGED", style="bold white on red")
    elif lab.cursor is not None:
        pass
    elif playing:
        text.append("▶ playing", style="bold black on green")
    elif lab.at_end:
        text.append("■ end of lesson", style="bold black on cyan")
    else:
        text.append("❚❚ paused", style="bold")
    if r is not None and r.warnings:
        text.append("  ⚠ " + r.warnings[0].split(":")[0], style="bold yellow")
    text.append(f"   lr {num(frame.learning_rate, trim=True)}")
    if playing:
        text.append(f"  {frame.steps_per_s:,.0f} steps/s")
    text.append(f"  speed {lab.speed_label()}  ")
    backend, asked = lab.trainer.backend_name, lab.scenario.training.backend
    if backend != "cpu" or asked != "cpu":   # the default cpu goes unsaid
        text.append(backend if asked == backend else f"{asked}: {backend}", style="bold magenta")
        text.append("  ")
    if lab.phase is not None:
        text.append(f"phase {lab.phase.label}  ", style="cyan")
    goals = goals_of(lab)
    if width >= 100:
        text.append_text(goal_marks(goals))
    elif goals:
        text.append("goals ")
        for g in goals:
            text.append("✓" if g.met else "✗", style="bold green" if g.met else "bold red")
    return text


def diagnosis_text(err: DivergenceError, weights_max: float | None = None) -> Text:
    """What went non-finite and where; then what to do, first (it must fit the five lines of
    the notice at 80 columns): reset (the weights are huge by then, so a lower rate alone
    diverges again at once), then a lower learning rate; then the details.
    `weights_max`: the largest |weight| now, when known."""
    text = Text()
    where = f"layer {err.layer}" if err.layer is not None else "the output"
    text.append(f"Training diverged at step {err.step} (epoch {err.epoch + 1}, batch {err.batch + 1}): "
                f"{err.quantity} in {where} became NaN/Inf.\n", style="bold red")
    cause = getattr(err, "cause", "learning_rate")
    if cause != "learning_rate":   # data, initialization, epsilon: the engine's own advice
        text.append("Training is paused. ", style="bold")
        text.append(str(getattr(err, "advice", "")))
        return text
    grown = (f" (they have grown to {num(weights_max)})"
             if weights_max is not None and np.isfinite(weights_max) and weights_max > 1e3 else "")
    text.append(f"Press r to reset the weights{grown}, then [ to lower the learning rate "
                f"(now {num(err.learning_rate, trim=True)}), then space.\n", style="bold")
    applied = getattr(err, "applied", False)
    text.append(("The update was applied. " if applied else "The failing step was not applied. ")
                + f"The largest gradient norm before it was {num(err.max_grad_norm)}. A lower rate "
                "alone diverges again from these weights. Other fixes: another initializer "
                "(he_* for relu, glorot_* for tanh) or a gentler activation.")
    return text


def warnings_text(warnings: list[str]) -> Text:
    """The latest epoch's health warnings (weights exploded, units saturated, relu dead)."""
    return Text("⚠ " + "; ".join(warnings), style="yellow")


def history_text(lab: Lab, snap: Snapshot) -> Text:
    """A stored step, and how each weight tensor moved since the one before it (tensors by
    their 1-based label, with the checkpoint key beside it: "layer 1 W (layer0.W)"). While
    training is diverged, the diagnosis's advice stays on the first line."""
    i = lab.cursor or 0
    when = (f"end of epoch {snap.epoch}" if snap.batch == 0
            else f"epoch {snap.epoch + 1}, batch {snap.batch}")
    text = Text()
    if lab.diverged is not None:
        text.append(f"Diverged at step {lab.diverged.step}: press r to reset, then [ to lower "
                    "the learning rate (→ past the newest step shows the whole diagnosis).\n",
                    style="bold red")
    text.append(f"after step {snap.step} ({when}): mini-batch loss {num(snap.loss)}", style="bold")
    if i > 0:
        before = lab.timeline[i - 1]
        tensors = lab.trainer.net.param_slices()
        names = [t.name for t in tensors]
        labels = {t.name: f"{t.label} ({t.name})" for t in tensors}
        moved = changes(before, snap, names, [(t.start, t.stop) for t in tensors])
        text.append(f"; change since step {before.step}: ")
        text.append(", ".join(f"{labels[c.name]} ‖Δ‖ {num(c.change, 3)}" for c in moved[:4]))
        if len(moved) > 4:
            text.append(f", … ({len(moved)} tensors)")
    return text
