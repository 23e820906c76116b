"""A circuit: scalar values flowing through gates, forward and backward (micrograd-sized).

```python
c = Circuit.build({"x": -2.0, "y": 3.0, "z": 4.0},
                  [GateSpec("q", "mul", ("x", "y")), GateSpec("f", "add", ("q", "z"))])
c.forward()            # -2.0   (q = -6, f = -6 + 4)
c.backward()           # f.grad = 1; add distributes: q.grad = z.grad = 1; multiply swaps:
c.grads()              # {"x": 3.0, "y": -2.0, "z": 1.0}
```

Nodes are kept in topological order (every gate after the nodes it reads), so the forward pass is
one loop from the first node to the last and the backward pass one loop back. The output is the
last node. Gradients accumulate with `+=`: an input that feeds two gates gets the sum of what
both pass back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

from . import ops

INPUT = "input"


@dataclass(frozen=True)
class GateSpec:
    """A gate before it is wired: its name, op, and inputs (node names, or numbers for constants)."""

    name: str
    op: str
    inputs: tuple[str | float, ...]
    column: int | None = None
    """Where the gate starts in the expression it was parsed from (1-based), if any."""


@dataclass(frozen=True)
class Wire:
    """One input of a gate: a node (its index) or a constant."""

    node: int | None
    const: float = 0.0


@dataclass
class Node:
    """An input (a leaf you can tug) or a gate; `value` after forward, `grad` after backward."""

    name: str
    op: str
    wires: tuple[Wire, ...] = ()
    value: float = math.nan
    grad: float = 0.0

    @property
    def is_input(self) -> bool:
        return self.op == INPUT


@dataclass(frozen=True)
class Contribution:
    """What one gate passes to one of its inputs: local × upstream, added to that input's grad."""

    position: int          # which input of the gate (0 = a, 1 = b)
    node: int              # the input node's index
    local: float           # ∂out/∂input
    upstream: float        # dL/d out, the gate's own gradient
    before: float          # the input node's gradient before this gate added to it
    after: float           # ... and after: before + local × upstream

    @property
    def passed(self) -> float:
        return self.local * self.upstream


@dataclass(frozen=True)
class BackStep:
    """One gate's backward step: its upstream gradient and what it passes to each input node."""

    gate: int
    upstream: float
    contributions: tuple[Contribution, ...]


@dataclass
class Circuit:
    """Nodes in topological order; the last one is the output."""

    nodes: list[Node]
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {n.name: i for i, n in enumerate(self.nodes)}

    # -- building ----------------------------------------------------------------------------
    @classmethod
    def build(cls, inputs: Mapping[str, float], gates: Sequence[GateSpec]) -> Circuit:
        """Wire `gates` (each reading inputs or earlier gates by name) after the input nodes.

        Raises ValueError for an unknown op or name, a wrong number of inputs, a repeated name or
        a pow gate whose exponent is not a constant (the parser and the scenario checks report
        these with their position first; this is the last line of defence)."""
        nodes = [Node(name, INPUT, value=float(v)) for name, v in inputs.items()]
        index = {n.name: i for i, n in enumerate(nodes)}
        for g in gates:
            op = ops.get(g.op)
            if g.name in index:
                raise ValueError(f"the name {g.name!r} is used twice")
            if len(g.inputs) != op.arity:
                raise ValueError(f"{g.name}: {op.name} takes {op.arity} input(s), got {len(g.inputs)}")
            wires = []
            for k, ref in enumerate(g.inputs):
                if isinstance(ref, str):
                    if ref not in index:
                        raise ValueError(f"{g.name}: unknown input {ref!r}")
                    if op.const_last and k == op.arity - 1:
                        raise ValueError(f"{g.name}: the exponent of pow must be a number")
                    wires.append(Wire(index[ref]))
                else:
                    wires.append(Wire(None, float(ref)))
            index[g.name] = len(nodes)
            nodes.append(Node(g.name, op.name, tuple(wires)))
        if len(nodes) == len(inputs):
            raise ValueError("the circuit has no gate")
        return cls(nodes)

    def copy(self) -> Circuit:
        return Circuit([Node(n.name, n.op, n.wires, n.value, n.grad) for n in self.nodes])

    # -- reading -----------------------------------------------------------------------------
    @property
    def output(self) -> Node:
        return self.nodes[-1]

    @property
    def inputs(self) -> list[Node]:
        return [n for n in self.nodes if n.is_input]

    @property
    def gates(self) -> list[int]:
        """Indices of the gates, in forward order."""
        return [i for i, n in enumerate(self.nodes) if not n.is_input]

    def input_values(self) -> dict[str, float]:
        return {n.name: n.value for n in self.inputs}

    def grads(self) -> dict[str, float]:
        """Each input's gradient dL/dx (after backward)."""
        return {n.name: n.grad for n in self.inputs}

    def op(self, i: int) -> ops.Op:
        return ops.get(self.nodes[i].op)

    def arg_names(self, i: int) -> list[str]:
        """A gate's inputs as written: node names, constants as numbers ("2", "0.5")."""
        return [self.nodes[w.node].name if w.node is not None else f"{w.const:g}"
                for w in self.nodes[i].wires]

    def arg_refs(self, i: int) -> list[str | float]:
        """A gate's inputs as in [[circuit.nodes]] and the history file: names, or numbers."""
        return [self.nodes[w.node].name if w.node is not None else w.const for w in self.nodes[i].wires]

    def arg_values(self, i: int) -> list[float]:
        return [self.nodes[w.node].value if w.node is not None else w.const
                for w in self.nodes[i].wires]

    def consumers(self, i: int) -> list[int]:
        """The gates that read node `i` (once each, in forward order)."""
        return [j for j, n in enumerate(self.nodes) if any(w.node == i for w in n.wires)]

    def formula(self, i: int) -> str:
        """"x × y" for a gate, the name for an input."""
        if self.nodes[i].is_input:
            return self.nodes[i].name
        return self.op(i).written(self.arg_names(i))

    # -- forward and backward ----------------------------------------------------------------
    def set_inputs(self, values: Mapping[str, float]) -> None:
        for name, v in values.items():
            node = self.nodes[self.index[name]]
            if not node.is_input:
                raise ValueError(f"{name!r} is a gate, not an input")
            node.value = float(v)

    def forward_gate(self, i: int) -> float:
        """Compute gate `i` from its inputs' current values."""
        node = self.nodes[i]
        node.value = float(self.op(i).forward(self.arg_values(i)))
        return node.value

    def forward(self) -> float:
        """Every gate in order; returns the output's value."""
        for i in self.gates:
            self.forward_gate(i)
        return self.output.value

    def local_derivatives(self, i: int) -> list[float]:
        """∂out/∂input for each input of gate `i` (after forward)."""
        return [float(d) for d in self.op(i).local(self.arg_values(i), self.nodes[i].value)]

    def backward_steps(self) -> Iterator[BackStep]:
        """The backward pass one gate at a time, from the output (gradient 1) back.

        Yields after each gate has added local × upstream to each of its input nodes."""
        for n in self.nodes:
            n.grad = 0.0
        self.output.grad = 1.0
        for i in reversed(self.gates):
            node = self.nodes[i]
            upstream = node.grad
            parts = []
            for k, (w, local) in enumerate(zip(node.wires, self.local_derivatives(i))):
                if w.node is None:       # a constant: nothing to pass back to
                    continue
                src = self.nodes[w.node]
                before = src.grad
                src.grad = before + local * upstream
                parts.append(Contribution(k, w.node, local, upstream, before, src.grad))
            yield BackStep(i, upstream, tuple(parts))

    def backward(self) -> None:
        """The whole backward pass: every node's `grad` = d output / d node."""
        for _ in self.backward_steps():
            pass

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The output at other input values, leaving this circuit's values untouched."""
        twin = self.copy()
        twin.set_inputs(values)
        return twin.forward()

    def is_finite(self) -> bool:
        return all(math.isfinite(n.value) for n in self.nodes)

    def first_non_finite(self) -> int | None:
        """The first gate whose value is not finite (after forward), or None."""
        return next((i for i, n in enumerate(self.nodes) if not math.isfinite(n.value)), None)
