"""Read a circuit expression such as "(x * y) + z" into gates — safely, never with `eval`.

Python's own parser (`ast.parse`) turns the text into a tree; this module walks the tree and
accepts only numbers, input names, `+ - * /`, unary minus, `**` with a constant exponent,
parentheses and calls of the functions max, min, exp, log, abs, sigmoid, tanh and relu. Anything
else — another function, an attribute (`os.system`), a lambda, a comparison, a string — is refused
with the column where it starts. Nothing in the text is ever executed.

```python
parsed = parse_expression("(x * y) + z")
parsed.gates   # [GateSpec("mul1", "mul", ("x", "y")), GateSpec("add1", "add", ("mul1", "z"))]
parsed.names   # {"x": 2, "y": 6, "z": 11}: each input name and the column where it first appears
```
"""

from __future__ import annotations

import ast
import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Collection

from .graph import GateSpec
from .ops import FUNCTIONS, OPS

MAX_EXPRESSION_CHARS = 1000
MAX_GATES = 100
MAX_EXPONENT = 10
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_REFUSED_BINOPS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
                   ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^"}
_REFUSED_NODES = {
    ast.Attribute: "attribute access (a '.' after a name) is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.Subscript: "indexing with [...] is not allowed",
    ast.Compare: "comparisons (<, >, ==, ...) are not allowed; max and min compare for you",
    ast.BoolOp: "'and' / 'or' are not allowed",
    ast.IfExp: "'... if ... else ...' is not allowed; max, min and relu choose for you",
    ast.NamedExpr: "':=' is not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.Tuple: "tuples are not allowed (a comma outside a function call?)",
    ast.List: "lists are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
}
ALLOWED = ("numbers, input names, + - * / **, unary minus, parentheses and the functions "
           + ", ".join(FUNCTIONS))


class ExpressionError(ValueError):
    """An expression that cannot be used, with the column where the problem starts (1-based)."""

    def __init__(self, message: str, column: int) -> None:
        self.message, self.column = message, column
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.message} (column {self.column} of the expression)"


@dataclass
class Parsed:
    """The gates in forward order (the last is the output), and the input names used."""

    gates: list[GateSpec]
    names: dict[str, int] = field(default_factory=dict)
    """Each input name, with the column where it first appears."""


class _Walker:
    def __init__(self, text: str, indent: int = 0) -> None:
        self.text = text
        self.indent = indent
        self.gates: list[tuple[str, tuple[str | float | int, ...], int]] = []  # op, inputs, column
        self.names: dict[str, int] = {}

    def _chars(self, byte_offset: int) -> int:
        """ast counts UTF-8 bytes; this is the same place in characters (0-based)."""
        return len(self.text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))

    def where(self, node: ast.AST) -> int:
        """The 1-based column where `node` starts in the original text."""
        return self._chars(getattr(node, "col_offset", 0)) + self.indent + 1

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, self.where(node))

    def operator_at(self, node: ast.BinOp) -> int:
        """Where the operator of `a OP b` is: the first character after `a` (and its brackets)."""
        col = self._chars(node.left.end_col_offset or 0)
        while col < len(self.text) and self.text[col] in " )":
            col += 1
        return col + self.indent + 1

    def gate(self, op: str, inputs: tuple[str | float | int, ...], node: ast.AST) -> int:
        if len(self.gates) >= MAX_GATES:
            raise self.fail(node, f"the circuit has more than {MAX_GATES} gates")
        self.gates.append((op, inputs, self.where(node)))
        return len(self.gates) - 1

    # Each visit returns what the parent wires in: a name (str), a gate (int) or a number (float).
    def visit(self, node: ast.AST) -> str | float | int:
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Attribute):       # point at the dot
            col = self._chars(node.value.end_col_offset or 0)
            while col < len(self.text) and self.text[col] in " )":
                col += 1
            raise ExpressionError(_REFUSED_NODES[ast.Attribute], col + self.indent + 1)
        for kind, message in _REFUSED_NODES.items():
            if isinstance(node, kind):
                raise self.fail(node, message)
        raise self.fail(node, f"{type(node).__name__} is not allowed; use {ALLOWED}")

    def binop(self, node: ast.BinOp) -> int:
        kind = type(node.op)
        if kind in _REFUSED_BINOPS:
            raise ExpressionError(f"the operator {_REFUSED_BINOPS[kind]!r} is not allowed; "
                                  "use + - * / **", self.operator_at(node))
        left = self.visit(node.left)
        if kind is ast.Pow:
            exponent = self.visit(node.right)
            if not isinstance(exponent, float):
                raise self.fail(node.right, "the exponent of ** must be a number, as in x ** 2 "
                                            "(use exp and log for other powers)")
            if abs(exponent) > MAX_EXPONENT:
                raise self.fail(node.right, f"the exponent {exponent:g} is too large; "
                                            f"exponents must be between -{MAX_EXPONENT} and {MAX_EXPONENT}")
            return self.gate("pow", (left, exponent), node)
        right = self.visit(node.right)
        return self.gate(_BINOPS[kind], (left, right), node)

    def unary(self, node: ast.UnaryOp) -> str | float | int:
        if isinstance(node.op, ast.UAdd):
            return self.visit(node.operand)
        if not isinstance(node.op, ast.USub):
            raise self.fail(node, f"the operator {'not' if isinstance(node.op, ast.Not) else '~'!r} "
                                  "is not allowed; use + - * / **")
        inner = self.visit(node.operand)
        if isinstance(inner, float):      # -2 is the number −2, not a negate gate
            return -inner
        return self.gate("neg", (inner,), node)

    def call(self, node: ast.Call) -> int:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                self.visit(node.func)
            raise self.fail(node.func, f"only the functions {', '.join(FUNCTIONS)} can be called")
        name = node.func.id
        if name not in FUNCTIONS:
            close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise self.fail(node.func, f"unknown function {name!r}; {hint}functions: {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise self.fail(node.keywords[0].value if node.keywords[0].arg is None else node,
                            f"{name}() takes no keyword arguments")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail(arg, _REFUSED_NODES[ast.Starred])
        op = OPS[FUNCTIONS[name]]
        if len(node.args) != op.arity:
            got = len(node.args)
            raise self.fail(node, f"{name}() takes {op.arity} argument{'s' if op.arity > 1 else ''}, "
                                  f"got {got}")
        return self.gate(op.name, tuple(self.visit(a) for a in node.args), node)

    def name(self, node: ast.Name) -> str:
        name = node.id
        if name in FUNCTIONS:
            raise self.fail(node, f"{name!r} is a function; call it, as in {name}("
                                  f"{'a, b' if OPS[FUNCTIONS[name]].arity == 2 else 'x'})")
        if name.startswith("_"):
            raise self.fail(node, f"the name {name!r} is not allowed; names start with a letter")
        if not NAME.fullmatch(name):
            raise self.fail(node, f"the name {name!r} is not allowed; names use the letters A-Z, "
                                  "a-z, digits and _")
        self.names.setdefault(name, self.where(node))
        return name

    def constant(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            what = "a string" if isinstance(value, (str, bytes)) else repr(value)
            raise self.fail(node, f"{what} is not a number; use {ALLOWED}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise self.fail(node, "the number is too large")
        return number


def gate_names(ops: list[str], taken: Collection[str]) -> list[str]:
    """"mul1", "add1", "mul2", ...: each op counted on its own, skipping names in `taken`."""
    counts: dict[str, int] = {}
    out = []
    for op in ops:
        while True:
            counts[op] = counts.get(op, 0) + 1
            name = f"{op}{counts[op]}"
            if name not in taken:
                break
        out.append(name)
    return out


def parse_expression(text: str) -> Parsed:
    """The gates of `text`, in forward order; raises ExpressionError (with the column).

    Line breaks and tabs count as spaces (a TOML multi-line string is one expression); columns
    count characters from the start of `text`."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"the expression is longer than {MAX_EXPRESSION_CHARS} characters",
                              MAX_EXPRESSION_CHARS + 1)
    flat = re.sub(r"[\t\r\n\f\v]", " ", text)
    if not flat.strip():
        raise ExpressionError("the expression is empty; write one such as (x * y) + z", 1)
    if "\0" in flat:
        raise ExpressionError("the expression contains a null character", flat.index("\0") + 1)
    indent = len(flat) - len(flat.lstrip(" "))
    source = flat.strip(" ")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        message = (exc.msg or "invalid syntax").removesuffix(" here")
        if message.startswith(("invalid syntax", "invalid character")):
            message += f"; use {ALLOWED}"
        raise ExpressionError(f"not a valid expression: {message}",
                              (exc.offset or 1) + indent) from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply", 1) from None
    walker = _Walker(source, indent)
    try:
        top = walker.visit(tree.body)
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply", 1) from None
    if not isinstance(top, int):
        raise ExpressionError("the expression has no gate; combine the inputs with an operation, "
                              "as in x * y", indent + 1)
    names = gate_names([op for op, _, _ in walker.gates], walker.names)
    gates = [GateSpec(names[i], op, tuple(names[a] if isinstance(a, int) else a for a in inputs), column)
             for i, (op, inputs, column) in enumerate(walker.gates)]
    return Parsed(gates, walker.names)
