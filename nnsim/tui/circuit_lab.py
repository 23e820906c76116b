"""The circuit screen's controller: the walk, tugs, comparisons, goals (headless, no textual).

```python
lab = CircuitLab(scenario)       # the file's inputs, the walk at the [view] stage
lab.forth(); lab.back()          # f / b: one gate forward or back through forward, then backward
lab.tug()                        # n: every input += step × gradient; walk restarts, fully computed
lab.compare()                    # c: random search vs numerical vs analytic, evaluations counted
```
"""

from __future__ import annotations

from nnsim.circuits import Circuit, MethodRun, Numerical, Walk, compare, numerical_gradients, tug
from nnsim.scenarios.circuit import CircuitScenario
from nnsim.scenarios.circuit_goals import evaluate_circuit_goals
from nnsim.scenarios.goals import GoalResult

#: The tug step sizes `[` and `]` move between.
STEP_SIZES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


class CircuitLab:
    """One circuit scenario being explored."""

    def __init__(self, scenario: CircuitScenario) -> None:
        self.scenario = scenario
        self.spec = scenario.circuit
        self.step_size = self.spec.step_size
        self.reset()
        self.walk.go(scenario.view.stage)

    def reset(self) -> None:
        """Back to the file's inputs, the walk at the start."""
        self.circuit: Circuit = self.scenario.build()
        self.walk = Walk(self.circuit)
        self.outputs: list[float] = [self.circuit.output.value]
        self._numerical: list[Numerical] | None = None
        self.comparison: list[MethodRun] | None = None
        self.gradcheck_error = max((g.error for g in self.numerical()), default=0.0)

    # -- stepping ------------------------------------------------------------------------------
    def forth(self) -> bool:
        return self.walk.forth()

    def back(self) -> bool:
        return self.walk.back()

    def tug(self) -> float:
        """One tug step; the walk restarts at the new inputs, fully computed. Returns the output."""
        out = tug(self.circuit, self.step_size, self.spec.direction, self.spec.fixed)
        self.outputs.append(out)
        self.walk = Walk(self.circuit)
        self.walk.end()
        self._numerical = None
        return out

    @property
    def tugs(self) -> int:
        return len(self.outputs) - 1

    def change_step(self, up: bool) -> float:
        """The next larger / smaller step size of STEP_SIZES."""
        sizes = list(STEP_SIZES)
        if up:
            self.step_size = next((s for s in sizes if s > self.step_size * 1.0001), self.step_size)
        else:
            self.step_size = next((s for s in reversed(sizes) if s < self.step_size / 1.0001), self.step_size)
        return self.step_size

    # -- reading -------------------------------------------------------------------------------
    def numerical(self) -> list[Numerical]:
        """Each input's gradient: analytic, central and forward differences (cached per state)."""
        if self._numerical is None:
            self._numerical = numerical_gradients(self.circuit.copy(), self.spec.h)
        return self._numerical

    def compare(self) -> list[MethodRun]:
        """Random local search, numerical and analytic gradient from the current inputs."""
        steps = self.spec.steps or 10
        self.comparison = compare(self.circuit, steps, self.step_size, self.spec.search_tries, self.spec.h,
                                  self.spec.direction, self.scenario.meta.seed, self.spec.fixed)
        return self.comparison

    def goals(self) -> list[GoalResult]:
        """The scenario's goals judged on the tugs so far (as `nnsim run` judges them)."""
        return evaluate_circuit_goals(self.scenario.goals, self.outputs, self.gradcheck_error)
