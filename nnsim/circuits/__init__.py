"""Circuits: backpropagation gate by gate, on scalar values (headless; no textual, no rich).

```python
from nnsim.circuits import Circuit, parse_expression, numerical_gradients, tug

parsed = parse_expression("(x * y) + z")                 # safe: ast, never eval
c = Circuit.build({"x": -2.0, "y": 3.0, "z": 4.0}, parsed.gates)
c.forward()                                              # -2.0
c.backward()                                             # grads: x 3, y -2, z 1
numerical_gradients(c, h=1e-5)                           # central and forward differences
tug(c, step=0.01)                                        # every input += 0.01 × its gradient
```

Modules: `ops` (each gate's forward and local derivatives, with the rule named), `graph` (the
circuit, forward and backward), `parse` (expressions), `numeric` (finite differences, tug,
random local search, evaluation counts), `walk` (one pass gate by gate, back and forth),
`expand` (a neuron and a 2-2-1 network as gates), `draw` (boxes and wires on a text grid).
"""

from .expand import Expansion, network, neuron
from .graph import BackStep, Circuit, Contribution, GateSpec, Node, Wire
from .numeric import (
    MethodRun,
    Numerical,
    compare,
    evaluations_per_step,
    numerical_gradients,
    random_search_step,
    tug,
)
from .ops import FUNCTIONS, OPS, Op
from .parse import ExpressionError, Parsed, parse_expression
from .walk import Phase, Walk

__all__ = [
    "BackStep", "Circuit", "Contribution", "ExpressionError", "Expansion", "FUNCTIONS", "GateSpec",
    "MethodRun", "Node", "Numerical", "OPS", "Op", "Parsed", "Phase", "Walk", "Wire", "compare",
    "evaluations_per_step", "network", "neuron", "numerical_gradients", "parse_expression",
    "random_search_step", "tug",
]
