"""`nnsim check | run | gradcheck` on circuit scenarios: the drawing, one line per node, the
numerical gradients, tug steps, the --history JSON, the comparison, exit codes, user text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nnsim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
NETWORK = ROOT / "tests" / "data" / "cli" / "three_four_two.toml"

CIRCUIT = """
[scenario]
name = "Multiply, then add"
kind = "circuit"
description = "Two gates. What to do: press f."

[circuit]
expression = "(x * y) + z"
steps = 3

[circuit.inputs]
x = -2.0
y = 3.0
z = 4.0

[goals]
output_at_least = -1.7
within_steps = 3
"""


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def circuit_file(tmp_path: Path) -> Path:
    path = tmp_path / "circuit.toml"
    path.write_text(CIRCUIT, encoding="utf-8")
    return path


def hand_tugs(x: float, y: float, z: float, step: float, n: int) -> list[tuple[float, float, float, float]]:
    """(x, y, z, output) after each tug of f = x·y + z: ∂f/∂x = y, ∂f/∂y = x, ∂f/∂z = 1."""
    out = []
    for _ in range(n):
        x, y, z = x + step * y, y + step * x, z + step
        out.append((x, y, z, x * y + z))
    return out


def test_check_draws_the_circuit(capsys, circuit_file: Path) -> None:
    code, out, err = run_cli(capsys, "check", circuit_file)
    assert code == 0, err
    assert "valid circuit scenario" in out and 'Circuit: "Multiply, then add"' in out
    assert "expression: (x * y) + z" in out and "inputs: x = -2, y = 3, z = 4" in out
    assert "gates: 2 (add 1, mul 1); output: add1 = -2" in out
    for piece in ("╭mul1", "│× = -6", "╭add1", "│+ = -2", "▶"):
        assert piece in out
    assert "output ≥ -1.7 within 3 steps" in out


def test_run_prints_nodes_in_topological_order_then_numerical_gradients(capsys, circuit_file: Path) -> None:
    code, out, err = run_cli(capsys, "run", circuit_file)
    assert code == 0, err
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.split() == ["name", "op", "inputs", "value", "grad"])
    rows = [l.split() for l in lines[start + 1:start + 6]]
    assert rows == [["x", "input", "-", "-2", "3"], ["y", "input", "-", "3", "-2"],
                    ["z", "input", "-", "4", "1"], ["mul1", "mul", "x,", "y", "-6", "1"],
                    ["add1", "add", "mul1,", "z", "-2", "1"]]
    numeric = {l.split()[0]: l.split()[1:] for l in lines if l.strip().split()[:1] in (["x"], ["y"], ["z"])
               and len(l.split()) == 6}
    assert [float(v) for v in numeric["x"][1:4]] == pytest.approx([3.0, 3.0, 3.0], rel=1e-6)
    assert [float(v) for v in numeric["y"][1:4]] == pytest.approx([-2.0, -2.0, -2.0], rel=1e-6)
    expected = hand_tugs(-2.0, 3.0, 4.0, 0.01, 3)
    steps = [l for l in lines if l.strip().startswith("step ")]
    assert len(steps) == 3
    for line, (_, _, _, f) in zip(steps, expected):
        assert float(line.split("output ")[1].split()[0]) == pytest.approx(f, rel=1e-5)
    assert "✓ output ≥ -1.7 within 3 steps" in out or "OK output ≥ -1.7 within 3 steps" in out


def test_run_history_json(capsys, circuit_file: Path, tmp_path: Path) -> None:
    history = tmp_path / "h.json"
    code, out, err = run_cli(capsys, "run", circuit_file, "--steps", "5", "--step-size", "0.02",
                             "--history", history)
    assert code == 0, err
    doc = json.loads(history.read_text(encoding="utf-8"))
    assert set(doc) == {"nodes", "inputs", "steps", "initial"}
    assert set(doc["initial"]) == {"nodes", "inputs", "steps"} and doc["initial"]["steps"] == []
    for state in (doc, doc["initial"]):
        assert [n["name"] for n in state["nodes"]] == ["x", "y", "z", "mul1", "add1"]
        assert all(set(n) == {"name", "op", "inputs", "value", "grad"} for n in state["nodes"])
        assert set(state["inputs"]) == {"x", "y", "z"}
        assert all(set(v) == {"value", "grad", "numerical"} for v in state["inputs"].values())
    first = doc["initial"]
    assert first["nodes"][3] == {"name": "mul1", "op": "mul", "inputs": ["x", "y"], "value": -6.0,
                                 "grad": 1.0}
    assert first["inputs"]["x"]["value"] == -2.0 and first["inputs"]["x"]["grad"] == 3.0
    assert first["inputs"]["x"]["numerical"] == pytest.approx(3.0, rel=1e-8)
    expected = hand_tugs(-2.0, 3.0, 4.0, 0.02, 5)
    assert doc["steps"] == pytest.approx([f for *_, f in expected], rel=1e-12)
    x, y, z, f = expected[-1]
    assert doc["inputs"]["x"]["value"] == pytest.approx(x) and doc["inputs"]["x"]["grad"] == pytest.approx(y)
    assert doc["inputs"]["z"]["numerical"] == pytest.approx(1.0, rel=1e-8)
    assert doc["nodes"][-1]["value"] == pytest.approx(f)
    assert "History written" in out


def test_run_goals_not_met_exits_1(capsys, circuit_file: Path) -> None:
    code, out, _ = run_cli(capsys, "run", circuit_file, "--steps", "1")
    assert code == 1 and "0 of 1 goals met" in out


def test_run_compare_counts_evaluations(capsys, circuit_file: Path) -> None:
    code, out, _ = run_cli(capsys, "run", circuit_file, "--compare", "--quiet")
    assert code == 0
    rows = {line.split("  ")[1]: line for line in out.splitlines() if "evaluations (" in line}
    assert any("300 evaluations (100 per step)" in l for l in rows.values())      # 3 steps × 100 tries
    assert any("18 evaluations (6 per step)" in l for l in rows.values())         # 2 × 3 inputs
    assert any("6 evaluations (2 per step)" in l for l in rows.values())          # forward + backward
    assert "name  op" not in out                                                   # --quiet


def test_gradcheck_on_a_circuit(capsys, circuit_file: Path, tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "gradcheck", circuit_file)
    assert code == 0 and "All inputs pass" in out and out.count("pass") >= 3
    tie = tmp_path / "tie.toml"
    tie.write_text(CIRCUIT.replace("(x * y) + z", "max(x, y) + z").replace("y = 3.0", "y = -2.0"),
                   encoding="utf-8")
    code, out, _ = run_cli(capsys, "gradcheck", tie)                 # max at a tie: a kink
    assert code == 1 and "FAIL" in out


@pytest.mark.parametrize("argv,fragment", [
    (["run", "{circuit}", "--epochs", "3"], "--epochs does not apply to a circuit scenario"),
    (["run", "{circuit}", "--save", "c.npz"], "--save does not apply to a circuit scenario"),
    (["run", "{network}", "--steps", "3"], "--steps does not apply to a network scenario"),
    (["run", "{network}", "--compare"], "--compare does not apply to a network scenario"),
    (["run", "{circuit}", "--history", "h.csv"], "must end in .json"),
    (["run", "{circuit}", "--step-size", "-1"], "must be a number > 0"),
])
def test_usage_errors_exit_2(capsys, circuit_file: Path, argv: list[str], fragment: str) -> None:
    args = [a.format(circuit=circuit_file, network=NETWORK) for a in argv]
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and fragment in err, err


def test_bad_circuit_file_exits_2_with_every_problem(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(CIRCUIT.replace("(x * y) + z", "(x * foo(y)) + z").replace("y = 3.0", "y = true"),
                   encoding="utf-8")
    for command in ("check", "run", "gradcheck"):
        code, _, err = run_cli(capsys, command, bad)
        assert code == 2
        assert "bad.toml:8: circuit.expression" in err and "column 6 of the expression" in err
        assert "circuit.inputs.y = true: must be a number" in err and "2 problems" in err


def test_user_text_is_printed_as_text(capsys, tmp_path: Path) -> None:
    path = tmp_path / "markup.toml"
    path.write_text(CIRCUIT.replace('"Multiply, then add"', '"[bold red]boom[/] \\u001b[2J"'),
                    encoding="utf-8")
    code, out, _ = run_cli(capsys, "check", path)
    assert code == 0
    assert "[bold red]boom[/]" in out and "\x1b" not in out
    code, out, _ = run_cli(capsys, "run", path, "-q")
    assert "[bold red]boom[/]" in out and "\x1b" not in out


def test_list_shows_circuit_lessons(capsys) -> None:
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    assert any(line.startswith("30-single-multiply-gate.toml") and "multiply gate" in line
               for line in out.splitlines())
