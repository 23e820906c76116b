"""From neurons to circuits: a dense neuron and a 2-2-1 network with its loss, expanded into
gates, give the same gradients at the weights as the engine's backward pass (float64)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnsim.circuits import Circuit, GateSpec, expand
from nnsim.engine import Dense, Network, Trainer
from nnsim.scenarios import load_scenario

LESSON = Path(__file__).resolve().parents[1] / "scenarios" / "37-network-as-circuit.toml"


def engine_gradients(layers, weights: dict[str, np.ndarray], x: np.ndarray, y: float,
                     loss: str) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and dL/d(each tensor) for one sample, from the engine's traced step (float64)."""
    net = Network(x.size, layers, dtype="float64", seed=0)
    net.set_weights(weights)
    tr = Trainer(net, x.reshape(1, -1), np.array([[y]]), loss=loss, batch_size=1, shuffle=False)
    phases = list(tr.walk_step())               # forward, loss, backward, then the update
    trace = phases[-1].trace
    grads = {}
    for i, layer in enumerate(trace.layers):
        grads[f"layer{i}.W"] = layer.dW
        grads[f"layer{i}.b"] = layer.db
    return trace.loss, grads


def assert_same(circuit: Circuit, weights_of: dict, grads: dict[str, np.ndarray]) -> None:
    for name, (tensor, index) in weights_of.items():
        mine = circuit.nodes[circuit.index[name]].grad
        assert mine == pytest.approx(float(grads[tensor][index]), rel=1e-12, abs=1e-14), (name, tensor, index)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
def test_neuron_with_mse_matches_the_engine(activation: str, rng) -> None:
    w, x, b, y = rng.normal(0, 1, 3), rng.normal(0, 1, 3), float(rng.normal()), 0.7
    e = expand.neuron(w, x, b, activation)
    assert e.gates[-1].name == "a"
    gates = e.gates + [GateSpec("err", "sub", ("a", "y")), GateSpec("L", "pow", ("err", 2.0))]
    c = Circuit.build({**e.inputs, "y": y}, gates)
    c.forward()
    c.backward()
    weights = {"layer0.W": w.reshape(3, 1), "layer0.b": np.array([b])}
    loss, grads = engine_gradients([Dense(1, activation)], weights, x, y, "mse")
    assert c.output.value == pytest.approx(loss, rel=1e-12)
    assert_same(c, e.weights, grads)
    assert set(e.data) == {"x1", "x2", "x3"}


def test_neuron_gates_by_hand() -> None:
    e = expand.neuron([2.0, -3.0], [-1.0, -2.0], -3.0)           # σ(2·−1 + −3·−2 − 3) = σ(1)
    assert [(g.name, g.op) for g in e.gates] == [("p1", "mul"), ("p2", "mul"), ("s1", "add"), ("z", "add"),
                                                 ("a", "sigmoid")]
    c = e.circuit()
    assert c.forward() == pytest.approx(1 / (1 + np.exp(-1.0)))
    c.backward()
    s = 1 / (1 + np.exp(-1.0))
    assert c.grads()["w1"] == pytest.approx(-1.0 * s * (1 - s))   # x1 · σ(1 − σ)
    assert c.grads()["b"] == pytest.approx(s * (1 - s))


@pytest.mark.parametrize("hidden,output,loss", [
    ("sigmoid", "sigmoid", "mse"), ("sigmoid", "sigmoid", "binary_crossentropy"),
    ("tanh", "sigmoid", "binary_crossentropy"), ("relu", "linear", "mse"), ("tanh", "tanh", "mse"),
])
def test_network_221_with_loss_matches_the_engine(hidden: str, output: str, loss: str, rng) -> None:
    for _ in range(5):
        W1, b1 = rng.normal(0, 1, (2, 2)), rng.normal(0, 0.5, 2)
        W2, b2 = rng.normal(0, 1, (2, 1)), rng.normal(0, 0.5, 1)
        x, y = rng.normal(0, 1, 2), float(rng.integers(0, 2))
        if hidden == "relu" and np.min(np.abs(x @ W1 + b1)) < 1e-3:
            continue                                            # away from relu's kink
        e = expand.network(W1, b1, W2, b2, x, y, hidden, output, loss)
        c = e.circuit()
        c.forward()
        c.backward()
        engine_loss, grads = engine_gradients(
            [Dense(2, hidden), Dense(1, output)],
            {"layer0.W": W1, "layer0.b": b1, "layer1.W": W2, "layer1.b": b2}, x, y, loss)
        assert c.output.value == pytest.approx(engine_loss, rel=1e-12)
        assert len(e.weights) == 9
        assert_same(c, e.weights, grads)


def test_expansion_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="activation"):
        expand.neuron([1.0], [1.0], 0.0, "softplus")
    with pytest.raises(ValueError, match="loss"):
        expand.network(np.eye(2), [0, 0], [[1], [1]], [0], [1, 1], 1.0, loss="hinge")
    with pytest.raises(ValueError, match="same length"):
        expand.neuron([1.0, 2.0], [1.0], 0.0)


def test_network_lesson_has_the_engines_gradients() -> None:
    """Lesson 37's gates, at its own weights, agree with the network engine."""
    s = load_scenario(LESSON)
    v = s.circuit.inputs
    W1 = np.array([[v["w11"], v["w12"]], [v["w21"], v["w22"]]])
    W2 = np.array([[v["v1"]], [v["v2"]]])
    e = expand.network(W1, [v["b1"], v["b2"]], W2, [v["c"]], [v["x1"], v["x2"]], v["y"])
    c = s.build()
    c.forward()
    c.backward()
    assert [g.op for g in s.circuit.gate_specs()] == [g.op for g in e.gates]
    loss, grads = engine_gradients([Dense(2, "sigmoid"), Dense(1, "sigmoid")],
                                   {"layer0.W": W1, "layer0.b": np.array([v["b1"], v["b2"]]),
                                    "layer1.W": W2, "layer1.b": np.array([v["c"]])},
                                   np.array([v["x1"], v["x2"]]), v["y"], "mse")
    assert c.output.value == pytest.approx(loss, rel=1e-12)
    assert_same(c, e.weights, grads)
    assert set(s.circuit.fixed) == set(e.data)
