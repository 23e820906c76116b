"""nnsim.circuits: every op's local derivatives against finite differences, forward and backward,
gradient accumulation over shared inputs, the gate-by-gate walk, numerical gradients, tugs and
random local search with their evaluation counts, the text drawing, and the import boundary."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from nnsim.circuits import (
    OPS,
    Circuit,
    ExpressionError,
    GateSpec,
    Walk,
    compare,
    evaluations_per_step,
    numerical_gradients,
    parse_expression,
    random_search_step,
    tug,
)
from nnsim.circuits.draw import draw_text, fit

EPS = np.finfo(np.float64).eps
# Central differences with h = EPS^(1/3)·s have truncation error h²|f'''|/6 and rounding error
# ≈ EPS|f|/h: both about EPS^(2/3) ≈ 4e-11 times the scale s of the function and its
# derivatives. The tolerance allows 1000 times that.
H_REL = EPS ** (1 / 3)
TOL_REL = 1e3 * EPS ** (2 / 3)


def circuit(expr: str, **inputs: float) -> Circuit:
    c = Circuit.build(inputs, parse_expression(expr).gates)
    c.forward()
    c.backward()
    return c


def _point(name: str, rng: np.random.Generator) -> list[float]:
    """A random point inside the op's domain, away from kinks (where one-sided slopes differ)."""
    while True:
        a, b = rng.uniform(-3, 3, 2)
        if name == "log":
            a = abs(a) + 0.2
        if name == "div" and abs(b) < 0.5:
            continue
        if name == "pow":
            a, b = abs(a) + 0.2, float(rng.choice([-2.0, -1.0, 0.5, 2.0, 3.0]))
        if name in ("max", "min") and abs(a - b) < 0.1:
            continue
        if name in ("relu", "abs") and abs(a) < 0.1:
            continue
        return [float(a), float(b)][: OPS[name].arity]


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_ops_local_derivatives_match_central_differences(name: str, rng) -> None:
    op = OPS[name]
    for _ in range(25):
        x = _point(name, rng)
        out = op.forward(x)
        local = op.local(x, out)
        assert len(local) == op.arity
        for k in range(op.arity):
            if op.const_last and k == op.arity - 1:
                continue                      # the exponent is a constant: not differentiated
            h = H_REL * max(1.0, abs(x[k]))
            up, down = list(x), list(x)
            up[k] += h
            down[k] -= h
            numeric = (op.forward(up) - op.forward(down)) / (2 * h)
            scale = max(1.0, abs(out), abs(local[k]))
            assert abs(local[k] - numeric) <= TOL_REL * scale, (name, x, k, local[k], numeric)


def test_local_derivatives_known_by_hand() -> None:
    assert OPS["mul"].local([2.0, -3.0], -6.0) == [-3.0, 2.0]           # multiply swaps
    assert OPS["add"].local([2.0, -3.0], -1.0) == [1.0, 1.0]            # add distributes
    assert OPS["sub"].local([2.0, -3.0], 5.0) == [1.0, -1.0]
    assert OPS["max"].local([4.0, 2.0], 4.0) == [1.0, 0.0]              # max routes
    assert OPS["max"].local([1.0, 3.0], 3.0) == [0.0, 1.0]
    assert OPS["min"].local([1.0, 3.0], 1.0) == [1.0, 0.0]
    assert OPS["sigmoid"].local([0.0], 0.5) == [0.25]                   # σ(1 − σ) at 0
    assert OPS["tanh"].local([0.0], 0.0) == [1.0]
    assert OPS["exp"].local([1.0], math.e) == [math.e]
    assert OPS["log"].local([2.0], math.log(2)) == [0.5]
    assert OPS["pow"].local([3.0, 2.0], 9.0)[0] == 6.0
    assert OPS["relu"].local([-1.0], 0.0) == [0.0] and OPS["relu"].local([2.0], 2.0) == [1.0]
    assert OPS["neg"].local([5.0], -5.0) == [-1.0]
    assert OPS["div"].local([3.0, 2.0], 1.5) == [0.5, -0.75]


def test_rules_are_named() -> None:
    assert OPS["add"].rule == "add distributes"
    assert OPS["mul"].rule == "multiply swaps"
    assert OPS["max"].rule.startswith("max routes")
    assert OPS["sigmoid"].rule == "sigmoid: σ(1 − σ)"


def test_sigmoid_and_exp_stay_finite_far_out() -> None:
    assert OPS["sigmoid"].forward([-800.0]) == 0.0 and OPS["sigmoid"].forward([800.0]) == 1.0
    assert OPS["exp"].forward([1000.0]) == math.inf
    assert math.isnan(OPS["log"].forward([-1.0])) and OPS["log"].forward([0.0]) == -math.inf


# -- forward and backward ------------------------------------------------------------------------
def test_multiply_then_add_by_hand() -> None:
    c = circuit("(x * y) + z", x=-2.0, y=3.0, z=4.0)
    assert [n.name for n in c.nodes] == ["x", "y", "z", "mul1", "add1"]
    assert [n.value for n in c.nodes] == [-2.0, 3.0, 4.0, -6.0, -2.0]
    assert c.grads() == {"x": 3.0, "y": -2.0, "z": 1.0}
    assert c.output.grad == 1.0 and c.nodes[3].grad == 1.0


def test_shared_input_gradients_add_up() -> None:
    c = circuit("x * y + x", x=3.0, y=-4.0)                 # ∂/∂x = y + 1, ∂/∂y = x
    assert c.grads() == {"x": -3.0, "y": 3.0}
    c = circuit("x * x", x=5.0)                             # one gate reading x twice: 2x
    assert c.grads() == {"x": 10.0}
    c = circuit("exp(x) * sigmoid(x) + max(x, y) * x", x=0.7, y=-1.2)
    expect = {k: (lambda f: (f(+1) - f(-1)) / 2e-6)(
        lambda s, k=k: c.evaluate({**c.input_values(), k: c.input_values()[k] + s * 1e-6}))
        for k in ("x", "y")}
    assert c.grads()["x"] == pytest.approx(expect["x"], rel=1e-7)
    assert c.grads()["y"] == 0.0                            # max routed everything to x


def test_backward_steps_show_accumulation() -> None:
    c = Circuit.build({"x": 3.0, "y": -4.0}, parse_expression("x * y + x").gates)
    c.forward()
    steps = list(c.backward_steps())
    assert [c.nodes[s.gate].name for s in steps] == ["add1", "mul1"]    # from the output back
    to_x = [(p.before, p.passed, p.after)
            for s in steps for p in s.contributions if c.nodes[p.node].name == "x"]
    assert to_x == [(0.0, 1.0, 1.0), (1.0, -4.0, -3.0)]                 # 1, then 1 + (−4)


def test_constants_are_not_nodes_and_get_no_gradient() -> None:
    c = circuit("2 * x + 1", x=3.0)
    assert [n.name for n in c.nodes] == ["x", "mul1", "add1"]
    assert c.arg_refs(1) == [2.0, "x"] and c.output.value == 7.0 and c.grads() == {"x": 2.0}


def test_build_refuses_what_the_parser_would() -> None:
    with pytest.raises(ValueError, match="unknown input"):
        Circuit.build({"x": 1.0}, [GateSpec("g", "mul", ("x", "y"))])
    with pytest.raises(ValueError, match="takes 2"):
        Circuit.build({"x": 1.0}, [GateSpec("g", "mul", ("x",))])
    with pytest.raises(ValueError, match="exponent"):
        Circuit.build({"x": 1.0}, [GateSpec("g", "pow", ("x", "x"))])
    with pytest.raises(ValueError, match="twice"):
        Circuit.build({"x": 1.0}, [GateSpec("x", "neg", ("x",))])
    with pytest.raises(ValueError, match="unknown op"):
        Circuit.build({"x": 1.0}, [GateSpec("g", "sin", ("x",))])


# -- the walk -------------------------------------------------------------------------------------
def test_walk_forward_then_backward_and_back_again() -> None:
    c = Circuit.build({"x": -2.0, "y": 3.0, "z": 4.0}, parse_expression("(x * y) + z").gates)
    walk = Walk(c)
    mul, add = c.index["mul1"], c.index["add1"]
    assert walk.length == 4 and walk.phase.kind == "start"
    assert walk.value(c.index["x"]) == -2.0 and walk.value(mul) is None and walk.grad(add) is None
    labels = []
    while walk.forth():
        labels.append(walk.phase.label)
    assert labels == ["forward 1/2: mul1", "forward 2/2: add1", "backward 1/2: add1", "backward 2/2: mul1"]
    assert not walk.forth() and walk.done
    walk.go("forward")
    assert walk.value(add) == -2.0 and walk.grad(add) is None
    walk.forth()                                             # add1 passes 1 to mul1 and z
    assert walk.grad(add) == 1.0 and walk.grad(mul) == 1.0 and walk.grad(c.index["z"]) == 1.0
    assert walk.grad(c.index["x"]) is None and not walk.grad_final(c.index["x"])
    walk.forth()
    assert walk.grad(c.index["x"]) == 3.0 and walk.grad_final(c.index["x"])
    walk.back()
    assert walk.grad(c.index["x"]) is None                   # going back hides it again
    walk.start()
    assert walk.phase.gate is None and not walk.back()


# -- numerical gradients, tug, random search ------------------------------------------------------
def test_numerical_gradients_central_and_forward() -> None:
    c = Circuit.build({"x": 3.0}, parse_expression("x ** 2").gates)
    (g,) = numerical_gradients(c, h=1e-3)
    assert g.analytic == 6.0
    # (x + h)² − (x − h)² = 4xh exactly: central is exact; forward is 2x + h: its error is h
    assert g.central == pytest.approx(6.0, abs=1e-9)
    assert g.forward == pytest.approx(6.0 + 1e-3, abs=1e-9)
    assert g.error < 1e-9


def test_tug_moves_inputs_by_step_times_gradient() -> None:
    c = Circuit.build({"x": -2.0, "y": 3.0}, parse_expression("x * y").gates)
    out = tug(c, 0.01)
    assert c.input_values() == pytest.approx({"x": -1.97, "y": 2.98})
    assert out == pytest.approx(-1.97 * 2.98) and out > -6.0
    down = Circuit.build({"x": -2.0, "y": 3.0}, parse_expression("x * y").gates)
    assert tug(down, 0.01, "decrease") == pytest.approx(-2.03 * 3.02)
    fixed = Circuit.build({"x": -2.0, "y": 3.0}, parse_expression("x * y").gates)
    tug(fixed, 0.01, fixed=("y",))
    assert fixed.input_values() == pytest.approx({"x": -1.97, "y": 3.0})


def test_random_search_keeps_the_best_and_never_gets_worse(rng) -> None:
    c = Circuit.build({"x": -2.0, "y": 3.0}, parse_expression("x * y").gates)
    outputs = [c.forward()] + [random_search_step(c, 0.01, 100, rng) for _ in range(5)]
    assert all(b >= a for a, b in zip(outputs, outputs[1:]))
    assert outputs[-1] > outputs[0]
    assert all(abs(v - start) <= 5 * 0.01 + 1e-12 for v, start in zip(c.input_values().values(), (-2.0, 3.0)))


def test_compare_counts_evaluations() -> None:
    c = Circuit.build({"x": -2.0, "y": 3.0, "z": 1.0, "w": -1.0}, parse_expression("x * y + z * w").gates)
    runs = {r.method: r for r in compare(c, steps=10, step=0.01, tries=100)}
    evaluations = tuple(runs[m].evaluations for m in ("random", "central", "analytic"))
    assert evaluations == (1000, 80, 20)
    assert runs["central"].outputs[-1] == pytest.approx(runs["analytic"].outputs[-1], rel=1e-8)
    assert runs["random"].outputs[-1] < runs["analytic"].outputs[-1]
    assert c.input_values() == {"x": -2.0, "y": 3.0, "z": 1.0, "w": -1.0}    # left as it was
    assert evaluations_per_step("forward", 4) == 5
    with pytest.raises(ValueError, match="valid methods"):
        evaluations_per_step("magic", 4)


# -- drawing and text ------------------------------------------------------------------------------
def test_draw_text_boxes_and_wires() -> None:
    lines = draw_text(circuit("(x * y) + z", x=-2.0, y=3.0, z=4.0))
    text = "\n".join(lines)
    for box in ("╭x", "╭y", "╭z", "╭mul1", "╭add1", "× = -6", "+ = -2", "∇ -2", "∇ 3"):
        assert box in text, box
    assert text.count("▶") == 4                      # one arrow per wire into a gate
    lines = draw_text(circuit("max(x, y) * 2", x=1.0, y=3.0))
    assert any("2▶" in line for line in lines)       # a constant is written at its port


def test_fit() -> None:
    assert fit(-0.000012345, 9) == "-1.23e-05" and fit(None, 5) == "?" and fit(math.nan, 5) == "nan"
    assert len(fit(123456789.0, 7)) <= 7 and fit(-6.0, 5) == "-6"


def test_circuits_package_imports_no_ui_and_nothing_above_it() -> None:
    code = ("import sys, nnsim.circuits, nnsim.scenarios.circuit_load; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich') "
            "or m.startswith(('nnsim.tui', 'nnsim.cli'))]; print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
    code = ("import sys, nnsim.circuits; "
            "print(','.join(m for m in sys.modules if m.startswith(('nnsim.scenarios', 'nnsim.engine'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "", out.stdout + out.stderr


# -- random expressions: the parser and the graph against a direct evaluation ----------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_LEAVES = st.sampled_from(["x", "y", "z", "0.5", "2", "-1.5"])


def _tree(children):
    binary = st.tuples(st.sampled_from(["+", "-", "*"]), children, children)
    unary = st.tuples(st.sampled_from(["tanh", "sigmoid", "sq", "neg"]), children)
    return binary | unary


EXPRESSIONS = st.recursive(_LEAVES, _tree, max_leaves=8)


def _text(t) -> str:
    if isinstance(t, str):
        return t
    if len(t) == 3:
        return f"({_text(t[1])} {t[0]} {_text(t[2])})"
    op, a = t
    return {"sq": f"({_text(a)}) ** 2", "neg": f"-({_text(a)})"}.get(op, f"{op}({_text(a)})")


def _folds(t) -> bool:
    """A leaf, or a number under unary minus: the parser makes it a constant, not a gate."""
    if isinstance(t, str):
        return True
    return t[0] == "neg" and _folds(t[1]) and (not isinstance(t[1], str) or t[1] not in "xyz")


def _value(t, env: dict[str, float]) -> float:
    """The expression tree evaluated directly (the oracle: no parser, no graph)."""
    if isinstance(t, str):
        return env[t] if t in env else float(t)
    if len(t) == 3:
        a, b = _value(t[1], env), _value(t[2], env)
        return a + b if t[0] == "+" else a - b if t[0] == "-" else a * b
    op, a = t[0], _value(t[1], env)
    return {"tanh": math.tanh(a), "sigmoid": 1 / (1 + math.exp(-a)), "sq": a * a, "neg": -a}[op]


@settings(max_examples=150, deadline=None)
@given(tree=EXPRESSIONS, values=st.tuples(*[st.floats(-2, 2, allow_nan=False)] * 3))
def test_random_expressions_match_a_direct_evaluation(tree, values) -> None:
    text = _text(tree)
    env = dict(zip("xyz", values))
    try:
        gates = parse_expression(text).gates
    except ExpressionError as err:                     # a leaf, or −(number): no gate
        assert "no gate" in err.message and _folds(tree), text
        return
    names = parse_expression(text).names
    c = Circuit.build({k: env[k] for k in names}, gates)
    assert c.forward() == pytest.approx(_value(tree, env), rel=1e-12, abs=1e-12)
    c.backward()
    for name in names:
        h = H_REL * max(1.0, abs(env[name]))
        up = _value(tree, {**env, name: env[name] + h})
        down = _value(tree, {**env, name: env[name] - h})
        numeric = (up - down) / (2 * h)
        scale = max(1.0, abs(c.output.value), abs(numeric))
        assert c.grads()[name] == pytest.approx(numeric, abs=1e2 * TOL_REL * scale), (text, name)
