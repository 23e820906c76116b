"""Activation functions as `fn`/`grad` pairs (the NumPy math of `kernels.npmath`).

Each activation has the integer `code` the kernels use (`kernels.catalogue`). `backward(z, a,
da)` returns dL/dz = dL/da ⊙ f′(z) (for softmax, the Jacobian-vector product a ⊙ (da − Σ da·a);
softmax has no elementwise f′, so its `grad` is None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..kernels import catalogue as cat
from ..kernels import npmath
from .registry import Registry

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """a = fn(z, alpha); f′ as `grad(z, a, alpha)` (elementwise ones)."""

    name: str
    code: int
    fn: Callable[[Array, float], Array]
    grad: Callable[[Array, Array, float], Array] | None
    formula: str
    default_alpha: float = 0.0

    def backward(self, z: Array, a: Array, da: Array, alpha: float | None = None) -> Array:
        """dL/dz from dL/da by the chain rule."""
        al = self.default_alpha if alpha is None else alpha
        return npmath.act_backward(self.code, z, a, da, al)


#: (formula, default alpha, aliases) by name; codes and math come from the kernel layer.
_INFO: dict[str, tuple[str, float, list[str]]] = {
    "linear": ("f(z) = z", 0.0, ["identity", "none"]),
    "sigmoid": ("f(z) = 1/(1+e^-z), f'(z) = f(z)(1-f(z))", 0.0, ["logistic"]),
    "tanh": ("f(z) = tanh z, f'(z) = 1 - tanh² z", 0.0, []),
    "relu": ("f(z) = max(0, z), f'(z) = [z > 0]", 0.0, []),
    "leaky_relu": ("f(z) = z if z > 0 else αz", 0.01, ["leakyrelu", "lrelu"]),
    "elu": ("f(z) = z if z > 0 else α(e^z - 1)", 1.0, []),
    "softmax": ("f(z)ₖ = e^zₖ / Σⱼ e^zⱼ (over the layer's units)", 0.0, []),
}
ACTIVATIONS: Registry[Activation] = Registry("activation")
for _name, _code in cat.ACTIVATIONS.items():
    _formula, _alpha, _aliases = _INFO[_name]
    ACTIVATIONS.add(_name, Activation(_name, _code, npmath.ACT_FN[_code], npmath.ACT_GRAD.get(_code),
                                      _formula, default_alpha=_alpha), aliases=_aliases)


def get(name: str) -> Activation:
    """The activation called `name`; `ValueError` lists the valid names."""
    return ACTIVATIONS.get(name)


def names() -> list[str]:
    return ACTIVATIONS.names()

