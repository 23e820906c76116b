"""Circuit expressions (the safe parser) and circuit scenario files: what is accepted, what is
refused, and that every problem is reported at once with its key path, line and column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nnsim.circuits import ExpressionError, parse_expression
from nnsim.circuits.parse import MAX_EXPRESSION_CHARS, MAX_GATES
from nnsim.scenarios import ScenarioError, load_scenario, loads_scenario
from nnsim.scenarios.circuit import (
    CircuitGoals,
    CircuitScenario,
    dump_circuit_scenario,
    is_circuit,
    scenario_kind,
)
from nnsim.scenarios.circuit_goals import circuit_goal_texts, evaluate_circuit_goals

GOOD = """
[scenario]
name = "Multiply, then add"
kind = "circuit"

[circuit]
expression = "(x * y) + z"

[circuit.inputs]
x = -2.0
y = 3.0
z = 4.0
"""


def refused(expr: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse_expression(expr)
    return info.value


# -- the parser --------------------------------------------------------------------------------
def test_parses_gates_in_forward_order() -> None:
    p = parse_expression("(x * y) + z")
    assert [(g.name, g.op, g.inputs) for g in p.gates] == [("mul1", "mul", ("x", "y")),
                                                           ("add1", "add", ("mul1", "z"))]
    assert p.names == {"x": 2, "y": 6, "z": 11}


def test_every_function_and_operator() -> None:
    p = parse_expression("max(x, y) - min(x, 2) / exp(-x) + log(abs(x)) * sigmoid(x) ** 2 "
                         "+ tanh(relu(-y))")
    assert {g.op for g in p.gates} == {"max", "min", "sub", "div", "exp", "neg", "add", "log", "abs",
                                       "mul", "sigmoid", "pow", "tanh", "relu"}


def test_unary_minus_on_a_number_is_a_constant() -> None:
    assert [(g.op, g.inputs) for g in parse_expression("-2 * x").gates] == [("mul", (-2.0, "x"))]
    assert [(g.op, g.inputs) for g in parse_expression("x ** -1").gates] == [("pow", ("x", -1.0))]
    assert [(g.op, g.inputs) for g in parse_expression("+x - -x").gates] == [("neg", ("x",)),
                                                                              ("sub", ("x", "neg1"))]


def test_gate_names_skip_input_names() -> None:
    p = parse_expression("mul1 * y")
    assert p.gates[0].name == "mul2"


@pytest.mark.parametrize("expr,fragment,column", [
    ("x + foo(y)", "unknown function 'foo'", 5),
    ("sin(x)", "did you mean 'min'", 1),
    ("__import__('os')", "unknown function '__import__'", 1),
    ("__import__('os').system('touch /tmp/nnsim-pwned')", "attribute access", 17),
    ("x.real", "attribute access", 2),
    ("os.system('ls')", "attribute access", 3),
    ("lambda: x", "lambda is not allowed", 1),
    ("(lambda q: q)(x)", "only the functions", 2),
    ("x ** 1000", "exponent 1000 is too large", 6),
    ("x ** -11", "exponent -11 is too large", 6),
    ("x ** y", "exponent of ** must be a number", 6),
    ("max(x)", "max() takes 2 arguments, got 1", 1),
    ("x + max(x, y, x)", "max() takes 2 arguments, got 3", 5),
    ("exp(x, y)", "exp() takes 1 argument, got 2", 1),
    ("relu(x=1)", "no keyword arguments", 1),
    ("x // y", "operator '//'", 3),
    ("x % y", "operator '%'", 3),
    ("x < y", "comparisons", 1),
    ("x and y", "'and' / 'or'", 1),
    ("x if y else 1", "'... if ... else ...'", 1),
    ("'a' + x", "a string is not a number", 1),
    ("True * x", "True is not a number", 1),
    ("x[0]", "indexing", 1),
    ("[x, y]", "lists are not allowed", 1),
    ("x, y", "tuples are not allowed", 1),
    ("x + exp", "'exp' is a function", 5),
    ("_secret * 2", "names start with a letter", 1),
    ("é * 2", "names use the letters", 1),
    ("x + (y", "'(' was never closed", 5),
    ("  x +* y", "invalid syntax", 6),
    ("x", "no gate", 1),
    ("   ", "empty", 1),
    ("not x", "'not'", 1),
])
def test_refusals_name_the_column(expr: str, fragment: str, column: int) -> None:
    err = refused(expr)
    assert fragment in err.message, err.message
    assert err.column == column, (expr, err.column)
    assert f"(column {column} of the expression)" in str(err)


def test_nothing_in_the_text_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for expr in (f"__import__('os').system('touch {marker}')", f"open('{marker}', 'w')",
                 f"exec(\"open('{marker}', 'w')\")"):
        refused(expr)
    assert not marker.exists()
    source = Path(parse_expression.__code__.co_filename).read_text(encoding="utf-8")
    assert not re.search(r"(?<![.\w])(eval|exec|compile)\(", source)    # ast.parse only


def test_limits() -> None:
    assert "longer than" in refused("x+" * (MAX_EXPRESSION_CHARS // 2) + "x").message
    assert "more than" in refused("+".join(["x"] * (MAX_GATES + 2))).message
    assert "nested too deeply" in refused("-" * 900 + "x").message
    assert len(parse_expression("+".join(["x"] * (MAX_GATES + 1))).gates) == MAX_GATES


# -- scenario files -----------------------------------------------------------------------------
def test_good_file_loads_as_a_circuit_scenario(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(GOOD, encoding="utf-8")
    s = load_scenario(path)
    assert isinstance(s, CircuitScenario) and is_circuit(s) and s.source_path == path
    assert s.circuit.inputs == {"x": -2.0, "y": 3.0, "z": 4.0}
    assert (s.circuit.h, s.circuit.step_size, s.circuit.direction, s.circuit.steps) == (
        1e-5, 0.01, "increase", 10)
    assert s.goals.is_empty() and s.view.stage == "start"
    assert scenario_kind(path) == "circuit"
    assert loads_scenario(dump_circuit_scenario(s)) == s


def test_kind_network_is_the_default(tmp_path: Path) -> None:
    network = (Path(__file__).parent / "data" / "cli" / "three_four_two.toml").read_text(encoding="utf-8")
    plain = loads_scenario(network)
    explicit = loads_scenario(network.replace("[scenario]\n", '[scenario]\nkind = "network"\n', 1))
    assert not is_circuit(plain) and explicit == plain
    path = tmp_path / "n.toml"
    path.write_text(network, encoding="utf-8")
    assert scenario_kind(path) == "network"
    assert scenario_kind(tmp_path / "missing.toml") == "network"


def problems(text: str) -> list:
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text, source="c.toml")
    return info.value.problems


def test_every_problem_at_once_with_paths_and_lines() -> None:
    text = """[scenario]
name = "Bad"
kind = "circuit"
seed = -1

[circuit]
expression = "(x * foo(y)) + z"
step_size = -1
direction = "up"
colour = 3

[circuit.inputs]
x = -2.0
y = "three"
_z = 4.0

[goals]
within_steps = 3

[data]
dataset = "xor"
"""
    found = {p.path: p for p in problems(text)}
    assert set(found) == {"scenario.seed", "circuit.expression", "circuit.step_size", "circuit.direction",
                          "circuit.colour", "circuit.inputs.y", "circuit.inputs._z", "goals.within_steps",
                          "data"}
    lines = {path: p.line for path, p in found.items()}
    assert lines == {"scenario.seed": 4, "circuit.expression": 7, "circuit.step_size": 8,
                     "circuit.direction": 9, "circuit.colour": 10, "circuit.inputs.y": 14,
                     "circuit.inputs._z": 15, "goals.within_steps": 18, "data": 20}
    assert "unknown function 'foo'" in found["circuit.expression"].message
    assert "column 6 of the expression" in found["circuit.expression"].message
    assert "must be a number" in found["circuit.inputs.y"].message
    assert "not a valid name" in found["circuit.inputs._z"].message
    assert "valid keys" in found["circuit.colour"].message
    assert "do not apply to circuits" in found["data"].message
    assert str(found["circuit.expression"]).startswith('c.toml:7: circuit.expression = "(x * foo(y)) + z": ')


def test_names_inputs_and_values_are_cross_checked() -> None:
    text = (GOOD.replace("(x * y) + z", "log(x) + w * y")
            .replace("[circuit.inputs]", "[circuit.inputs]\nq = 1.0"))
    found = {p.path: p.message for p in problems(text)}
    assert "unknown input 'w' (column 10 of the expression)" in found["circuit.expression"]
    assert found["circuit.inputs.q"] == "input 'q' is not used by the expression"
    assert "circuit.inputs.z" in found
    (nan,) = problems(GOOD.replace("(x * y) + z", "log(x) * y + z"))
    assert nan.path == "circuit.inputs" and "log1 = log(x)" in nan.message and "x = -2" in nan.message


def test_kinds_and_the_circuit_table() -> None:
    (p,) = problems(GOOD.replace('kind = "circuit"', 'kind = "circut"'))
    assert p.path == "scenario.kind" and "did you mean 'circuit'" in p.message and p.line == 4
    (p,) = problems(GOOD.replace('kind = "circuit"\n', ""))
    assert p.path == "scenario.kind" and 'kind = "circuit"' in p.message
    (p,) = problems(GOOD.replace('expression = "(x * y) + z"\n', ""))
    assert p.path == "circuit.expression" and "required" in p.message


NODES = """
[scenario]
name = "Nodes"
kind = "circuit"

[circuit.inputs]
x = 2.0
y = 3.0

[[circuit.nodes]]
name = "q"
op = "mul"
inputs = ["x", "y"]

[[circuit.nodes]]
name = "f"
op = "pow"
inputs = ["q", 2]
"""


def test_nodes_mode_builds_the_named_gates() -> None:
    s = loads_scenario(NODES)
    c = s.build()
    assert [n.name for n in c.nodes] == ["x", "y", "q", "f"]
    assert c.forward() == 36.0
    c.backward()
    assert c.grads() == {"x": 2 * 6 * 3, "y": 2 * 6 * 2}
    assert loads_scenario(dump_circuit_scenario(s)) == s


@pytest.mark.parametrize("edit,path,fragment", [
    (lambda t: t.replace('op = "mul"', 'op = "mull"'), "circuit.nodes[0].op", "did you mean 'mul'"),
    (lambda t: t.replace('inputs = ["x", "y"]', 'inputs = ["x", "f"]'), "circuit.nodes[0].inputs[1]",
     "listed at or below this one"),
    (lambda t: t.replace('inputs = ["x", "y"]', 'inputs = ["x", "w"]'), "circuit.nodes[0].inputs[1]",
     "no input or earlier node is called 'w'"),
    (lambda t: t.replace('inputs = ["q", 2]', 'inputs = ["q", "x"]'), "circuit.nodes[1].inputs[1]",
     "exponent of pow must be a number"),
    (lambda t: t.replace('inputs = ["q", 2]', 'inputs = ["q", 40]'), "circuit.nodes[1].inputs[1]",
     "between -10 and 10"),
    (lambda t: t.replace('name = "f"', 'name = "q"'), "circuit.nodes[1].name", "used by node 1 already"),
    (lambda t: t.replace('name = "f"', 'name = "x"'), "circuit.nodes[1].name", "an input's"),
    (lambda t: t.replace('inputs = ["x", "y"]', 'inputs = ["x"]'), "circuit.nodes[0].inputs",
     "mul takes 2 inputs"),
    (lambda t: t.replace('inputs = ["x", "y"]', 'inputs = ["x", "y", 1]'), "circuit.nodes[0].inputs",
     "1 or 2 entries"),
    (lambda t: t.replace('inputs = ["q", 2]', 'inputs = ["x", 2]'), "circuit.nodes[0].name",
     "nothing reads this node"),
    (lambda t: t + '\n[circuit]\nexpression = "x * y"\n', "circuit.nodes", "not both"),
])
def test_nodes_mode_refusals(edit, path: str, fragment: str) -> None:
    found = problems(edit(NODES))
    assert any(p.path == path and fragment in p.message for p in found), [str(p) for p in found]
    assert all(p.line is not None for p in found)


def test_settings_goals_and_view_checks() -> None:
    text = GOOD + '\n[goals]\noutput_at_least = 5.0\noutput_at_most = 1.0\nwithin_steps = 50\n' \
                  '\n[view]\nselected = "mul"\n'
    found = {p.path: p.message for p in problems(text)}
    assert "above output_at_most" in found["goals.output_at_least"]
    assert "more than circuit.steps (10)" in found["goals.within_steps"]
    assert "did you mean 'mul1'" in found["view.selected"]
    fixed = GOOD.replace("[circuit.inputs]", 'fixed = ["w"]\n[circuit.inputs]')
    found = {p.path: p.message for p in problems(fixed)}
    assert "'w' is not an input" in found["circuit.fixed[0]"]


# -- goals ----------------------------------------------------------------------------------------
def test_goal_rules() -> None:
    reach = CircuitGoals(output_at_least=0.0, within_steps=3)
    assert circuit_goal_texts(reach) == [("output", "output ≥ 0 within 3 steps")]
    (r,) = evaluate_circuit_goals(reach, [-2.0, -1.0, 0.5, -0.2, 2.0])
    assert r.met and r.detail == "0.5 at step 2"
    (r,) = evaluate_circuit_goals(reach, [-2.0, -1.0, -0.5, -0.2, 2.0])   # 2.0 comes at step 4: too late
    assert not r.met and r.detail == "-0.2 at step 3"
    final = CircuitGoals(output_at_most=-1.0)
    assert [r.met for r in evaluate_circuit_goals(final, [-5.0, -2.0, 0.0])] == [False]   # judged on the last
    band = CircuitGoals(output_at_least=1.0, output_at_most=2.0, gradcheck_below=1e-6)
    results = evaluate_circuit_goals(band, [1.5], gradcheck_error=1e-3)
    assert [r.met for r in results] == [True, False] and results[1].detail == "largest 1.00e-03"
    assert not evaluate_circuit_goals(CircuitGoals(output_at_least=0.0), [float("nan")])[0].met
