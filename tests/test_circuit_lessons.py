"""The circuit lessons (scenarios/ files of kind "circuit"): each validates, round-trips, meets
its goals the way `nnsim run` judges them, and the numbers its text states are the ones it shows."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from nnsim.circuits import Walk, compare, numerical_gradients, tug
from nnsim.scenarios import load_scenario, loads_scenario
from nnsim.scenarios.circuit import CircuitScenario, dump_circuit_scenario, scenario_kind
from nnsim.scenarios.circuit_goals import evaluate_circuit_goals

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "scenarios").glob("*.toml"))
CIRCUITS = [p for p in LESSONS if scenario_kind(p) == "circuit"]
ISSUE_LESSONS = {  # the seven lessons issue 14 asks for
    "30-single-multiply-gate.toml", "31-multiply-then-add.toml", "32-max-gate.toml",
    "33-shared-input.toml", "34-sigmoid-neuron.toml", "35-random-search-vs-gradients.toml",
    "36-chain-rule.toml"}


def lesson(name: str) -> CircuitScenario:
    s = load_scenario(ROOT / "scenarios" / name)
    assert isinstance(s, CircuitScenario)
    return s


def tugged(s: CircuitScenario, steps: int | None = None) -> list[float]:
    """The output before and after each tug, with the file's settings (as `nnsim run`)."""
    c = s.build()
    outputs = [c.forward()]
    for _ in range(s.circuit.steps if steps is None else steps):
        outputs.append(tug(c, s.circuit.step_size, s.circuit.direction, s.circuit.fixed))
    return outputs


def test_the_issues_lessons_exist_after_the_network_lessons() -> None:
    names = {p.name for p in CIRCUITS}
    assert ISSUE_LESSONS <= names
    assert min(int(p.name[:2]) for p in CIRCUITS) == 30
    assert all(scenario_kind(p) == "network" for p in LESSONS if int(p.name[:2]) < 30)


@pytest.mark.parametrize("path", CIRCUITS, ids=lambda p: p.stem)
def test_circuit_lesson_validates_round_trips_and_teaches(path: Path) -> None:
    s = load_scenario(path)
    assert isinstance(s, CircuitScenario)
    assert loads_scenario(dump_circuit_scenario(s)) == s
    assert len(s.meta.description) > 200
    assert "What to do" in s.meta.description and "What to watch" in s.meta.description
    assert not s.goals.is_empty(), f"{path.name} sets no goal"


@pytest.mark.parametrize("path", CIRCUITS, ids=lambda p: p.stem)
def test_circuit_lesson_reaches_its_goals(path: Path) -> None:
    s = load_scenario(path)
    outputs = tugged(s)
    error = max(g.error for g in numerical_gradients(s.build(), s.circuit.h))
    results = evaluate_circuit_goals(s.goals, outputs, error)
    report = "; ".join(f"{r.text}: {'met' if r.met else 'NOT met'} ({r.detail})" for r in results)
    assert results and all(r.met for r in results), f"{path.name}: {report}"
    if s.goals.within_steps is not None and s.goals.output_at_least is not None:
        assert outputs[0] < s.goals.output_at_least          # the goal needs tugging


def first_step(outputs: list[float], passes) -> int:
    return next(k for k, v in enumerate(outputs) if passes(v))


def grads(s: CircuitScenario) -> dict[str, float]:
    c = s.build()
    c.forward()
    c.backward()
    return c.grads()


def test_multiply_gate_facts() -> None:
    s = lesson("30-single-multiply-gate.toml")
    assert grads(s) == {"x": 3.0, "y": -2.0}
    outputs = tugged(s)
    assert outputs[1] - outputs[0] == pytest.approx(0.01 * (3 ** 2 + 2 ** 2), rel=0.01)
    assert first_step(outputs, lambda v: v >= -5) == 9


def test_multiply_then_add_facts() -> None:
    s = lesson("31-multiply-then-add.toml")
    assert grads(s) == {"x": 3.0, "y": -2.0, "z": 1.0}
    assert first_step(tugged(s), lambda v: v >= 0) == 17


def test_max_gate_facts() -> None:
    s = lesson("32-max-gate.toml")
    assert grads(s) == {"x": 0.0, "y": 2.0, "z": 3.0}
    c = s.build()
    for _ in range(10):
        tug(c, s.circuit.step_size)
    assert c.input_values()["x"] == 1.0                       # never moves
    assert first_step(tugged(s), lambda v: v >= 7) <= 10
    numeric = {g.name: g.central for g in numerical_gradients(s.build(), s.circuit.h)}
    assert numeric["x"] == 0.0


def test_shared_input_facts() -> None:
    s = lesson("33-shared-input.toml")
    assert grads(s) == {"x": -3.0, "y": 3.0}
    walk = Walk(s.build())
    c = walk.circuit
    walk.go("forward")
    walk.forth()                                              # add1 passes 1 to x first
    assert walk.grad(c.index["x"]) == 1.0
    walk.forth()
    assert walk.grad(c.index["x"]) == -3.0
    assert first_step(tugged(s), lambda v: v >= -8) == 6


def test_sigmoid_neuron_facts() -> None:
    s = lesson("34-sigmoid-neuron.toml")
    g = grads(s)
    sig = 1 / (1 + math.exp(-1))
    assert s.build().forward() == pytest.approx(sig)
    local = sig * (1 - sig)
    assert local == pytest.approx(0.197, abs=5e-4)
    expected = {"w1": -1 * local, "w2": -2 * local, "b": local, "x1": 2 * local, "x2": -3 * local}
    assert g == pytest.approx(expected)
    assert {k: round(v, 3) for k, v in g.items()} == {"w1": -0.197, "w2": -0.393, "b": 0.197, "x1": 0.393,
                                                     "x2": -0.59}
    c = s.build()
    tug(c, s.circuit.step_size, fixed=s.circuit.fixed)
    assert c.input_values()["x1"] == -1.0 and c.input_values()["x2"] == -2.0
    assert first_step(tugged(s), lambda v: v >= 0.9) == 15


def test_random_search_lesson_facts() -> None:
    s = lesson("35-random-search-vs-gradients.toml")
    runs = {r.method: r for r in compare(s.build(), s.circuit.steps, s.circuit.step_size,
                                        s.circuit.search_tries, s.circuit.h, seed=s.meta.seed)}
    evaluations = tuple(runs[m].evaluations for m in ("random", "central", "analytic"))
    assert evaluations == (1000, 80, 20)
    assert runs["random"].outputs[-1] == pytest.approx(-6.5, abs=0.1)
    assert runs["analytic"].outputs[-1] == pytest.approx(-5.62, abs=0.01)
    assert runs["central"].outputs[-1] == pytest.approx(runs["analytic"].outputs[-1], abs=1e-6)


def test_chain_rule_facts() -> None:
    s = lesson("36-chain-rule.toml")
    x = 0.5
    t = math.tanh(x ** 2)
    product = math.exp(t) * (1 - t ** 2) * 2 * x
    assert (round(math.exp(t), 3), round(1 - t ** 2, 3), 2 * x) == (1.278, 0.94, 1.0)
    assert grads(s)["x"] == pytest.approx(product, rel=1e-12)
    assert round(product, 2) == 1.2
    outputs = tugged(s)
    assert first_step(outputs, lambda v: v >= 2.5) == 5 and outputs[-1] < math.e


def test_network_lesson_facts() -> None:
    s = lesson("37-network-as-circuit.toml")
    assert len(s.circuit.gate_specs()) == 17 and s.circuit.direction == "decrease"
    c = s.build()
    assert c.forward() == pytest.approx(0.183, abs=5e-4)
    assert c.nodes[c.index["yhat"]].value == pytest.approx(0.573, abs=5e-4)
    c.backward()
    assert c.grads()["c"] == pytest.approx(-0.209, abs=5e-4)
    outputs = tugged(s)
    assert first_step(outputs, lambda v: v < 0.05) == 4
    assert first_step(outputs, lambda v: v < 0.02) == 9


def test_docs_list_every_circuit_lesson() -> None:
    text = (ROOT / "docs" / "lessons.md").read_text(encoding="utf-8")
    for p in CIRCUITS:
        assert f"scenarios/{p.name}" in text
