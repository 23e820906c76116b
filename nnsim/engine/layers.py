"""Layers. A layer describes itself; the Network owns the flat parameter and gradient buffers
and hands each layer named views into them (`layer.params["W"]`, `layer.grads["W"]`).

Later layer kinds (convolution, recurrent) add their own kernels behind the same backend
interface; the dense/dropout path is fused into one kernel per mini-batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import activations, initializers


@dataclass
class Layer:
    """Base class: parameters by name (views set by the Network)."""

    params: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False)
    grads: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False)

    kind = "layer"

    def output_dim(self, input_dim: int) -> int:
        return input_dim

    def config(self) -> dict[str, Any]:
        return {"type": self.kind}


@dataclass
class Dense(Layer):
    """z = a_prev·W + b (W: fan_in × units), a = f(z)."""

    units: int = 1
    activation: str = "linear"
    init: str = "glorot_uniform"
    bias_init: str | float | None = None   # None: the initializer's default (0, playground 0.1)
    use_bias: bool = True
    alpha: float | None = None             # leaky_relu / elu slope
    init_options: dict[str, float] = field(default_factory=dict)

    kind = "dense"

    def __post_init__(self) -> None:
        if isinstance(self.units, bool) or not isinstance(self.units, (int, np.integer)) or self.units < 1:
            raise ValueError(f"dense units must be an integer >= 1, got {self.units!r}")
        self.activation = activations.ACTIVATIONS.canonical(self.activation)
        self.init = initializers.INITIALIZERS.canonical(self.init)
        if isinstance(self.bias_init, str):
            self.bias_init = initializers.INITIALIZERS.canonical(self.bias_init)
        if self.alpha is None:
            self.alpha = activations.get(self.activation).default_alpha

    def output_dim(self, input_dim: int) -> int:
        return int(self.units)

    def initialize(self, rng: np.random.Generator, input_dim: int) -> dict[str, np.ndarray]:
        """Fresh weights and biases drawn from `rng`."""
        W = initializers.get(self.init)(rng, (input_dim, int(self.units)), **self.init_options)
        bi = self.bias_init
        if bi is None:
            bi = initializers.DEFAULT_BIAS.get(self.init, 0.0)
        if isinstance(bi, str):
            b = initializers.get(bi)(rng, (int(self.units),), **self.init_options)
        else:
            b = np.full(int(self.units), float(bi))
        if not self.use_bias:
            b = np.zeros(int(self.units))
        return {"W": W, "b": b}

    def config(self) -> dict[str, Any]:
        return {"type": "dense", "units": int(self.units), "activation": self.activation,
                "init": self.init, "bias_init": self.bias_init, "use_bias": self.use_bias,
                "alpha": self.alpha}


@dataclass
class Dropout(Layer):
    """Inverted dropout: keep each unit with probability 1 − rate and scale it by 1/(1 − rate)
    while training; identity at evaluation."""

    rate: float = 0.5

    kind = "dropout"

    def __post_init__(self) -> None:
        if not isinstance(self.rate, (int, float)) or not (0.0 <= float(self.rate) < 1.0):
            raise ValueError(f"dropout rate must satisfy 0 <= rate < 1, got {self.rate!r}")
        self.rate = float(self.rate)

    def config(self) -> dict[str, Any]:
        return {"type": "dropout", "rate": self.rate}
