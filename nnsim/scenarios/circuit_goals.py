"""A circuit's goals judged against a run of tug steps (what `nnsim run` and the app report).

Rules, as for networks: without `within_steps`, the output goals are judged on the last output;
with it, both must hold together at some step from 0 (before any tug) to `within_steps`.
`gradcheck_below` is judged at the file's inputs: the largest relative error between an input's
analytic gradient and its central difference.
"""

from __future__ import annotations

import math
from typing import Sequence

from .circuit import CircuitGoals
from .goals import GoalResult


def _output_text(goals: CircuitGoals) -> str:
    parts = []
    if goals.output_at_least is not None:
        parts.append(f"output ≥ {goals.output_at_least:g}")
    if goals.output_at_most is not None:
        parts.append(f"output ≤ {goals.output_at_most:g}")
    text = " and ".join(parts)
    if goals.within_steps is not None:
        text += f" within {goals.within_steps} step{'s' if goals.within_steps != 1 else ''}"
    return text


def _gradcheck_text(limit: float) -> str:
    return f"gradient check: relative error < {limit:g}"


def circuit_goal_texts(goals: CircuitGoals) -> list[tuple[str, str]]:
    """(key, text) for every goal set, for display before running."""
    out = []
    if goals.output_at_least is not None or goals.output_at_most is not None:
        out.append(("output", _output_text(goals)))
    if goals.gradcheck_below is not None:
        out.append(("gradcheck_below", _gradcheck_text(goals.gradcheck_below)))
    return out


def _holds(goals: CircuitGoals, value: float) -> bool:
    if not math.isfinite(value):
        return False
    lo, hi = goals.output_at_least, goals.output_at_most
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def evaluate_circuit_goals(goals: CircuitGoals, outputs: Sequence[float],
                           gradcheck_error: float | None = None) -> list[GoalResult]:
    """Judge every goal set. `outputs[0]` is the output before any tug, `outputs[s]` after
    step s; `gradcheck_error` the largest relative error at the file's inputs."""
    results: list[GoalResult] = []
    if goals.output_at_least is not None or goals.output_at_most is not None:
        text = _output_text(goals)
        if not outputs:
            results.append(GoalResult("output", text, False, "no output"))
        else:
            limit = goals.within_steps
            window = list(outputs[: limit + 1]) if limit is not None else [outputs[-1]]
            first = 0 if limit is not None else len(outputs) - 1
            hit = next((s for s, v in enumerate(window) if _holds(goals, v)), None)
            if hit is not None:
                step = first + hit
                results.append(GoalResult("output", text, True, f"{window[hit]:.4g} at step {step}"))
            else:
                last = len(window) - 1
                results.append(GoalResult("output", text, False,
                                          f"{window[last]:.4g} at step {first + last}"))
    if goals.gradcheck_below is not None:
        text = _gradcheck_text(goals.gradcheck_below)
        if gradcheck_error is None:
            results.append(GoalResult("gradcheck_below", text, False, "not checked"))
        else:
            results.append(GoalResult("gradcheck_below", text, gradcheck_error < goals.gradcheck_below,
                                      f"largest {gradcheck_error:.2e}"))
    return results
