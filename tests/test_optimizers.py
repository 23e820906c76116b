"""Each optimizer against its written formula, step by step, in plain Python scalars."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnsim.engine import optimizers
from nnsim.engine.optimizers import Optimizer
from nnsim.kernels import cpu, npmath

GRADS = [0.5, -1.25, 0.75, 2.0]


def formula(name: str, lr: float, o: dict) -> list[float]:
    """Weight trajectory of one scalar w0 = 1.0 under GRADS, from the documented formulas."""
    w, v, c, m, s, t = 1.0, 0.0, o.get("initial_accumulator", 0.0), 0.0, 0.0, 0
    out = []
    for g in GRADS:
        if name == "sgd":
            w -= lr * g
        elif name == "momentum":
            v = o["momentum"] * v - lr * g
            w += v
        elif name == "nesterov":
            v = o["momentum"] * v - lr * g
            w += o["momentum"] * v - lr * g
        elif name == "adagrad":
            c += g * g
            w -= lr * g / (math.sqrt(c) + o["epsilon"])
        elif name == "rmsprop":
            c = o["rho"] * c + (1 - o["rho"]) * g * g
            w -= lr * g / (math.sqrt(c) + o["epsilon"])
        elif name == "adam":
            t += 1
            m = o["beta1"] * m + (1 - o["beta1"]) * g
            s = o["beta2"] * s + (1 - o["beta2"]) * g * g
            w -= lr * (m / (1 - o["beta1"] ** t)) / (math.sqrt(s / (1 - o["beta2"] ** t)) + o["epsilon"])
        out.append(w)
    return out


SETTINGS = {"sgd": {}, "momentum": {"momentum": 0.8}, "nesterov": {"momentum": 0.7},
            "adagrad": {"epsilon": 1e-3, "initial_accumulator": 0.2},
            "rmsprop": {"rho": 0.8, "epsilon": 1e-4}, "adam": {"beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6}}


@pytest.mark.parametrize("name", list(SETTINGS))
@pytest.mark.parametrize("impl", ["kernel", "reference"])
def test_optimizer_follows_formula(name: str, impl: str) -> None:
    opt = Optimizer.create(name, **SETTINGS[name])
    opt.init_state(1, np.float64)
    p = np.array([1.0])
    hp = opt.hp_vector(0.1)
    expected = formula(name, 0.1, opt.options)
    t = 0
    for g, want in zip(GRADS, expected):
        G = np.array([g])
        if impl == "kernel":
            t = cpu.optimizer_update(opt.code, hp, t, p, G, opt.s1, opt.s2)
        else:
            t = npmath.optimizer_update(opt.code, hp, p, G, opt.s1, opt.s2, t)
        assert p[0] == pytest.approx(want, rel=1e-12)


def test_defaults_are_documented_values() -> None:
    assert optimizers.defaults("adam") == {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}
    assert optimizers.defaults("momentum") == {"momentum": 0.9}
    assert optimizers.defaults("rmsprop") == {"rho": 0.9, "epsilon": 1e-7}


def test_keras_style_sgd_maps_to_variants() -> None:
    assert Optimizer.create("sgd", momentum=0.5).name == "momentum"
    assert Optimizer.create("sgd", momentum=0.5, nesterov=True).name == "nesterov"
    assert Optimizer.create("sgd").name == "sgd"


@pytest.mark.parametrize("name,key,value,fragment", [
    ("adam", "beta1", 1.0, "allowed: a number >= 0 and < 1"),
    ("adam", "epsilon", 0.0, "allowed: a number > 0 and <= 1"),
    ("momentum", "momentum", -0.1, "allowed: a number >= 0 and < 1"),
    ("rmsprop", "rho", 2, "allowed: a number >= 0 and < 1"),
    ("adam", "momentum", 0.9, "settings: beta1, beta2, epsilon"),
])
def test_invalid_hyperparameters_name_field_and_range(name, key, value, fragment) -> None:
    with pytest.raises(ValueError) as err:
        Optimizer.create(name, **{key: value})
    assert key in str(err.value) and fragment in str(err.value)


def test_unknown_optimizer_lists_choices() -> None:
    with pytest.raises(ValueError, match="sgd, momentum, nesterov, adagrad, rmsprop, adam"):
        Optimizer.create("adamw")


@pytest.mark.parametrize("lr", [0, -1, 1001, float("inf"), float("nan"), "fast"])
def test_learning_rate_validation(lr) -> None:
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.check_learning_rate(lr)
