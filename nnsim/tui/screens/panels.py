"""Small workspace panels: the lesson text, the status bar, and the divergence diagnosis."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from nnsim.engine import DivergenceError

from nnsim.scenarios.goals import GoalResult, evaluate_goals

from nnsim.usertext import user_text

from ..controller import Frame, Lab
from ..timeline import Snapshot, changes

def goals_of(lab: Lab) -> list[GoalResult]:
    """The scenario's goals judged like `nnsim run` does, recomputed only after a new epoch."""
    h = lab.trainer.history
    key = (id(h), len(h.epochs), lab.diverged is not None)
    cached = lab.goal_cache
    if cached is None or cached[0] != key:
        cached = (key, evaluate_goals(lab.scenario.goals, list(h.epochs), lab.diverged is not None))
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


def reflow(text: str) -> str:
    """Hard-wrapped paragraphs joined into one line each (blank lines and lists kept)."""
    out: list[str] = []
    for para in text.strip().split("\n\n"):
        lines = [line.strip() for line in para.splitlines()]
        joined: list[str] = []
        for line in lines:
            if joined and not line.startswith(("-", "*", "•")) and not line[:2].rstrip(".").isdigit():
                joined[-1] += " " + line
            else:
                joined.append(line)
        out.append("\n".join(joined))
    return "\n\n".join(out)


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


def _f(v: float | None, fmt: str = ".4f") -> str:
    return "—" if v is None else format(v, fmt)


def status_text(lab: Lab, frame: Frame, playing: bool, width: int = 120) -> Text:
    """Two lines that never wrap: the training counters and losses; then the mode, learning
    rate, speed, phase and goals (goals as bare ✓/✗ marks below 100 columns)."""
    r = frame.record
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"epoch {frame.epoch + 1}", style="bold")
    text.append(f"  batch {frame.batch}/{frame.batches_per_epoch}", style="bold")
    text.append(f"  seen {frame.samples_seen:,}")
    loss = f"  loss {_f(r.train_loss)}/{_f(r.test_loss)}" if r else f"  batch loss {_f(frame.loss)}"
    text.append(loss)
    if r is not None:
        metric = "acc" if r.metric == "accuracy" else r.metric
        fmt = ".1%" if r.metric == "accuracy" else ".4f"
        text.append(f"  {metric} {_f(r.train_metric, fmt)}/{_f(r.test_metric, fmt)}")
    text.append("\n")
    if lab.cursor is not None:
        snap = lab.browsed
        text.append(f"◀ history: step {snap.step if snap else '?'} "
                    f"({lab.cursor + 1}/{len(lab.timeline)})", style="bold black on yellow")
    elif lab.diverged is not None:
        text.append("■ DIVERGED", style="bold white on red")
    elif playing:
        text.append("▶ playing", style="bold black on green")
    else:
        text.append("❚❚ paused", style="bold")
    text.append(f"   lr {frame.learning_rate:g}")
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


def diagnosis_text(err: DivergenceError) -> Text:
    """What went non-finite, where, and what to try."""
    text = Text()
    where = f"layer {err.layer}" if err.layer is not None else "the output"
    text.append(f"Training diverged at step {err.step} (epoch {err.epoch + 1}, batch {err.batch + 1}): ",
                style="bold red")
    text.append(f"{err.quantity} in {where} became NaN/Inf. The largest gradient norm before it was "
                f"{err.max_grad_norm:.3g} at learning rate {err.learning_rate:g}.\n")
    text.append("Training is paused and the step was not applied. Try: ", style="bold")
    text.append("lower the learning rate with [ (then space), ")
    text.append("reset the weights with r, another initializer (he_* for relu, glorot_* for tanh) "
                "in the model panel, or a gentler activation.")
    return text


def history_text(lab: Lab, snap: Snapshot) -> Text:
    """A stored step, and how each weight tensor moved since the one before it."""
    i = lab.cursor or 0
    when = (f"end of epoch {snap.epoch}" if snap.batch == 0
            else f"epoch {snap.epoch + 1}, batch {snap.batch}")
    text = Text(f"after step {snap.step} ({when}): mini-batch loss {snap.loss:.4f}", style="bold")
    if i > 0:
        before = lab.timeline[i - 1]
        names, slices = lab.tensor_slices()
        moved = changes(before, snap, names, slices)
        text.append(f"; change since step {before.step}: ")
        text.append(", ".join(f"{c.name} ‖Δ‖={c.change:.3g}" for c in moved[:6]))
    return text
