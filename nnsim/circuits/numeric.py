"""Three ways to find which way to move the inputs, and what each costs in evaluations.

- **Random local search:** try `tries` random nudges of every input, keep the best. No calculus;
  `tries` evaluations of the circuit per step.
- **Numerical gradient:** wiggle one input at a time by a tiny h and watch the output:
  central (f(x + h) − f(x − h)) / 2h, two evaluations per input, error shrinking like h²;
  forward (f(x + h) − f(x)) / h, one per input plus f(x), error shrinking like h.
- **Analytic gradient:** one forward and one backward pass give every input's gradient at once.

A *tug* moves every input by `step × gradient` (to increase the output; with direction
"decrease", by −step × gradient). Inputs listed as `fixed` (data such as x and y, when the
circuit is a network and only the weights should learn) keep their values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Collection

import numpy as np

from .graph import Circuit

SIGNS = {"increase": 1.0, "decrease": -1.0}


@dataclass(frozen=True)
class Numerical:
    """One input's gradient three ways: analytic (backward), central and forward differences."""

    name: str
    value: float
    analytic: float
    central: float
    forward: float

    @property
    def error(self) -> float:
        """|analytic − central| / max(|analytic| + |central|, 1e-12), the gradient check's measure."""
        denom = max(abs(self.analytic) + abs(self.central), 1e-12)
        return abs(self.analytic - self.central) / denom


def numerical_gradients(circuit: Circuit, h: float = 1e-5, skip: Collection[str] = ()) -> list[Numerical]:
    """Every input's gradient by central and forward differences, beside the analytic one
    (inputs named in `skip` are left out).

    Runs forward and backward on `circuit` (its values and grads are current afterwards)."""
    base = circuit.input_values()
    f0 = circuit.forward()
    circuit.backward()
    out = []
    for node in circuit.inputs:
        if node.name in skip:
            continue
        x = base[node.name]
        up = circuit.evaluate({**base, node.name: x + h})
        down = circuit.evaluate({**base, node.name: x - h})
        out.append(Numerical(node.name, x, node.grad, (up - down) / (2 * h), (up - f0) / h))
    return out


def evaluations_per_step(method: str, n_inputs: int, tries: int = 100) -> int:
    """How many times a step evaluates the circuit to choose its move (a backward pass, which
    costs about as much as a forward pass, counts as one)."""
    if method == "random":
        return tries
    if method == "central":
        return 2 * n_inputs            # f(x + h) and f(x − h) per input
    if method == "forward":
        return n_inputs + 1            # f(x), then one per input
    if method == "analytic":
        return 2                       # one forward, one backward
    raise ValueError(f"unknown method {method!r}; valid methods: random, central, forward, analytic")


def tug(circuit: Circuit, step: float, direction: str = "increase", fixed: Collection[str] = ()) -> float:
    """Move every input by ±step × its gradient, then forward and backward again; the new output.

    The gradients used are those of a fresh forward and backward pass at the current inputs."""
    sign = SIGNS[direction]
    circuit.forward()
    circuit.backward()
    circuit.set_inputs({n.name: n.value + sign * step * n.grad for n in circuit.inputs
                        if n.name not in fixed})
    out = circuit.forward()
    circuit.backward()
    return out


def random_search_step(circuit: Circuit, step: float, tries: int, rng: np.random.Generator,
                       direction: str = "increase", fixed: Collection[str] = ()) -> float:
    """Try `tries` random nudges (each input moved by up to ±step), keep the best if it improves.

    Sets the circuit's inputs to the best point found (forward done); returns its output."""
    sign = SIGNS[direction]
    base = circuit.input_values()
    best_x, best = base, circuit.evaluate(base)
    names = [k for k in base if k not in fixed]
    for _ in range(tries):
        nudge = rng.uniform(-1.0, 1.0, len(names)) * step
        trial = {k: base[k] + float(d) for k, d in zip(names, nudge)}
        out = circuit.evaluate(trial)
        if math.isfinite(out) and sign * out > sign * best:
            best_x, best = trial, out
    circuit.set_inputs(best_x)
    return circuit.forward()


@dataclass
class MethodRun:
    """One method's run: the output after each step and the evaluations it took."""

    method: str
    label: str
    per_step: int
    outputs: list[float] = field(default_factory=list)

    @property
    def evaluations(self) -> int:
        return self.per_step * len(self.outputs)


def compare(circuit: Circuit, steps: int, step: float, tries: int = 100, h: float = 1e-5,
            direction: str = "increase", seed: int = 0, fixed: Collection[str] = ()) -> list[MethodRun]:
    """Random search, numerical (central) and analytic gradients, `steps` steps each from the
    circuit's current inputs (which are left as they were)."""
    n = len([x for x in circuit.inputs if x.name not in fixed])
    sign = SIGNS[direction]
    runs = [MethodRun("random", f"random local search ({tries} tries)", evaluations_per_step("random", n, tries)),
            MethodRun("central", "numerical gradient (central differences)", evaluations_per_step("central", n)),
            MethodRun("analytic", "analytic gradient (backpropagation)", evaluations_per_step("analytic", n))]
    rng = np.random.default_rng(seed)
    for run in runs:
        c = circuit.copy()
        for _ in range(steps):
            if run.method == "random":
                out = random_search_step(c, step, tries, rng, direction, fixed)
            elif run.method == "central":
                grads = {g.name: g.central for g in numerical_gradients(c, h, skip=fixed)}
                c.set_inputs({k: v + sign * step * grads[k] for k, v in c.input_values().items()
                              if k not in fixed})
                out = c.forward()
            else:
                out = tug(c, step, direction, fixed)
            run.outputs.append(out)
            if not math.isfinite(out):
                break
    return runs
