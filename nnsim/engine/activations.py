"""Activation functions as `fn`/`grad` pairs (NumPy reference math).

Each activation has an integer `code` that the kernels use. `backward(z, a, da)` returns
dL/dz = dL/da ⊙ f′(z) (for softmax, the Jacobian-vector product a ⊙ (da − Σ da·a)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .registry import Registry

Array = np.ndarray

LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU, ELU, SOFTMAX = range(7)


def _sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^(−z)), computed stably for both signs."""
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _softmax(z: Array) -> Array:
    """softmax(z)ₖ = e^(zₖ − max z) / Σⱼ e^(zⱼ − max z), row-wise."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Activation:
    """a = fn(z, alpha); f′ as `grad(z, a, alpha)` (elementwise ones)."""

    name: str
    code: int
    fn: Callable[[Array, float], Array]
    grad: Callable[[Array, Array, float], Array]
    formula: str
    default_alpha: float = 0.0

    def backward(self, z: Array, a: Array, da: Array, alpha: float | None = None) -> Array:
        """dL/dz from dL/da by the chain rule."""
        al = self.default_alpha if alpha is None else alpha
        if self.code == SOFTMAX:
            return a * (da - np.sum(da * a, axis=-1, keepdims=True))
        return da * self.grad(z, a, al)


ACTIVATIONS: Registry[Activation] = Registry("activation")
ACTIVATIONS.add("linear", Activation("linear", LINEAR, lambda z, al: z.copy(),
                                     lambda z, a, al: np.ones_like(z), "f(z) = z"),
                aliases=["identity", "none"])
ACTIVATIONS.add("sigmoid", Activation("sigmoid", SIGMOID, lambda z, al: _sigmoid(z),
                                      lambda z, a, al: a * (1.0 - a),
                                      "f(z) = 1/(1+e^-z), f'(z) = f(z)(1-f(z))"),
                aliases=["logistic"])
ACTIVATIONS.add("tanh", Activation("tanh", TANH, lambda z, al: np.tanh(z),
                                   lambda z, a, al: 1.0 - a * a,
                                   "f(z) = tanh z, f'(z) = 1 - tanh² z"))
ACTIVATIONS.add("relu", Activation("relu", RELU, lambda z, al: np.maximum(z, 0.0),
                                   lambda z, a, al: (z > 0).astype(z.dtype),
                                   "f(z) = max(0, z), f'(z) = [z > 0]"))
ACTIVATIONS.add("leaky_relu", Activation(
    "leaky_relu", LEAKY_RELU, lambda z, al: np.where(z > 0, z, al * z),
    lambda z, a, al: np.where(z > 0, 1.0, al).astype(z.dtype),
    "f(z) = z if z > 0 else αz", default_alpha=0.01), aliases=["leakyrelu", "lrelu"])
ACTIVATIONS.add("elu", Activation(
    "elu", ELU, lambda z, al: np.where(z > 0, z, al * np.expm1(np.minimum(z, 0.0))),
    lambda z, a, al: np.where(z > 0, 1.0, al * np.exp(np.minimum(z, 0.0))).astype(z.dtype),
    "f(z) = z if z > 0 else α(e^z - 1)", default_alpha=1.0))
ACTIVATIONS.add("softmax", Activation("softmax", SOFTMAX, lambda z, al: _softmax(z),
                                      lambda z, a, al: a * (1.0 - a),
                                      "f(z)ₖ = e^zₖ / Σⱼ e^zⱼ"))


def get(name: str) -> Activation:
    """The activation called `name`; `ValueError` lists the valid names."""
    return ACTIVATIONS.get(name)


def names() -> list[str]:
    return ACTIVATIONS.names()


def by_code(code: int) -> Activation:
    for n in ACTIVATIONS.names():
        act = ACTIVATIONS.get(n)
        if act.code == code:
            return act
    raise ValueError(f"no activation with code {code}")
