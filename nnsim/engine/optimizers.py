"""Optimizers. Only they change weights; backward computes gradients.

With learning rate η, gradient g, and per-parameter state (zero at the start):
  sgd:       w ← w − η·g
  momentum:  v ← μ·v − η·g;              w ← w + v
  nesterov:  v ← μ·v − η·g;              w ← w + μ·v − η·g
  adagrad:   c ← c + g²;                 w ← w − η·g / (√c + ε)     (c starts at initial_accumulator)
  rmsprop:   c ← ρ·c + (1 − ρ)·g²;       w ← w − η·g / (√c + ε)
  adam:      m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  t ← t + 1
             w ← w − η·m̂ / (√v̂ + ε),  m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)
Adam flushes |m| < 1e-30 to zero (float32 subnormals otherwise slow every step 3–4×).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .registry import Registry

SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM = range(6)

# name: (code, {hyperparameter: (default, low, high, low_inclusive, high_inclusive)})
_Range = tuple[float, float, float, bool, bool]
_SPECS: dict[str, tuple[int, dict[str, _Range]]] = {
    "sgd": (SGD, {}),
    "momentum": (MOMENTUM, {"momentum": (0.9, 0.0, 1.0, True, False)}),
    "nesterov": (NESTEROV, {"momentum": (0.9, 0.0, 1.0, True, False)}),
    "adagrad": (ADAGRAD, {"epsilon": (1e-7, 0.0, 1.0, False, True),
                          "initial_accumulator": (0.1, 0.0, 1e6, True, True)}),
    "rmsprop": (RMSPROP, {"rho": (0.9, 0.0, 1.0, True, False),
                          "epsilon": (1e-7, 0.0, 1.0, False, True)}),
    "adam": (ADAM, {"beta1": (0.9, 0.0, 1.0, True, False),
                    "beta2": (0.999, 0.0, 1.0, True, False),
                    "epsilon": (1e-7, 0.0, 1.0, False, True)}),
}
OPTIMIZERS: Registry[int] = Registry("optimizer")
for _n, (_c, _) in _SPECS.items():
    OPTIMIZERS.add(_n, _c, aliases={"sgd": ["gd"], "rmsprop": ["rms_prop"], "momentum": ["sgd_momentum"]}.get(_n, []))

#: Order of the hyperparameter vector passed to kernels.
HP_FIELDS = ("momentum", "beta1", "beta2", "epsilon", "rho", "initial_accumulator")
LR_MAX = 1000.0  # high enough to watch lr 100 diverge on purpose


def names() -> list[str]:
    return OPTIMIZERS.names()


def defaults(name: str) -> dict[str, float]:
    """The documented default hyperparameters of optimizer `name`."""
    return {k: v[0] for k, v in _SPECS[OPTIMIZERS.canonical(name)][1].items()}


def _check_range(opt: str, key: str, value: Any, rng: _Range) -> float:
    _, lo, hi, lo_in, hi_in = rng
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"optimizer {opt}: {key} must be a number, got {value!r}") from None
    ok = (v >= lo if lo_in else v > lo) and (v <= hi if hi_in else v < hi)
    if not ok or not np.isfinite(v):
        allowed = f"{lo} {'<=' if lo_in else '<'} {key} {'<=' if hi_in else '<'} {hi}"
        raise ValueError(f"optimizer {opt}: {key} = {value!r} is out of range; allowed {allowed}")
    return v


def check_learning_rate(lr: Any) -> float:
    """Validate a learning rate: 0 < η <= 1000."""
    try:
        v = float(lr)
    except (TypeError, ValueError):
        raise ValueError(f"learning_rate must be a number, got {lr!r}") from None
    if not (0.0 < v <= LR_MAX) or not np.isfinite(v):
        raise ValueError(f"learning_rate = {lr!r} is out of range; allowed 0 < learning_rate <= {LR_MAX}")
    return v


@dataclass
class Optimizer:
    """An optimizer's name, validated hyperparameters and per-parameter state."""

    name: str
    options: dict[str, float] = field(default_factory=dict)
    code: int = SGD
    s1: np.ndarray | None = None  # velocity / accumulator / first moment
    s2: np.ndarray | None = None  # second moment (adam)
    t: int = 0                    # update count (adam's bias correction)

    @classmethod
    def create(cls, name: str, **options: Any) -> "Optimizer":
        """Validate `options` against the optimizer's hyperparameters (ValueError names the field)."""
        canon = OPTIMIZERS.canonical(name)
        opts = dict(options)
        # Keras-style sgd(momentum=…, nesterov=…) maps onto the named variants.
        if canon == "sgd":
            nest = bool(opts.pop("nesterov", False))
            mom = opts.pop("momentum", 0.0)
            if nest or (mom not in (None, 0, 0.0)):
                canon = "nesterov" if nest else "momentum"
                opts["momentum"] = 0.9 if mom in (None, 0, 0.0) else mom
        elif "nesterov" in opts:
            if opts.pop("nesterov") and canon == "momentum":
                canon = "nesterov"
        code, spec = _SPECS[canon]
        clean = {}
        for key, value in opts.items():
            if value is None:
                continue
            if key not in spec:
                allowed = ", ".join(spec) or "none"
                raise ValueError(f"optimizer {canon} has no setting {key!r}; its settings: {allowed}")
            clean[key] = _check_range(canon, key, value, spec[key])
        full = {k: clean.get(k, v[0]) for k, v in spec.items()}
        return cls(canon, full, code)

    def hp_vector(self, lr: float) -> np.ndarray:
        """[lr, momentum, beta1, beta2, epsilon, rho, initial_accumulator] for the kernels."""
        vals = [lr] + [self.options.get(k, 0.0) for k in HP_FIELDS]
        return np.array(vals, dtype=np.float64)

    def init_state(self, n: int, dtype: np.dtype) -> None:
        """Allocate zeroed state for `n` parameters (adagrad's accumulator starts at its setting)."""
        self.s1 = np.zeros(n, dtype=dtype)
        self.s2 = np.zeros(n, dtype=dtype)
        if self.code == ADAGRAD:
            self.s1[:] = self.options["initial_accumulator"]
        self.t = 0

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self.options}


def reference_update(code: int, hp: np.ndarray, p: np.ndarray, g: np.ndarray,
                     s1: np.ndarray, s2: np.ndarray, t: int) -> int:
    """One update in plain NumPy, in place, exactly as the formulas above; returns the new t."""
    lr, mu, b1, b2, eps, rho = (float(x) for x in hp[:6])
    if code == SGD:
        p -= lr * g
    elif code == MOMENTUM:
        s1[:] = mu * s1 - lr * g
        p += s1
    elif code == NESTEROV:
        s1[:] = mu * s1 - lr * g
        p += mu * s1 - lr * g
    elif code == ADAGRAD:
        s1 += g * g
        p -= lr * g / (np.sqrt(s1) + eps)
    elif code == RMSPROP:
        s1[:] = rho * s1 + (1 - rho) * g * g
        p -= lr * g / (np.sqrt(s1) + eps)
    elif code == ADAM:
        t += 1
        s1[:] = b1 * s1 + (1 - b1) * g
        s1[np.abs(s1) < 1e-30] = 0.0
        s2[:] = b2 * s2 + (1 - b2) * g * g
        mhat = s1 / (1 - b1 ** t)
        vhat = s2 / (1 - b2 ** t)
        p -= lr * mhat / (np.sqrt(vhat) + eps)
        return t
    return t + 1
