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


def goal_texts(goals: Goals) -> list[tuple[str, str]]:
    """(key, text) for every goal set, for display before training."""
    out = []
    for key, (fmt, _, _) in _REACH.items():
        value = getattr(goals, key)
        if value is not None:
            out.append((key, fmt.format(value)))
    if goals.test_accuracy_at_most is not None:
        out.append(("test_accuracy_at_most", f"test accuracy stays ≤ {goals.test_accuracy_at_most}"))
    if goals.within_epochs is not None:
        out.append(("within_epochs", f"within {goals.within_epochs} epochs"))
    if goals.diverges:
        out.append(("diverges", "training diverges"))
    return out


def evaluate_goals(goals: Goals, epochs: list[EpochRecord], diverged: bool) -> list[GoalResult]:
    """Judge every goal that is set. An empty list means the scenario sets no goals."""
    results: list[GoalResult] = []
    limit = goals.within_epochs
    reach = [(k, getattr(goals, k)) for k in _REACH if getattr(goals, k) is not None]
    if reach:
        window = epochs[:limit] if limit else epochs[-1:]
        hit = next((r for r in window
                    if all(_REACH[k][2](_REACH[k][1](r), g) for k, g in reach)), None)
        for key, goal in reach:
            fmt, get, ok = _REACH[key]
            text = fmt.format(goal) + (f" within {limit} epochs" if limit else "")
            if diverged or not epochs:
                results.append(GoalResult(key, text, False, "training diverged" if diverged else "no epoch"))
            elif hit is not None:
                results.append(GoalResult(key, text, True, f"{get(hit):.4g} at epoch {hit.epoch}"))
            else:
                best = window[-1] if window else epochs[-1]
                results.append(GoalResult(key, text, False, f"{get(best):.4g} at epoch {best.epoch}"))
    if goals.test_accuracy_at_most is not None:
        cap = goals.test_accuracy_at_most
        text = f"test accuracy stays ≤ {cap}"
        over = [r for r in epochs if r.test_metric is not None and r.test_metric > cap]
        if diverged and not goals.diverges:
            results.append(GoalResult("test_accuracy_at_most", text, False, "training diverged"))
        elif over:
            results.append(GoalResult("test_accuracy_at_most", text, False,
                                      f"{over[0].test_metric:.4g} at epoch {over[0].epoch}"))
        else:
            peak = max((r.test_metric for r in epochs if r.test_metric is not None), default=float("nan"))
            results.append(GoalResult("test_accuracy_at_most", text, bool(epochs), f"highest {peak:.4g}"))
    if goals.diverges is not None:
        want = bool(goals.diverges)
        results.append(GoalResult("diverges", "training diverges" if want else "training stays finite",
                                  diverged == want, "diverged" if diverged else "stayed finite"))
    return results
