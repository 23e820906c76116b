"""The gates: what each computes and the local derivative it multiplies the gradient by.

A gate `out = f(a, b)` needs only its own inputs to pass the gradient back: the gradient that
arrives from above (the *upstream* gradient, dL/d out) is multiplied by the gate's *local*
derivative ∂out/∂a for each input — the chain rule, applied one gate at a time:

    dL/da += ∂out/∂a × dL/d out

Each op names the rule (add distributes, multiply swaps, max routes, ...) and writes its local
derivatives as formulas, so the app and the command line can say what happens at a gate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Sequence

Args = Sequence[float]


def sigmoid(a: float) -> float:
    """σ(a) = 1 / (1 + e^−a), computed without overflow for large |a|."""
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _exp(a: float) -> float:
    try:
        return math.exp(a)
    except OverflowError:
        return math.inf


def _log(a: float) -> float:
    if a > 0:
        return math.log(a)
    return -math.inf if a == 0 else math.nan


def _div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 else math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _pow(a: float, n: float) -> float:
    try:
        value = a ** n
    except ZeroDivisionError:      # 0 ** negative
        return math.inf
    except OverflowError:
        return math.inf
    return value if isinstance(value, float) or isinstance(value, int) else math.nan


@dataclass(frozen=True)
class Op:
    """One kind of gate."""

    name: str
    """The name used in [[circuit.nodes]] and in output ("mul")."""
    arity: int
    """How many inputs it takes."""
    symbol: str
    """How it is written in a formula: "×" for mul, "max" for max."""
    rule: str
    """The rule in words, as the lessons name it ("multiply swaps")."""
    forward: Callable[[Args], float]
    """The gate's output for its input values."""
    local: Callable[[Args, float], list[float]]
    """∂out/∂input for each input, from the input values and the output."""
    formulas: tuple[str, ...]
    """∂out/∂input for each input, written with `a`, `b` (the inputs) and `out` (pow: see
    `local_formula`)."""
    const_last: bool = False
    """The last input must be a constant (the exponent of pow)."""

    def infix(self) -> bool:
        """True for the binary operators written between their inputs (a × b)."""
        return self.arity == 2 and self.name in ("add", "sub", "mul", "div", "pow")

    def written(self, args: Sequence[str]) -> str:
        """The gate applied to `args` as text: "x × y", "max(x, y)", "σ(z)", "x ** 2"."""
        if self.infix():
            return f"{args[0]} {self.symbol} {args[1]}"
        if self.name == "neg":
            return f"−{args[0]}"
        return f"{self.symbol}({', '.join(args)})"


def _relu_local(x: Args, out: float) -> list[float]:
    return [1.0 if x[0] > 0 else 0.0]


def _abs_local(x: Args, out: float) -> list[float]:
    return [1.0 if x[0] > 0 else (-1.0 if x[0] < 0 else 0.0)]


def _pow_local(x: Args, out: float) -> list[float]:
    a, n = x
    return [n * _pow(a, n - 1) if n != 0 else 0.0, 0.0]


_OPS = (
    Op("add", 2, "+", "add distributes", lambda x: x[0] + x[1],
       lambda x, o: [1.0, 1.0], ("1", "1")),
    Op("sub", 2, "−", "subtract distributes, flipping the sign for the second input",
       lambda x: x[0] - x[1], lambda x, o: [1.0, -1.0], ("1", "−1")),
    Op("mul", 2, "×", "multiply swaps", lambda x: x[0] * x[1],
       lambda x, o: [x[1], x[0]], ("b", "a")),
    Op("div", 2, "/", "divide: 1/b for a, −a/b² for b", lambda x: _div(x[0], x[1]),
       lambda x, o: [_div(1.0, x[1]), _div(-x[0], x[1] * x[1])], ("1/b", "−a/b²")),
    Op("pow", 2, "**", "power: n·aⁿ⁻¹ (the exponent n is a constant)", lambda x: _pow(x[0], x[1]),
       _pow_local, ("n·aⁿ⁻¹", "—"), const_last=True),
    Op("neg", 1, "−", "negate flips the sign", lambda x: -x[0], lambda x, o: [-1.0], ("−1",)),
    Op("max", 2, "max", "max routes (to the larger input)", lambda x: max(x[0], x[1]),
       lambda x, o: [1.0, 0.0] if x[0] >= x[1] else [0.0, 1.0],
       ("1 if a ≥ b else 0", "1 if b > a else 0")),
    Op("min", 2, "min", "min routes (to the smaller input)", lambda x: min(x[0], x[1]),
       lambda x, o: [1.0, 0.0] if x[0] <= x[1] else [0.0, 1.0],
       ("1 if a ≤ b else 0", "1 if b < a else 0")),
    Op("exp", 1, "exp", "exp: eᵃ, its own output", lambda x: _exp(x[0]),
       lambda x, o: [o], ("out",)),
    Op("log", 1, "log", "log: 1/a", lambda x: _log(x[0]),
       lambda x, o: [_div(1.0, x[0])], ("1/a",)),
    Op("abs", 1, "abs", "abs: the sign of a", lambda x: abs(x[0]), _abs_local, ("sign(a)",)),
    Op("sigmoid", 1, "σ", "sigmoid: σ(1 − σ)", lambda x: sigmoid(x[0]),
       lambda x, o: [o * (1.0 - o)], ("out·(1 − out)",)),
    Op("tanh", 1, "tanh", "tanh: 1 − tanh²", lambda x: math.tanh(x[0]),
       lambda x, o: [1.0 - o * o], ("1 − out²",)),
    Op("relu", 1, "relu", "relu routes when a > 0 (max(0, a))", lambda x: max(0.0, x[0]),
       _relu_local, ("1 if a > 0 else 0",)),
)

#: Every op by name.
OPS: dict[str, Op] = {op.name: op for op in _OPS}
#: The functions an expression may call, with the op each becomes.
FUNCTIONS: dict[str, str] = {"max": "max", "min": "min", "exp": "exp", "log": "log", "abs": "abs",
                             "sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu"}


def local_formula(op: Op, k: int, args: Sequence[str], out: str) -> str:
    """∂out/∂(input k) written with the actual names: "y" for x × y, "sigmoid1·(1 − sigmoid1)"."""
    if op.name == "pow":
        n = float(args[1])
        return f"{n:g}·{args[0]}^{n - 1:g}" if k == 0 else "—"
    names = {"a": args[0], "b": args[1] if len(args) > 1 else "", "out": out}
    return re.sub(r"\b(a|b|out)\b", lambda m: names[m.group(1)], op.formulas[k])


def get(name: str) -> Op:
    """The op called `name`; `ValueError` names the valid ones."""
    try:
        return OPS[name]
    except KeyError:
        raise ValueError(f"unknown op {name!r}; valid ops: {', '.join(OPS)}") from None
