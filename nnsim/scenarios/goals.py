"""Checking a scenario's goals against a training history.

Rules: without `within_epochs`, "reach" goals (test_loss_below, train_loss_below,
test_accuracy_at_least) are judged on the last epoch; with it, they must all hold together at the
end of some epoch up to `within_epochs`. `test_accuracy_at_most` must hold at every epoch (it
"stays" at or below). `diverges = true` is met when training diverged; training that diverged
where no goal expected it fails every goal.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.history import EpochRecord
from ..numfmt import num, pct
from .schema import Goals


@dataclass(frozen=True)
class GoalResult:
    key: str          # e.g. "test_accuracy_at_least"
    text: str         # e.g. "test accuracy ≥ 0.95"
    met: bool
    detail: str       # what was seen, e.g. "0.972 at epoch 40"


_REACH = {
    "test_loss_below": ("test loss < {}", lambda r: r.test_loss, lambda v, g: v is not None and v < g),
    "train_loss_below": ("train loss < {}", lambda r: r.train_loss, lambda v, g: v is not None and v < g),
    "test_accuracy_at_least": ("test accuracy ≥ {}", lambda r: r.test_metric,
                               lambda v, g: v is not None and v >= g),
}


_ACCURACY = {"test_accuracy_at_least", "test_accuracy_at_most"}


def _goal(key: str, value: float, percent: bool) -> str:
    """A goal's threshold as written: accuracies as a percentage when `percent` (the app)."""
    return pct(value, trim=True) if percent and key in _ACCURACY else str(value)


def _seen(key: str, value: float | None, percent: bool) -> str:
    """A value seen in training, in the one number format (accuracies as % when `percent`)."""
    return pct(value) if percent and key in _ACCURACY else num(value)


def goal_texts(goals: Goals, percent: bool = False) -> list[tuple[str, str]]:
    """(key, text) for every goal set, for display before training; `percent`: accuracies as
    percentages (the app, whose status bar shows them so) instead of fractions (the CLI)."""
    out = []
    for key, (fmt, _, _) in _REACH.items():
        value = getattr(goals, key)
        if value is not None:
            out.append((key, fmt.format(_goal(key, value, percent))))
    if goals.test_accuracy_at_most is not None:
        cap = _goal("test_accuracy_at_most", goals.test_accuracy_at_most, percent)
        out.append(("test_accuracy_at_most", f"test accuracy stays ≤ {cap}"))
    if goals.within_epochs is not None:
        out.append(("within_epochs", f"within {goals.within_epochs} epochs"))
    if goals.diverges:
        out.append(("diverges", "training diverges"))
    return out


def evaluate_goals(goals: Goals, epochs: list[EpochRecord], diverged: bool,
                   percent: bool = False) -> list[GoalResult]:
    """Judge every goal that is set. An empty list means the scenario sets no goals.
    `percent`: accuracies as percentages in the texts and details (see `goal_texts`)."""
    results: list[GoalResult] = []
    limit = goals.within_epochs
    reach = [(k, getattr(goals, k)) for k in _REACH if getattr(goals, k) is not None]
    if reach:
        window = [r for r in epochs if r.epoch <= limit] if limit else epochs[-1:]
        hit = next((r for r in window
                    if all(_REACH[k][2](_REACH[k][1](r), g) for k, g in reach)), None)
        for key, goal in reach:
            fmt, get, ok = _REACH[key]
            text = fmt.format(_goal(key, goal, percent)) + (f" within {limit} epochs" if limit else "")
            if diverged or not epochs:
                results.append(GoalResult(key, text, False, "training diverged" if diverged else "no epoch"))
            elif hit is not None:
                results.append(GoalResult(key, text, True, f"{_seen(key, get(hit), percent)} at epoch {hit.epoch}"))
            else:
                best = window[-1] if window else epochs[-1]
                results.append(GoalResult(key, text, False,
                                          f"{_seen(key, get(best), percent)} at epoch {best.epoch}"))
    if goals.test_accuracy_at_most is not None:
        cap = goals.test_accuracy_at_most
        text = f"test accuracy stays ≤ {_goal('test_accuracy_at_most', cap, percent)}"
        over = [r for r in epochs if r.test_metric is not None and r.test_metric > cap]
        if diverged and not goals.diverges:
            results.append(GoalResult("test_accuracy_at_most", text, False, "training diverged"))
        elif over:
            results.append(GoalResult("test_accuracy_at_most", text, False,
                                      f"{_seen('test_accuracy_at_most', over[0].test_metric, percent)} "
                                      f"at epoch {over[0].epoch}"))
        else:
            peak = max((r.test_metric for r in epochs if r.test_metric is not None), default=float("nan"))
            results.append(GoalResult("test_accuracy_at_most", text, bool(epochs),
                                      f"highest {_seen('test_accuracy_at_most', peak, percent)}"))
    if goals.diverges is not None:
        want = bool(goals.diverges)
        results.append(GoalResult("diverges", "training diverges" if want else "training stays finite",
                                  diverged == want, "diverged" if diverged else "stayed finite"))
    return results
