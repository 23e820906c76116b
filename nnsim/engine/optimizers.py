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

from ..kernels import catalogue as cat
from .registry import Option, Registry

_MOMENTUM = Option("momentum", 0.9, 0.0, 1.0, high_inclusive=False, hp=cat.HP_MU,
                   doc="μ, the fraction of the velocity kept from one step to the next")
_EPSILON = Option("epsilon", 1e-7, 0.0, 1.0, low_inclusive=False, hp=cat.HP_EPS,
                  doc="ε, added to the denominator so it is never 0")


@dataclass(frozen=True)
class OptimizerSpec:
    """A registry entry: the kernels' code and the settings the optimizer takes."""

    name: str
    code: int
    options: tuple[Option, ...]
    aliases: tuple[str, ...] = ()

    def option(self, key: str) -> Option:
        return next(o for o in self.options if o.name == key)


OPTIMIZERS: Registry[OptimizerSpec] = Registry("optimizer")
for _spec in (
    OptimizerSpec("sgd", cat.SGD, (), ("gd",)),
    OptimizerSpec("momentum", cat.MOMENTUM, (_MOMENTUM,), ("sgd_momentum",)),
    OptimizerSpec("nesterov", cat.NESTEROV, (_MOMENTUM,)),
    OptimizerSpec("adagrad", cat.ADAGRAD, (
        _EPSILON, Option("initial_accumulator", 0.1, 0.0, 1e6, hp=cat.HP_INITACC,
                         doc="the accumulator's starting value"))),
    OptimizerSpec("rmsprop", cat.RMSPROP, (
        Option("rho", 0.9, 0.0, 1.0, high_inclusive=False, hp=cat.HP_RHO,
               doc="ρ, the decay of the running mean of g²"), _EPSILON), ("rms_prop",)),
    OptimizerSpec("adam", cat.ADAM, (
        Option("beta1", 0.9, 0.0, 1.0, high_inclusive=False, hp=cat.HP_B1,
               doc="β₁, the decay of the first moment m"),
        Option("beta2", 0.999, 0.0, 1.0, high_inclusive=False, hp=cat.HP_B2,
               doc="β₂, the decay of the second moment v"), _EPSILON)),
):
    assert OPTIMIZERS.add(_spec.name, _spec, aliases=_spec.aliases).code == cat.OPTIMIZERS[_spec.name]

LR_OPTION = Option("learning_rate", 0.01, 0.0, 1000.0, low_inclusive=False, hp=cat.HP_LR,
                   doc="η, the step size")
LR_MAX = LR_OPTION.high
#: Gradient clipping by global norm (every optimizer): g ← g·c/‖g‖ when ‖g‖ > c; 0 is off.
CLIP_OPTION = Option("clip_norm", 0.0, 0.0, 1e6, hp=cat.HP_CLIP,
                     doc="c, the largest global gradient norm an update uses (0: no clipping)")


def names() -> list[str]:
    return OPTIMIZERS.names()


def spec(name: str) -> OptimizerSpec:
    """The registry entry of optimizer `name` (or an alias)."""
    return OPTIMIZERS.get(name)


def all_options() -> dict[str, Option]:
    """Every optimizer setting by name (a setting shared by several optimizers is one Option),
    in the order of the kernels' hyperparameter vector."""
    out: dict[str, Option] = {}
    for n in names():
        for o in OPTIMIZERS.get(n).options:
            assert out.setdefault(o.name, o) == o, f"optimizer setting {o.name} defined twice"
    return dict(sorted(out.items(), key=lambda kv: kv[1].hp))   # in the kernels' hp order


def takers(key: str) -> list[str]:
    """The optimizers that take setting `key`."""
    return [n for n in names() if any(o.name == key for o in OPTIMIZERS.get(n).options)]


def defaults(name: str) -> dict[str, float]:
    """The documented default hyperparameters of optimizer `name`."""
    return {o.name: float(o.default) for o in OPTIMIZERS.get(name).options}


def check_learning_rate(lr: Any) -> float:
    """Validate a learning rate: 0 < η <= 1000."""
    try:
        return LR_OPTION.check("learning_rate", lr)
    except ValueError as err:
        raise ValueError(str(err).removeprefix("learning_rate: ")) from None


@dataclass
class Optimizer:
    """An optimizer's name, validated hyperparameters and per-parameter state."""

    name: str
    options: dict[str, float] = field(default_factory=dict)
    code: int = cat.SGD
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
        entry = OPTIMIZERS.get(canon)
        clean = {}
        for key, value in opts.items():
            if value is None:
                continue
            if key not in {o.name for o in entry.options}:
                allowed = ", ".join(o.name for o in entry.options) or "none"
                raise ValueError(f"optimizer {canon} has no setting {key!r}; its settings: {allowed}")
            clean[key] = entry.option(key).check(f"optimizer {canon}", value)
        full = {o.name: clean.get(o.name, float(o.default)) for o in entry.options}
        return cls(canon, full, entry.code)

    def hp_vector(self, lr: float) -> np.ndarray:
        """The kernels' hyperparameter vector (catalogue.HP_*): lr and this optimizer's
        settings at their indices, zeros elsewhere."""
        hp = np.zeros(cat.HP_SIZE, dtype=np.float64)
        hp[cat.HP_LR] = lr
        for o in OPTIMIZERS.get(self.name).options:
            hp[o.hp] = self.options[o.name]
        return hp

    def init_state(self, n: int, dtype: np.dtype) -> None:
        """Allocate zeroed state for `n` parameters (adagrad's accumulator starts at its setting)."""
        self.s1 = np.zeros(n, dtype=dtype)
        self.s2 = np.zeros(n, dtype=dtype)
        if self.code == cat.ADAGRAD:
            self.s1[:] = self.options["initial_accumulator"]
        self.t = 0

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self.options}
