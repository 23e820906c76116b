"""Load a circuit scenario: every table validated, then the gates checked, every problem at once.

The loader (`loader.loads_scenario`) hands a parsed document here when its [scenario] says
`kind = "circuit"` (or has a [circuit] table). Problems carry the key path and line, and for the
expression the column where it goes wrong.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from nnsim.circuits import FUNCTIONS, OPS, Circuit, ExpressionError, GateSpec, parse_expression
from nnsim.circuits.parse import MAX_EXPONENT, NAME

from .circuit import (
    CIRCUIT_SECTIONS,
    KINDS,
    CircuitGoals,
    CircuitNode,
    CircuitScenario,
    CircuitSpec,
    CircuitView,
    document_kind,
)
from .lines import find_line, key_lines
from .problems import MISSING, Problem, ScenarioError
from .translate import error_to_problem, toml_type, validate_table

_NEEDS = "a circuit scenario needs [scenario] (with kind = \"circuit\") and [circuit]"


def load_circuit_doc(doc: dict[str, Any], text: str, source: str = "<string>",
                     source_path: Path | None = None) -> CircuitScenario:
    """Validate a parsed circuit document; raises ScenarioError listing every problem."""
    try:
        lines = key_lines(text)
    except Exception:  # noqa: BLE001 - line numbers are a courtesy; never fail because of them
        lines = {}
    problems = _kind_problems(doc)
    tables: dict[str, Any] = {}
    if not problems:
        problems, tables = _validate(doc)
    if not problems:
        try:
            return CircuitScenario(**tables, source_path=source_path)
        except ValidationError as exc:  # should not happen: every table validated
            problems = [error_to_problem(CircuitScenario, e, "", "the file") for e in exc.errors(include_url=False)]
    located = [replace(p, file=source, line=find_line(lines, p.path) if p.path else p.line) for p in problems]
    located.sort(key=lambda p: (p.line is None, p.line or 0))
    raise ScenarioError(located)


def _kind_problems(doc: dict[str, Any]) -> list[Problem]:
    kind = document_kind(doc)
    if kind is None:
        return [Problem("", "scenario.kind" if "scenario" in doc else "circuit", MISSING,
                        'a file with a [circuit] table is a circuit scenario: write kind = "circuit" '
                        "in [scenario]")]
    if kind == "circuit":
        return []
    if not isinstance(kind, str):
        return [Problem("", "scenario.kind", kind, f"must be one of {', '.join(map(repr, KINDS))}")]
    close = difflib.get_close_matches(kind, list(KINDS), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return [Problem("", "scenario.kind", kind, f"unknown kind; {hint}valid kinds: {', '.join(KINDS)}")]


def _validate(doc: dict[str, Any]) -> tuple[list[Problem], dict[str, Any]]:
    problems: list[Problem] = []
    tables: dict[str, Any] = {}
    for key, value in doc.items():
        if key not in CIRCUIT_SECTIONS:
            close = difflib.get_close_matches(key, list(CIRCUIT_SECTIONS), n=1)
            hint = f"did you mean [{close[0]}]?" if close else f"valid tables: {', '.join(CIRCUIT_SECTIONS)}"
            network = " (network tables such as [data] and [[layers]] do not apply to circuits)" \
                if key in ("data", "layers", "training") else ""
            what = f"unknown table [{key}]" if isinstance(value, (dict, list)) else f"unknown top-level key {key!r}"
            problems.append(Problem("", key, MISSING if isinstance(value, (dict, list)) else value,
                                    f"{what} in a circuit scenario{network}; {hint}"))
    for name in ("scenario", "circuit"):
        if name not in doc:
            problems.append(Problem("", name, MISSING, f"required table [{name}] is missing; {_NEEDS}"))
    bad: set[str] = set()
    for name, model in CIRCUIT_SECTIONS.items():
        if name not in doc:
            continue
        if name == "circuit":
            table, found, bad_circuit = _validate_circuit(doc[name])
            bad |= bad_circuit
        else:
            table, found, bad_keys = validate_table(model, doc[name], name, f"[{name}]")
            bad |= {f"{name}.{k}" if k else name for k in bad_keys}
        problems += found
        if table is not None:
            tables[name] = table
    tables.setdefault("goals", CircuitGoals())
    tables.setdefault("view", CircuitView())
    if "circuit" in tables:
        problems += check_circuit(tables["circuit"], tables["goals"], tables["view"], bad)
    return problems, tables


def _validate_circuit(raw: Any) -> tuple[CircuitSpec | None, list[Problem], set[str]]:
    """[circuit], with each input and each [[circuit.nodes]] table checked on its own, so that
    every bad one is reported with its own key path (and the good ones still cross-checked)."""
    if not isinstance(raw, dict):
        model, found, keys = validate_table(CircuitSpec, raw, "circuit", "[circuit]")
        return model, found, {f"circuit.{k}" if k else "circuit" for k in keys}  # type: ignore[return-value]
    problems: list[Problem] = []
    bad: set[str] = set()
    clean = dict(raw)
    mine: set[str] = set()                    # keys whose entries were checked here
    if isinstance(raw.get("inputs"), dict):
        good = {}
        for name, value in raw["inputs"].items():
            found = _input_problem(name, value)
            if found:
                problems.append(found)
            else:
                good[name] = value
        if len(good) < len(raw["inputs"]):
            bad.add("circuit.inputs")
            mine.add("circuit.inputs")
        clean["inputs"] = good
    nodes = raw.get("nodes")
    if isinstance(nodes, list) and nodes and all(isinstance(n, dict) for n in nodes):
        kept = []
        for i, entry in enumerate(nodes):
            _, found, _ = validate_table(CircuitNode, entry, f"circuit.nodes[{i}]", f"circuit.nodes[{i}]")
            problems += found
            if not found:
                kept.append(entry)
        if len(kept) < len(nodes):
            bad.add("circuit.nodes")
            mine.add("circuit.nodes")
            clean["nodes"] = kept or None
            if not kept:
                del clean["nodes"]
    model, found, keys = validate_table(CircuitSpec, clean, "circuit", "[circuit]")
    problems += [p for p in found if not p.path.startswith(tuple(mine))]
    bad |= {f"circuit.{k}" if k else "circuit" for k in keys}
    return model, problems, bad  # type: ignore[return-value]


def _input_problem(name: str, value: Any) -> Problem | None:
    path = f"circuit.inputs.{name}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        got = toml_type(value)
        return Problem("", path, value, f"must be a number (the input's value); got {got}")
    if not math.isfinite(value):
        return Problem("", path, value, "must be a finite number")
    return _name_problem(path, name, "input", value)


def _name_problem(path: str, name: str, what: str, value: Any = None) -> Problem | None:
    shown = name if value is None else value
    if name in FUNCTIONS or name in OPS:
        return Problem("", path, shown, f"{what} {name!r} is the name of a function or op; choose another")
    if not NAME.fullmatch(name):
        return Problem("", path, shown, f"{what} {name!r} is not a valid name: a letter (A-Z, a-z), then "
                                        "letters, digits or _")
    return None


def check_circuit(spec: CircuitSpec, goals: CircuitGoals, view: CircuitView,
                  bad: set[str] = frozenset()) -> list[Problem]:  # type: ignore[assignment]
    """Cross-checks on a [circuit] table that validated (keys in `bad` were refused and skipped)."""
    out: list[Problem] = []
    inputs_ok = "circuit.inputs" not in bad
    inputs = dict(spec.inputs)
    has_expr, has_nodes = spec.expression is not None, spec.nodes is not None
    if has_expr and has_nodes:
        return out + [Problem("", "circuit.nodes", MISSING, "give either an expression or "
                              "[[circuit.nodes]], not both")]
    if not has_expr and not has_nodes:
        if "circuit.expression" in bad or "circuit.nodes" in bad:
            return out
        return out + [Problem("", "circuit.expression", MISSING, "required: an expression such as "
                              "\"(x * y) + z\", or [[circuit.nodes]] tables (name, op, inputs)")]
    gates: list[GateSpec] | None = None
    if has_expr:
        gates, problems = _expression_gates(spec.expression or "", inputs, inputs_ok)
        out += problems
    elif "circuit.nodes" not in bad:
        gates, problems = _node_gates(spec, inputs, inputs_ok)
        out += problems
    for k, name in enumerate(spec.fixed):
        if inputs_ok and name not in inputs:
            out.append(Problem("", f"circuit.fixed[{k}]", name, f"{name!r} is not an input; inputs: "
                                                                 f"{', '.join(inputs)}"))
    out += _goal_problems(spec, goals)
    if gates is None or not inputs_ok:
        return out
    names = list(inputs) + [g.name for g in gates]
    if view.selected is not None and view.selected not in names:
        close = difflib.get_close_matches(view.selected, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        out.append(Problem("", "view.selected", view.selected,
                           f"no input or gate has this name; {hint}names: {', '.join(names)}"))
    if not out:
        out += _finite(Circuit.build(inputs, gates))
    return out


def _expression_gates(expr: str, inputs: dict[str, float],
                      inputs_ok: bool) -> tuple[list[GateSpec] | None, list[Problem]]:
    try:
        parsed = parse_expression(expr)
    except ExpressionError as exc:
        return None, [Problem("", "circuit.expression", expr, str(exc))]
    out: list[Problem] = []
    if not inputs_ok:                       # a bad input was reported; names would cascade
        return None, out
    for name, column in parsed.names.items():
        if name not in inputs:
            close = difflib.get_close_matches(name, list(inputs), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            out.append(Problem("", "circuit.expression", expr,
                               f"unknown input {name!r} (column {column} of the expression); {hint}"
                               f"give its value in [circuit.inputs] (there: {', '.join(inputs)})"))
    for name in inputs:
        if name not in parsed.names:
            out.append(Problem("", f"circuit.inputs.{name}", inputs[name],
                               f"input {name!r} is not used by the expression"))
    return (None if out else parsed.gates), out


def _node_gates(spec: CircuitSpec, inputs: dict[str, float],
               inputs_ok: bool) -> tuple[list[GateSpec] | None, list[Problem]]:
    out: list[Problem] = []
    nodes = spec.nodes or []
    defined: dict[str, int] = {}
    later = {n.name: i for i, n in enumerate(nodes)}
    for i, node in enumerate(nodes):
        path = f"circuit.nodes[{i}]"
        p = _name_problem(f"{path}.name", node.name, "node")
        if p:
            out.append(p)
        elif node.name in inputs:
            out.append(Problem("", f"{path}.name", node.name, "this name is an input's; give the node "
                                                              "its own name"))
        elif node.name in defined:
            out.append(Problem("", f"{path}.name", node.name, f"the name is used by node "
                                                              f"{defined[node.name] + 1} already"))
        op = OPS[node.op]
        if len(node.inputs) != op.arity:
            out.append(Problem("", f"{path}.inputs", node.inputs,
                               f"{op.name} takes {op.arity} input{'s' if op.arity > 1 else ''}, "
                               f"got {len(node.inputs)}"))
        for k, ref in enumerate(node.inputs):
            where = f"{path}.inputs[{k}]"
            if op.const_last and k == op.arity - 1:
                if isinstance(ref, str):
                    out.append(Problem("", where, ref, "the exponent of pow must be a number, such as 2"))
                elif abs(ref) > MAX_EXPONENT:
                    out.append(Problem("", where, ref, f"the exponent must be between -{MAX_EXPONENT} "
                                                       f"and {MAX_EXPONENT}"))
            elif isinstance(ref, str) and ref not in inputs and ref not in defined and inputs_ok:
                if ref in later and later[ref] >= i:
                    msg = (f"node {ref!r} is listed at or below this one; list each node after the "
                           "nodes it reads")
                else:
                    close = difflib.get_close_matches(ref, list(inputs) + list(defined), n=1)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    msg = f"no input or earlier node is called {ref!r}; {hint}inputs: {', '.join(inputs)}"
                out.append(Problem("", where, ref, msg))
        defined.setdefault(node.name, i)
    if out or not inputs_ok:
        return None, out
    used = {r for n in nodes for r in n.inputs if isinstance(r, str)}
    for i, node in enumerate(nodes[:-1]):
        if node.name not in used:
            out.append(Problem("", f"circuit.nodes[{i}].name", node.name,
                               "nothing reads this node; the output is the last node, and every other "
                               "node must feed a later one"))
    for name in inputs:
        if name not in used:
            out.append(Problem("", f"circuit.inputs.{name}", inputs[name], f"no node reads input {name!r}"))
    return (None if out else spec.gate_specs()), out


def _finite(circuit: Circuit) -> list[Problem]:
    """The forward and backward pass at the file's inputs must give finite numbers."""
    circuit.forward()
    i = circuit.first_non_finite()
    if i is None:
        circuit.backward()
        bad = next((n for n in circuit.nodes if not math.isfinite(n.grad)), None)
        if bad is None:
            return []
        return [Problem("", "circuit.inputs", MISSING,
                        f"at these inputs the gradient of {bad.name} is not finite ({bad.grad}); "
                        "choose inputs where every gate has a derivative")]
    args = ", ".join(f"{a} = {v:g}" for a, v in zip(circuit.arg_names(i), circuit.arg_values(i)))
    node = circuit.nodes[i]
    return [Problem("", "circuit.inputs", MISSING,
                    f"at these inputs gate {node.name} = {circuit.formula(i)} is {node.value} "
                    f"({args}); choose inputs where every gate is defined")]


def _goal_problems(spec: CircuitSpec, goals: CircuitGoals) -> list[Problem]:
    out = []
    lo, hi = goals.output_at_least, goals.output_at_most
    if lo is not None and hi is not None and lo > hi:
        out.append(Problem("", "goals.output_at_least", lo, f"is above output_at_most ({hi:g}); no "
                                                            "output can meet both"))
    if goals.within_steps is not None:
        if lo is None and hi is None:
            out.append(Problem("", "goals.within_steps", goals.within_steps,
                               "applies to output_at_least / output_at_most; set one of them"))
        elif goals.within_steps > spec.steps:
            out.append(Problem("", "goals.within_steps", goals.within_steps,
                               f"is more than circuit.steps ({spec.steps}), the steps `nnsim run` takes; "
                               "raise circuit.steps"))
    if spec.fixed and len(set(spec.fixed)) == len(spec.inputs) and (lo is not None or hi is not None):
        out.append(Problem("", "circuit.fixed", spec.fixed, "every input is fixed: a tug changes nothing"))
    return out

