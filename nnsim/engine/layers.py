"""Layers. A layer describes itself; the Network owns the flat parameter and gradient buffers
and hands each layer named views into them (`layer.params["W"]`, `layer.grads["W"]`).

Dense and dropout layers of an all-dense network train in one fused kernel per chunk of
mini-batches; conv2d, maxpool2d, avgpool2d, flatten, simple_rnn and lstm layers send the network
to the layered kernels (`kernels.cpu_layers`) behind the same backend interface.
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


# -- convolutional layers ------------------------------------------------------------------------
Pair = tuple[int, int]


def pair(value: Any, what: str, low: int = 1) -> Pair:
    """An integer (square) or an (h, w) pair of integers >= `low`, as a pair (Keras' rule)."""
    items = list(value) if isinstance(value, (list, tuple)) else [value, value]
    if len(items) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                              or v < low for v in items):
        raise ValueError(f"{what} must be an integer >= {low} or a [height, width] pair of "
                         f"them, got {value!r}")
    return int(items[0]), int(items[1])


@dataclass
class Conv2D(Layer):
    """z[f] = Σ_c W[f, c] ⋆ a_prev[c] + b[f] over (channels, height, width) inputs, a = f(z).

    W has shape (filters, channels, kh, kw), PyTorch's order. `padding="valid"`: windows stay
    inside the image, output (H − kh) // stride + 1; `"same"`: output ⌈H / stride⌉, zeros
    around the image (the odd extra row or column at the bottom or right, as Keras pads).
    `kernel` (and `bias`) set the starting weights by hand instead of drawing them: an array of
    shape (filters, channels, kh, kw), or (filters, kh, kw) for one channel, or (kh, kw) for
    one filter on one channel; a reset returns to them.
    """

    filters: int = 1
    kernel_size: int | Pair = 3
    stride: int | Pair = 1
    padding: str = "valid"
    activation: str = "linear"
    init: str = "glorot_uniform"
    bias_init: str | float | None = None
    use_bias: bool = True
    alpha: float | None = None
    init_options: dict[str, float] = field(default_factory=dict)
    kernel: Any = None
    bias: Any = None

    kind = "conv2d"

    def __post_init__(self) -> None:
        if isinstance(self.filters, bool) or not isinstance(self.filters, (int, np.integer)) \
                or self.filters < 1:
            raise ValueError(f"conv2d filters must be an integer >= 1, got {self.filters!r}")
        self.filters = int(self.filters)
        self.kernel_size = pair(self.kernel_size, "conv2d kernel_size")
        self.stride = pair(self.stride, "conv2d stride")
        if self.padding not in ("valid", "same"):
            raise ValueError(f"conv2d padding must be 'valid' or 'same', got {self.padding!r}")
        self.activation = activations.ACTIVATIONS.canonical(self.activation)
        if self.activation == "softmax":
            raise ValueError("softmax is only allowed on the (dense) output layer, not on conv2d")
        self.init = initializers.INITIALIZERS.canonical(self.init)
        if isinstance(self.bias_init, str):
            self.bias_init = initializers.INITIALIZERS.canonical(self.bias_init)
        if self.alpha is None:
            self.alpha = activations.get(self.activation).default_alpha

    def kernel_shape(self, channels: int) -> tuple[int, int, int, int]:
        return (self.filters, int(channels), *self.kernel_size)  # type: ignore[misc]

    def hand_set(self, channels: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The hand-set kernel as (filters, channels, kh, kw) and bias as (filters,), or None;
        ValueError when a shape does not fit."""
        shape = self.kernel_shape(channels)
        W = b = None
        if self.kernel is not None:
            k = np.asarray(self.kernel, dtype=np.float64)
            if ((k.shape == shape[2:] and shape[:2] == (1, 1))
                    or (k.shape == (shape[0], *shape[2:]) and shape[1] == 1)):
                k = k.reshape(shape)
            if k.shape != shape:
                raise ValueError(f"conv2d kernel has shape {k.shape}; this layer needs "
                                 f"{shape} (filters, channels, height, width)")
            W = k
        if self.bias is not None:
            b = np.asarray(self.bias, dtype=np.float64).reshape(-1)
            if b.shape != (self.filters,):
                raise ValueError(f"conv2d bias has {b.size} values; this layer has "
                                 f"{self.filters} filters")
        return W, b

    def initialize(self, rng: np.random.Generator, input_shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        """Fresh weights (fans: channels·kh·kw in, filters·kh·kw out, as Keras and PyTorch
        count them), or the hand-set ones."""
        shape = self.kernel_shape(input_shape[0])
        W = initializers.get(self.init)(rng, shape, **self.init_options)
        bi = self.bias_init
        if bi is None:
            bi = initializers.DEFAULT_BIAS.get(self.init, 0.0)
        if isinstance(bi, str):
            b = initializers.get(bi)(rng, (self.filters,), **self.init_options)
        else:
            b = np.full(self.filters, float(bi))
        hand_W, hand_b = self.hand_set(input_shape[0])
        W = hand_W if hand_W is not None else W
        b = hand_b if hand_b is not None else b
        if not self.use_bias:
            b = np.zeros(self.filters)
        return {"W": W, "b": b}

    def config(self) -> dict[str, Any]:
        out = {"type": "conv2d", "filters": self.filters, "kernel_size": list(self.kernel_size),
               "stride": list(self.stride), "padding": self.padding,
               "activation": self.activation, "init": self.init, "bias_init": self.bias_init,
               "use_bias": self.use_bias, "alpha": self.alpha}
        if self.kernel is not None:
            out["kernel"] = np.asarray(self.kernel).tolist()
        if self.bias is not None:
            out["bias"] = np.asarray(self.bias).tolist()
        return out


@dataclass
class _Pool2D(Layer):
    pool_size: int | Pair = 2
    stride: int | Pair | None = None   # None: the pool size (windows side by side)

    activation = "linear"   # a pool row is linear (a = z) and holds no parameters
    alpha = 0.0
    use_bias = False

    def __post_init__(self) -> None:
        self.pool_size = pair(self.pool_size, f"{self.kind} pool_size")
        self.stride = self.pool_size if self.stride is None else pair(self.stride, f"{self.kind} stride")

    def config(self) -> dict[str, Any]:
        return {"type": self.kind, "pool_size": list(self.pool_size), "stride": list(self.stride)}


@dataclass
class MaxPool2D(_Pool2D):
    """z = the largest value of each pool_size window, channel by channel. Backward: the max
    gate, each output's gradient goes to the one input that won (the first of equal ones)."""

    kind = "maxpool2d"


@dataclass
class AvgPool2D(_Pool2D):
    """z = the mean of each pool_size window. Backward: each output's gradient is shared
    equally by the inputs of its window."""

    kind = "avgpool2d"


@dataclass
class Flatten(Layer):
    """(channels, height, width) → one vector, channel by channel and row by row (PyTorch's
    order, so the dense weights after it move between the two unchanged)."""

    kind = "flatten"
    activation = "linear"
    alpha = 0.0
    use_bias = False

    def config(self) -> dict[str, Any]:
        return {"type": "flatten"}


# -- recurrent layers ----------------------------------------------------------------------------
@dataclass
class _Recurrent(Layer):
    """A layer that reads a sequence (T steps of F features) one step at a time, feeding its
    hidden state h back in. W (F × k·units) weighs the step's input, U (units × k·units) the
    previous h, b (k·units) is the bias: Keras' kernel, recurrent_kernel and bias, PyTorch's
    weight_ih and weight_hh transposed (and b_ih + b_hh). `return_sequences`: every step's h
    goes on (T, units), else only the last step's (units,), as in Keras."""

    units: int = 1
    return_sequences: bool = False
    init: str = "glorot_uniform"
    recurrent_init: str = "orthogonal"
    bias_init: str | float | None = None
    use_bias: bool = True
    init_options: dict[str, float] = field(default_factory=dict)

    gates = 1

    def __post_init__(self) -> None:
        if isinstance(self.units, bool) or not isinstance(self.units, (int, np.integer)) \
                or self.units < 1:
            raise ValueError(f"{self.kind} units must be an integer >= 1, got {self.units!r}")
        self.units = int(self.units)
        if not isinstance(self.return_sequences, (bool, np.bool_)):
            raise ValueError(f"{self.kind} return_sequences must be true or false, got "
                             f"{self.return_sequences!r}")
        self.return_sequences = bool(self.return_sequences)
        self.init = initializers.INITIALIZERS.canonical(self.init)
        self.recurrent_init = initializers.INITIALIZERS.canonical(self.recurrent_init)
        if isinstance(self.bias_init, str):
            self.bias_init = initializers.INITIALIZERS.canonical(self.bias_init)

    def initialize(self, rng: np.random.Generator, input_shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        """Fresh W (input features × k·units), U (units × k·units) and b (k·units)."""
        k, H = self.gates, self.units
        W = initializers.get(self.init)(rng, (int(input_shape[-1]), k * H), **self.init_options)
        U = initializers.get(self.recurrent_init)(rng, (H, k * H), **self.init_options)
        bi = 0.0 if self.bias_init is None else self.bias_init
        if isinstance(bi, str):
            b = initializers.get(bi)(rng, (k * H,), **self.init_options)
        else:
            b = np.full(k * H, float(bi))
        if not self.use_bias:
            b = np.zeros(k * H)
        return {"W": W, "U": U, "b": b}

    def param_count(self, features: int) -> int:
        """k·(F·units + units·units + units): W, U and (if used) b."""
        k, H = self.gates, self.units
        return k * (features * H + H * H + (H if self.use_bias else 0))

    def config(self) -> dict[str, Any]:
        return {"type": self.kind, "units": self.units, "return_sequences": self.return_sequences,
                "init": self.init, "recurrent_init": self.recurrent_init,
                "bias_init": self.bias_init, "use_bias": self.use_bias}


@dataclass
class SimpleRNN(_Recurrent):
    """h_t = f(x_t·W + h_{t−1}·U + b) from h₋₁ = 0; f is tanh unless `activation` says
    otherwise (softmax is refused)."""

    activation: str = "tanh"
    alpha: float | None = None

    kind = "simple_rnn"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.activation = activations.ACTIVATIONS.canonical(self.activation)
        if self.activation == "softmax":
            raise ValueError("softmax is only allowed on the (dense) output layer, not on "
                             "simple_rnn")
        if self.alpha is None:
            self.alpha = activations.get(self.activation).default_alpha

    def config(self) -> dict[str, Any]:
        return {**super().config(), "activation": self.activation, "alpha": self.alpha}


@dataclass
class LSTM(_Recurrent):
    """Long short-term memory: gates i, f, o = σ(·) and a candidate g = tanh(·), each from
    x_t·W + h_{t−1}·U + b (blocks in that order: input, forget, cell, output); the cell keeps
    c_t = f·c_{t−1} + i·g and the layer outputs h_t = o·tanh(c_t). The forget gate's biases
    start at `forget_bias` (the other biases as bias_init says): 1 as Keras' unit_forget_bias,
    so the cell keeps σ(1) ≈ 0.73 of itself per step at the start; a larger value keeps more
    (σ(3) ≈ 0.95), which lets a gradient reach steps further back before training has taught
    the gate to stay open; 0 with zero biases is Keras' unit_forget_bias = False."""

    forget_bias: float = 1.0

    gates = 4
    kind = "lstm"
    activation = "tanh"   # the cell's (fixed); the gates use σ
    alpha = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.forget_bias, bool) or not isinstance(self.forget_bias, (int, float)) \
                or not np.isfinite(self.forget_bias):
            raise ValueError(f"lstm forget_bias must be a number, got {self.forget_bias!r}")
        self.forget_bias = float(self.forget_bias)

    def initialize(self, rng: np.random.Generator, input_shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        out = super().initialize(rng, input_shape)
        if self.use_bias:
            out["b"][self.units:2 * self.units] = self.forget_bias
        return out

    def config(self) -> dict[str, Any]:
        return {**super().config(), "forget_bias": self.forget_bias}
