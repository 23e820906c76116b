"""Walk one forward and one backward pass gate by gate, forwards and back (the app's `f` / `b`).

```python
walk = Walk(circuit)          # position 0: only the inputs are known
walk.forth()                  # forward through the first gate
walk.phase.label              # "forward 1/2: mul1"
walk.value(i), walk.grad(i)   # None until that gate has been reached
walk.end()                    # everything computed (as after circuit.forward(); circuit.backward())
```

Positions: 0 is the start; 1..G compute the gates' values in forward order; G+1..2G go back
through the gates from the output, each adding local × upstream to its inputs' gradients.
"""

from __future__ import annotations

from dataclasses import dataclass

from .graph import BackStep, Circuit


@dataclass(frozen=True)
class Phase:
    """Where the walk is: ("start", None), ("forward", gate) or ("backward", gate)."""

    kind: str
    gate: int | None
    number: int
    """1-based position within its pass (forward 2 of 5); 0 at the start."""
    total: int
    """Gates in the circuit."""
    back: BackStep | None
    label: str


class Walk:
    """One forward and backward pass over `circuit`, precomputed, stepped one gate at a time.

    The circuit itself ends fully computed (values and gradients); the walk keeps a copy of
    the gradients after every backward step so it can go back and forth."""

    def __init__(self, circuit: Circuit) -> None:
        self.circuit = circuit
        circuit.forward()
        self.order = circuit.gates                   # forward order
        self.steps: list[BackStep] = []
        self.grads_after: list[list[float]] = []
        self.touched_after: list[set[int]] = []
        touched: set[int] = set()
        for step in circuit.backward_steps():
            touched = touched | {step.gate} | {c.node for c in step.contributions}
            self.steps.append(step)
            self.grads_after.append([n.grad for n in circuit.nodes])
            self.touched_after.append(touched)
        self.forward_at = {g: k + 1 for k, g in enumerate(self.order)}  # position that computes g
        self.position = 0

    # -- moving --------------------------------------------------------------------------------
    @property
    def length(self) -> int:
        """The last position (2 × gates)."""
        return 2 * len(self.order)

    def forth(self) -> bool:
        """One phase on; False (and no move) at the end."""
        if self.position >= self.length:
            return False
        self.position += 1
        return True

    def back(self) -> bool:
        """One phase back; False (and no move) at the start."""
        if self.position <= 0:
            return False
        self.position -= 1
        return True

    def end(self) -> None:
        self.position = self.length

    def start(self) -> None:
        self.position = 0

    def go(self, stage: str) -> None:
        """"start", "forward" (values computed) or "backward" (values and gradients)."""
        self.position = {"start": 0, "forward": len(self.order), "backward": self.length}[stage]

    @property
    def done(self) -> bool:
        return self.position == self.length

    # -- reading -------------------------------------------------------------------------------
    @property
    def phase(self) -> Phase:
        p, g = self.position, len(self.order)
        if p == 0:
            return Phase("start", None, 0, g, None, "start (f: forward pass)")
        if p <= g:
            gate = self.order[p - 1]
            return Phase("forward", gate, p, g, None, f"forward {p}/{g}: {self.circuit.nodes[gate].name}")
        step = self.steps[p - g - 1]
        name = self.circuit.nodes[step.gate].name
        return Phase("backward", step.gate, p - g, g, step, f"backward {p - g}/{g}: {name}")

    def value(self, i: int) -> float | None:
        """Node i's value if the walk has computed it (inputs always), else None."""
        node = self.circuit.nodes[i]
        if node.is_input or self.position >= self.forward_at[i]:
            return node.value
        return None

    def grad(self, i: int) -> float | None:
        """Node i's gradient so far (the running sum) once the backward pass has reached it."""
        k = self.position - len(self.order)
        if k <= 0 or i not in self.touched_after[k - 1]:
            return None
        return self.grads_after[k - 1][i]

    def grad_final(self, i: int) -> bool:
        """True when every gate that reads node i has passed its gradient back."""
        k = self.position - len(self.order)
        if k <= 0:
            return False
        done = {s.gate for s in self.steps[:k]}
        readers = self.circuit.consumers(i)
        return all(r in done for r in readers) and (bool(readers) or i in done)
