"""`nnsim check | run | gradcheck` on a circuit scenario (`kind = "circuit"`).

check: validate, then the circuit drawn as text at the file's inputs. run: one line per node in
topological order (name, op, inputs, value, gradient), each input's numerical gradient, then
`--steps N` tug steps (output per step) and the goals; `--history h.json` writes the first and
the final state; `--compare` races random local search, the numerical and the analytic gradient.
User text is printed as text (never as markup), without control characters.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from nnsim.atomic import atomic_write_text
from nnsim.circuits import Circuit, compare, numerical_gradients, tug
from nnsim.circuits.draw import draw_text
from nnsim.scenarios import load_scenario
from nnsim.scenarios.circuit import CircuitScenario, is_circuit
from nnsim.scenarios.circuit_goals import circuit_goal_texts, evaluate_circuit_goals
from nnsim.scenarios.goals import GoalResult
from nnsim.textsafe import clean_line

from .common import EXIT_FAILED, EXIT_OK, UsageError, check_output_path, mark, stdout_console


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"


def _load(path: Path) -> CircuitScenario:
    scenario = load_scenario(path)
    assert is_circuit(scenario)
    return scenario  # type: ignore[return-value]


def _title(console: Console, scenario: CircuitScenario, path: Path) -> None:
    console.print(Text(f"{clean_line(scenario.meta.name)} ({clean_line(str(path))})", style="bold"))


def _where(spec) -> str:
    if spec.expression is not None:
        return "expression: " + clean_line(spec.expression)
    return f"nodes: {len(spec.nodes or [])} gates given one by one ([[circuit.nodes]])"


# -- check ---------------------------------------------------------------------------------------
def check_command(args: argparse.Namespace) -> int:
    from nnsim.scenarios.library import first_sentence
    console = stdout_console()
    path = Path(args.file)
    scenario = _load(path)
    spec = scenario.circuit
    c = scenario.build()
    c.forward()
    c.backward()
    console.print(Text(f"{clean_line(str(path))}: valid circuit scenario", style="green"))
    console.print(Text(f'Circuit: "{clean_line(scenario.meta.name)}"', style="bold"))
    if scenario.meta.description.strip():
        console.print(Text(clean_line(first_sentence(scenario.meta.description, limit=200)), style="italic"))
    console.print(Text(_where(spec)))
    inputs = ", ".join(f"{k} = {v:g}" for k, v in spec.inputs.items())
    console.print(Text(f"inputs: {inputs}" + (f" (fixed: {', '.join(spec.fixed)})" if spec.fixed else "")))
    counts: dict[str, int] = {}
    for i in c.gates:
        counts[c.nodes[i].op] = counts.get(c.nodes[i].op, 0) + 1
    ops = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    console.print(Text(f"gates: {len(c.gates)} ({ops}); output: {c.output.name} = {_fmt(c.output.value)}"))
    console.print()
    for line in draw_text(c):
        console.print(Text(line))
    console.print()
    console.print(Text("Settings", style="bold"))
    console.print(Text(f"  numerical gradient h = {spec.h:g}; tug step {spec.step_size:g} to {spec.direction} "
                       f"the output; nnsim run takes {spec.steps} steps; random search tries "
                       f"{spec.search_tries} nudges per step; seed {scenario.meta.seed}"))
    console.print(Text("Goals", style="bold"))
    for line in [f"  - {t}" for _, t in circuit_goal_texts(scenario.goals)] or ["  none"]:
        console.print(Text(line))
    return EXIT_OK


# -- run -----------------------------------------------------------------------------------------
def _num(value: float) -> float | None:
    """JSON has no NaN/Inf: those become null."""
    return float(value) if math.isfinite(value) else None


def node_lines(c: Circuit) -> list[str]:
    """One line per node in topological order: name, op, inputs, value, gradient."""
    rows = [("name", "op", "inputs", "value", "grad")]
    for i, n in enumerate(c.nodes):
        rows.append((n.name, n.op, ", ".join(c.arg_names(i)) or "-", _fmt(n.value), _fmt(n.grad)))
    widths = [max(len(r[k]) for r in rows) for k in range(5)]
    return ["  ".join(cell.ljust(w) if k < 3 else cell.rjust(w) for k, (cell, w) in enumerate(zip(r, widths)))
            .rstrip() for r in rows]


def state(c: Circuit, h: float, steps: list[float]) -> dict[str, Any]:
    """The history file's record of one state (computes forward, backward and the differences)."""
    numerical = {g.name: g.central for g in numerical_gradients(c, h)}
    nodes = [{"name": n.name, "op": n.op, "inputs": c.arg_refs(i), "value": _num(n.value), "grad": _num(n.grad)}
             for i, n in enumerate(c.nodes)]
    inputs = {n.name: {"value": _num(n.value), "grad": _num(n.grad), "numerical": _num(numerical[n.name])}
              for n in c.inputs}
    return {"nodes": nodes, "inputs": inputs, "steps": [_num(s) for s in steps]}


def run_command(args: argparse.Namespace) -> int:
    console = stdout_console()
    path = Path(args.file)
    history = Path(args.history) if args.history else None
    if history is not None:
        if history.suffix.lower() != ".json":
            raise UsageError(f"--history {history}: a circuit's history is JSON; the file name must end in .json")
        check_output_path(history, "history file")
    scenario = _load(path)
    spec = scenario.circuit
    h = args.h if args.h is not None else spec.h
    step = args.step_size if args.step_size is not None else spec.step_size
    steps = args.steps if args.steps is not None else spec.steps
    c = scenario.build()
    _title(console, scenario, path)
    console.print(Text(_where(spec)))
    initial = state(c, h, [])
    if not args.quiet:
        console.print(Text("Forward, then backward (nodes in topological order; grad = d output / d node):"))
        for line in node_lines(c):
            console.print(Text("  " + line))
        console.print(Text(f"Numerical gradients, h = {h:g} (central: (f(x + h) − f(x − h)) / 2h; "
                           "forward: (f(x + h) − f(x)) / h):"))
        grads = numerical_gradients(c, h)
        rows = [("input", "value", "analytic", "central", "forward", "rel. error")]
        rows += [(g.name, _fmt(g.value), _fmt(g.analytic), _fmt(g.central), _fmt(g.forward), f"{g.error:.1e}")
                 for g in grads]
        widths = [max(len(r[k]) for r in rows) for k in range(6)]
        for r in rows:
            console.print(Text("  " + "  ".join(x.ljust(w) if k == 0 else x.rjust(w)
                                                for k, (x, w) in enumerate(zip(r, widths)))))
    gradcheck = max((g.error for g in numerical_gradients(c, h)), default=0.0)
    outputs = [c.output.value]
    broke = None
    if steps:
        fixed = f" (fixed: {', '.join(spec.fixed)})" if spec.fixed else ""
        console.print(Text(f"Tug: {steps} step{'s' if steps != 1 else ''} of {step:g} × gradient, to "
                           f"{spec.direction} the output{fixed}; output at step 0: {_fmt(outputs[0])}"))
    for k in range(1, steps + 1):
        out = tug(c, step, spec.direction, spec.fixed)
        outputs.append(out)
        if not args.quiet:
            console.print(Text(f"  step {k}: output {_fmt(out)} ({'+' if out >= outputs[-2] else ''}"
                               f"{_fmt(out - outputs[-2])})"))
        if not c.is_finite():
            broke = k
            break
    if steps and args.quiet:
        console.print(Text(f"  after step {len(outputs) - 1}: output {_fmt(outputs[-1])}"))
    if broke is not None:
        console.print(Text(f"Stopped: after step {broke} a value is no longer finite (gate "
                           f"{c.nodes[c.first_non_finite() or 0].name}); try a smaller --step-size.",
                           style="bold red"))
    if args.compare:
        seed = scenario.meta.seed if args.seed is None else args.seed
        _print_compare(console, scenario, steps or 10, step, h, seed)
    if history is not None:
        doc = state(c, h, outputs[1:]) if broke is None else _partial(c, outputs[1:])
        doc["initial"] = initial
        atomic_write_text(history, json.dumps(doc, indent=1, allow_nan=False) + "\n")
        console.print(Text(f"History written to {clean_line(str(history))} (initial and final state, "
                           f"{len(outputs) - 1} steps)."))
    results = evaluate_circuit_goals(scenario.goals, outputs, gradcheck)
    if broke is not None and not results:
        return EXIT_FAILED
    return EXIT_OK if print_goals(console, results) else EXIT_FAILED


def _partial(c: Circuit, steps: list[float]) -> dict[str, Any]:
    """The final state when a value went non-finite: no numerical gradients (they would be nan)."""
    nodes = [{"name": n.name, "op": n.op, "inputs": c.arg_refs(i), "value": _num(n.value), "grad": _num(n.grad)}
             for i, n in enumerate(c.nodes)]
    inputs = {n.name: {"value": _num(n.value), "grad": _num(n.grad), "numerical": None} for n in c.inputs}
    return {"nodes": nodes, "inputs": inputs, "steps": [_num(s) for s in steps]}


def _print_compare(console: Console, scenario: CircuitScenario, steps: int, step: float, h: float,
                   seed: int) -> None:
    spec = scenario.circuit
    runs = compare(scenario.build(), steps, step, spec.search_tries, h, spec.direction, seed, spec.fixed)
    console.print(Text(f"Compare: {steps} steps of {step:g} from the file's inputs, evaluations of the "
                       "circuit counted (a backward pass counts as one):"))
    width = max(len(r.label) for r in runs)
    for r in runs:
        console.print(Text(f"  {r.label.ljust(width)}  {r.evaluations:>6} evaluations ({r.per_step} per step)"
                           f"  output after {len(r.outputs)} steps: {_fmt(r.outputs[-1] if r.outputs else None)}"))


def print_goals(console: Console, results: list[GoalResult]) -> bool:
    """Each goal with ✓ or ✗ and what was seen; returns whether all were met."""
    if not results:
        console.print("No goals set.")
        return True
    console.print("Goals:")
    for r in results:
        line = Text("  ")
        line.append(mark(r.met), style="bold green" if r.met else "bold red")
        line.append(f" {r.text}: {r.detail}")
        console.print(line)
    met = sum(r.met for r in results)
    if met == len(results):
        console.print("All goals met." if len(results) > 1 else "Goal met.")
        return True
    console.print(f"{met} of {len(results)} goals met.")
    return False


# -- gradcheck -----------------------------------------------------------------------------------
def gradcheck_command(args: argparse.Namespace, tolerance: float) -> int:
    console = stdout_console()
    path = Path(args.file)
    scenario = _load(path)
    h = scenario.circuit.h
    _title(console, scenario, path)
    console.print(Text(f"Gradient check at the file's inputs: central differences with h = {h:g}; "
                       f"pass when the relative error < {tolerance:g}."))
    failed = 0
    for g in numerical_gradients(scenario.build(), h):
        ok = g.error < tolerance
        failed += not ok
        line = Text(f"  {g.name}: analytic {_fmt(g.analytic)}, central {_fmt(g.central)}, "
                    f"relative error {g.error:.2e} ")
        line.append(f"{mark(ok)} {'pass' if ok else 'FAIL'}", style="green" if ok else "bold red")
        console.print(line)
    if failed:
        console.print(f"{failed} input(s) FAIL (a kink such as max, relu or abs at a tie?).")
        return EXIT_FAILED
    console.print("All inputs pass.")
    return EXIT_OK
