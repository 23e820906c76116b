"""From neurons to circuits: a dense neuron and a tiny network with its loss, written as gates.

A neuron for one sample is a = f(w1·x1 + w2·x2 + b): two multiply gates, two add gates and the
activation gate. A 2-2-1 network is three such neurons wired together, and the loss is a few
more gates on top. Backpropagation through these gates gives exactly the gradients the engine's
layer-at-a-time backward pass computes (tests/test_circuits_expand.py compares them).

Names follow the engine's weight layout: layer 0's W[i, j] (input i to hidden unit j) is the input
`w{i+1}{j+1}`, its biases `b1`, `b2`; layer 1's W[j, 0] is `v{j+1}`, its bias `c`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .graph import Circuit, GateSpec

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
LOSSES = ("mse", "binary_crossentropy")


@dataclass(frozen=True)
class Expansion:
    """A circuit built from a neuron or network, and where each engine weight went."""

    inputs: dict[str, float]
    gates: list[GateSpec]
    weights: dict[str, tuple[str, tuple[int, ...]]]
    """Input name -> (engine tensor name, index), e.g. "w12" -> ("layer0.W", (0, 1))."""
    data: tuple[str, ...]
    """The inputs that are data, not parameters (x, y): a tug should leave them fixed."""

    def circuit(self) -> Circuit:
        return Circuit.build(self.inputs, self.gates)


def _check(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; valid: {', '.join(ACTIVATIONS)}")


def _neuron_gates(weights: Sequence[str], xs: Sequence[str], bias: str, activation: str,
                  prefix: str, out: str) -> list[GateSpec]:
    """Σ wᵢ·xᵢ as multiply and add gates, + b, then the activation (named `out`)."""
    gates = [GateSpec(f"{prefix}p{i + 1}", "mul", (x, w)) for i, (w, x) in enumerate(zip(weights, xs))]
    total = gates[0].name
    for k, g in enumerate(gates[1:], start=1):
        name = f"{prefix}s{k}"
        gates.append(GateSpec(name, "add", (total, g.name)))
        total = name
    z = f"{prefix}z" if activation != "linear" else out
    gates.append(GateSpec(z, "add", (total, bias)))
    if activation != "linear":
        gates.append(GateSpec(out, activation, (z,)))
    return gates


def neuron(w: Sequence[float], x: Sequence[float], b: float, activation: str = "sigmoid") -> Expansion:
    """a = f(Σ wᵢ·xᵢ + b) for one sample: inputs w1.., x1.., b; gates p1.. (wᵢ·xᵢ), s1.. (sums),
    z, then a = f(z), the output (for a linear neuron the add gate itself is called a)."""
    _check(activation)
    if len(w) != len(x) or len(w) == 0:
        raise ValueError("w and x need the same length, at least 1")
    ws = [f"w{i + 1}" for i in range(len(w))]
    xs = [f"x{i + 1}" for i in range(len(x))]
    inputs = {**dict(zip(ws, map(float, w))), **dict(zip(xs, map(float, x))), "b": float(b)}
    gates = _neuron_gates(ws, xs, "b", activation, "", "a")
    weights = {name: ("layer0.W", (i, 0)) for i, name in enumerate(ws)}
    weights["b"] = ("layer0.b", (0,))
    return Expansion(inputs, gates, weights, tuple(xs))


def _loss_gates(out: str, loss: str) -> list[GateSpec]:
    if loss == "mse":                      # (ŷ − y)², the engine's mean over one sample
        return [GateSpec("e", "sub", (out, "y")), GateSpec("L", "pow", ("e", 2.0))]
    if loss == "binary_crossentropy":      # −[y·log ŷ + (1 − y)·log(1 − ŷ)]
        return [GateSpec("lp", "log", (out,)), GateSpec("t1", "mul", ("y", "lp")),
                GateSpec("q", "sub", (1.0, out)), GateSpec("lq", "log", ("q",)),
                GateSpec("r", "sub", (1.0, "y")), GateSpec("t2", "mul", ("r", "lq")),
                GateSpec("t", "add", ("t1", "t2")), GateSpec("L", "neg", ("t",))]
    raise ValueError(f"unknown loss {loss!r}; valid: {', '.join(LOSSES)}")


def network(W1: Sequence[Sequence[float]], b1: Sequence[float], W2: Sequence[Sequence[float]],
            b2: Sequence[float], x: Sequence[float], y: float, hidden: str = "sigmoid",
            output: str = "sigmoid", loss: str = "mse") -> Expansion:
    """A 2-2-1 network on one sample (x1, x2) with target y, and its loss L, as gates.

    `W1` is 2×2 (input i, hidden unit j), `b1` has 2 entries, `W2` is 2×1, `b2` has 1 — the
    engine's `layer0.W`, `layer0.b`, `layer1.W`, `layer1.b`. Hidden unit j: h{j} = f(x1·w1j +
    x2·w2j + bj); the output ŷ = g(h1·v1 + h2·v2 + c); then the loss gates, output L."""
    _check(hidden)
    _check(output)
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; valid: {', '.join(LOSSES)}")
    inputs: dict[str, float] = {"x1": float(x[0]), "x2": float(x[1])}
    weights: dict[str, tuple[str, tuple[int, ...]]] = {}
    gates: list[GateSpec] = []
    for j in range(2):
        names = [f"w{i + 1}{j + 1}" for i in range(2)]
        for i, name in enumerate(names):
            inputs[name] = float(W1[i][j])
            weights[name] = ("layer0.W", (i, j))
        inputs[f"b{j + 1}"] = float(b1[j])
        weights[f"b{j + 1}"] = ("layer0.b", (j,))
        gates += _neuron_gates(names, ["x1", "x2"], f"b{j + 1}", hidden, f"h{j + 1}", f"h{j + 1}")
    for j in range(2):
        inputs[f"v{j + 1}"] = float(W2[j][0])
        weights[f"v{j + 1}"] = ("layer1.W", (j, 0))
    inputs["c"] = float(b2[0])
    weights["c"] = ("layer1.b", (0,))
    inputs["y"] = float(y)
    gates += _neuron_gates(["v1", "v2"], ["h1", "h2"], "c", output, "o", "yhat")
    gates += _loss_gates("yhat", loss)
    return Expansion(inputs, gates, weights, ("x1", "x2", "y"))
