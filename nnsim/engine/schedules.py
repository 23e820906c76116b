"""Learning-rate schedules, evaluated once per epoch (epoch e counts from 0).

constant:    η_e = η₀
step:        η_e = η₀ · γ^⌊e / step_size⌋
exponential: η_e = η₀ · γ^e
cosine:      η_e = min_lr + ½(η₀ − min_lr)(1 + cos(π · min(e, t_max) / t_max))
Annealing: big steps early to move fast (and hop out of poor minima), small steps late to settle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .registry import Registry

SCHEDULES: Registry[dict[str, tuple[float, float, float]]] = Registry("schedule")
# name: {setting: (default, low, high)} (inclusive bounds)
SCHEDULES.add("constant", {}, aliases=["none", "fixed"])
SCHEDULES.add("step", {"step_size": (10, 1, 1e9), "gamma": (0.5, 1e-12, 1.0)}, aliases=["step_decay"])
SCHEDULES.add("exponential", {"gamma": (0.95, 1e-12, 1.0)}, aliases=["exponential_decay", "exp"])
SCHEDULES.add("cosine", {"t_max": (100, 1, 1e9), "min_lr": (0.0, 0.0, 10.0)},
              aliases=["cosine_annealing", "annealing"])


def names() -> list[str]:
    return SCHEDULES.names()


@dataclass
class Schedule:
    name: str = "constant"
    options: dict[str, float] = field(default_factory=dict)

    @classmethod
    def create(cls, name: str, **options: Any) -> "Schedule":
        canon = SCHEDULES.canonical(name)
        spec = SCHEDULES.get(canon)
        full: dict[str, float] = {}
        for key, value in options.items():
            if value is None:
                continue
            if key not in spec:
                raise ValueError(f"schedule {canon} has no setting {key!r}; its settings: "
                                 f"{', '.join(spec) or 'none'}")
            lo, hi = spec[key][1], spec[key][2]
            if not isinstance(value, (int, float)) or not (lo <= float(value) <= hi):
                raise ValueError(f"schedule {canon}: {key} = {value!r} is out of range; allowed {lo} <= {key} <= {hi}")
            full[key] = float(value)
        for key, (default, _, _) in spec.items():
            full.setdefault(key, float(default))
        return cls(canon, full)

    def lr(self, base: float, epoch: int) -> float:
        """The learning rate for epoch `epoch` (0-based) from the base rate."""
        o = self.options
        if self.name == "step":
            return base * o["gamma"] ** (epoch // int(o["step_size"]))
        if self.name == "exponential":
            return base * o["gamma"] ** epoch
        if self.name == "cosine":
            tm = o["t_max"]
            frac = min(epoch, tm) / tm
            return o["min_lr"] + 0.5 * (base - o["min_lr"]) * (1 + math.cos(math.pi * frac))
        return base
