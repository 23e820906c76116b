"""The circuit screen's texts: a node's card, the numerical-vs-analytic table, the comparison.

A gate's card writes out what the gate did in the forward pass (with numbers) and, once the
backward pass has reached it, its rule, its upstream gradient and, for each input, the local
derivative and the product local × upstream added to that input's gradient. An input's card
shows how its gradient adds up over the gates that read it, its numerical gradient, and the tug.
Everything is `rich.text.Text` built from plain strings: names and formulas are never markup.
"""

from __future__ import annotations

from rich.text import Text

from nnsim.circuits import Circuit, Contribution, MethodRun, Numerical, Walk
from nnsim.circuits.ops import local_formula
from nnsim.textsafe import clean_line


def n4(v: float | None) -> str:
    """A number for the card: 4 significant digits ("?" when not computed yet)."""
    if v is None:
        return "?"
    return f"{v:.4g}"


def p4(v: float | None) -> str:
    """n4 in brackets when negative, for products: "3 × (-2)"."""
    return f"({n4(v)})" if v is not None and v < 0 else n4(v)


def _head(text: Text, label: str) -> None:
    text.append(label, style="bold cyan")


def gate_card(c: Circuit, walk: Walk, i: int, step: float, direction: str,
              numerical: list[Numerical], h: float, fixed: list[str]) -> Text:
    """The card of node `i` at the walk's position."""
    if c.nodes[i].is_input:
        return _input_card(c, walk, i, step, direction, numerical, h, fixed)
    node, op = c.nodes[i], c.op(i)
    names = [clean_line(a) for a in c.arg_names(i)]
    text = Text()
    text.append(f"{node.name} = {op.written(names)}", style="bold")
    text.append(f"   {op.rule}\n", style="italic")
    _head(text, "forward   ")
    values = [walk.value(w.node) if w.node is not None else w.const for w in node.wires]
    if walk.value(i) is None:
        text.append("not computed yet (f steps the forward pass on)\n", style="dim")
    else:
        shown = [p4(v) for v in values]
        text.append(f"{op.written(shown)} = {n4(walk.value(i))}\n")
    _head(text, "backward  ")
    index = next(k for k, s in enumerate(walk.steps) if s.gate == i)
    step_of = walk.steps[index]
    if walk.position - len(walk.order) <= index:
        text.append("not reached yet (the backward pass starts at the output)\n", style="dim")
        return text
    up = step_of.upstream
    source = " (the output: d out/d out = 1)" if i == len(c.nodes) - 1 else ""
    text.append(f"upstream ∇{node.name} = {n4(up)}{source}\n")
    by_position = {p.position: p for p in step_of.contributions}
    for k, w in enumerate(node.wires):
        if w.node is None:
            text.append(f"  {names[k]}: a constant, nothing to pass back\n", style="dim")
            continue
        part = by_position[k]
        src = c.nodes[w.node].name
        formula = local_formula(op, k, names, node.name)
        text.append(f"  to {src}: ", style="bold")
        text.append(f"local ∂{node.name}/∂{src} = {formula}")
        if formula != n4(part.local):
            text.append(f" = {n4(part.local)}")
        text.append(";  local × upstream = ")
        text.append(f"{n4(part.local)} × {p4(up)} = {n4(part.passed)}", style="bold")
        text.append(_accumulated(src, part) + "\n")
    text.rstrip()
    return text


def _accumulated(name: str, part: Contribution) -> str:
    if part.before == 0:
        return f"  → ∇{name} = {n4(part.after)}"
    return f"  → ∇{name} = {n4(part.before)} + {p4(part.passed)} = {n4(part.after)}"


def _input_card(c: Circuit, walk: Walk, i: int, step: float, direction: str,
                numerical: list[Numerical], h: float, fixed: list[str]) -> Text:
    node = c.nodes[i]
    text = Text()
    text.append(f"{node.name}", style="bold")
    text.append(f"   an input = {n4(node.value)}\n")
    _head(text, "gradient  ")
    k = max(0, walk.position - len(walk.order))
    parts = [(c.nodes[s.gate].name, p) for s in walk.steps[:k] for p in s.contributions if p.node == i]
    readers = [c.nodes[r].name for r in c.consumers(i)]
    if not parts:
        text.append(f"not reached yet; {', '.join(readers)} will pass it back\n", style="dim")
    else:
        sum_text = " + ".join(p4(p.passed) for _, p in parts)
        who = ", ".join(f"{g} passes {n4(p.passed)}" for g, p in parts)
        total = n4(parts[-1][1].after)
        uses = sum(w.node == i for n in c.nodes for w in n.wires)
        more = "" if len(parts) == uses else " so far"
        text.append(f"∇{node.name} = {sum_text if len(parts) > 1 else ''}"
                    f"{' = ' if len(parts) > 1 else ''}{total}{more}", style="bold")
        text.append(f"  ({who})\n")
    g = next((x for x in numerical if x.name == node.name), None)
    if g is not None:
        _head(text, "numerical ")
        analytic = f"{g.analytic:.7g}" if walk.done else "? (after the backward pass)"
        text.append(f"h = {h:g}: central {g.central:.7g}, forward {g.forward:.7g}; "
                    f"analytic {analytic}\n")
    _head(text, "tug       ")
    if node.name in fixed:
        text.append("fixed (data): a tug leaves it alone\n", style="dim")
    elif not walk.grad_final(i):
        text.append("needs the whole gradient (f to the end of the backward pass, or n)\n", style="dim")
    else:
        sign = "+" if direction == "increase" else "−"
        grad = walk.grad(i) or 0.0
        moved = node.value + (step if direction == "increase" else -step) * grad
        text.append(f"{node.name} {sign}= {step:g} × {p4(grad)}  → {n4(moved)}\n")
    text.rstrip()
    return text


def numerical_table(numerical: list[Numerical], h: float) -> Text:
    """Every input: value, analytic gradient, central and forward differences, their errors."""
    text = Text()
    text.append(f"Numerical vs analytic gradients, h = {h:g}\n", style="bold")
    text.append("central (f(x+h) − f(x−h))/2h · forward (f(x+h) − f(x))/h\n", style="dim")
    rows = [("input", "value", "analytic", "central", "forward", "rel.err")]
    rows += [(g.name, n4(g.value), f"{g.analytic:.7g}", f"{g.central:.7g}", f"{g.forward:.7g}",
              f"{g.error:.1e}") for g in numerical]
    widths = [max(len(r[k]) for r in rows) for k in range(6)]
    for n, r in enumerate(rows):
        line = "  ".join(x.ljust(w) if k == 0 else x.rjust(w) for k, (x, w) in enumerate(zip(r, widths)))
        text.append(line + ("\n" if n < len(rows) - 1 else ""), style="bold" if n == 0 else "")
    return text


def compare_text(runs: list[MethodRun], step: float) -> Text:
    """Random local search vs numerical vs analytic: evaluations and where each got."""
    steps = max((len(r.outputs) for r in runs), default=0)
    text = Text()
    text.append(f"{steps} steps of {step:g} from the current inputs\n", style="bold")
    text.append("evaluations of the circuit (a backward pass counts as one)\n", style="dim")
    width = max(len(r.label) for r in runs)
    for r in runs:
        last = r.outputs[-1] if r.outputs else None
        text.append(f"{r.label.ljust(width)}  ")
        text.append(f"{r.evaluations:>6} evals", style="bold")
        text.append(f" ({r.per_step}/step) → {n4(last)}\n")
    text.rstrip()
    return text
