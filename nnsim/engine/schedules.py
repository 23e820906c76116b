"""Learning-rate schedules, evaluated once per epoch (epoch e counts from 0).

constant:    η_e = η₀
step:        η_e = η₀ · γ^⌊e / step_size⌋
exponential: η_e = η₀ · γ^e
cosine:      η_e = min_lr + ½(η₀ − min_lr)(1 + cos(π · min(e, t_max) / t_max)), t_max defaulting
             to the run's number of epochs
Annealing: big steps early to move fast (and hop out of poor minima), small steps late to settle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .registry import Option, Registry

_GAMMA = Option("gamma", 0.5, 0.0, 1.0, low_inclusive=False, doc="γ, the factor per decay")
#: name: the settings it takes. t_max's default (None) is the run's number of epochs.
SCHEDULES: Registry[tuple[Option, ...]] = Registry("schedule")
SCHEDULES.add("constant", (), aliases=["none", "fixed"])
SCHEDULES.add("step", (Option("step_size", 10, 1, math.inf, integer=True, doc="epochs between decays"),
                       _GAMMA), aliases=["step_decay"])
SCHEDULES.add("exponential", (Option("gamma", 0.95, 0.0, 1.0, low_inclusive=False,
                                     doc="γ, the factor per epoch"),),
              aliases=["exponential_decay", "exp"])
SCHEDULES.add("cosine", (Option("t_max", None, 1, math.inf, integer=True,
                                doc="epochs to anneal over (default: the run's epochs)"),
                         Option("min_lr", 0.0, 0.0, 10.0, doc="the rate reached at t_max")),
              aliases=["cosine_annealing", "annealing"])


def names() -> list[str]:
    return SCHEDULES.names()


def options(name: str) -> tuple[Option, ...]:
    """The settings schedule `name` takes."""
    return SCHEDULES.get(name)


def all_options() -> dict[str, list[str]]:
    """Every schedule setting name → the schedules that take it."""
    out: dict[str, list[str]] = {}
    for n in names():
        for o in SCHEDULES.get(n):
            out.setdefault(o.name, []).append(n)
    return out


@dataclass
class Schedule:
    name: str = "constant"
    options: dict[str, float] = field(default_factory=dict)

    @classmethod
    def create(cls, name: str, epochs: int | None = None, **settings: Any) -> "Schedule":
        """Validate `settings`; a setting left out takes its default (t_max: `epochs`)."""
        canon = SCHEDULES.canonical(name)
        spec = {o.name: o for o in SCHEDULES.get(canon)}
        full: dict[str, float] = {}
        for key, value in settings.items():
            if value is None:
                continue
            if key not in spec:
                raise ValueError(f"schedule {canon} has no setting {key!r}; its settings: "
                                 f"{', '.join(spec) or 'none'}")
            full[key] = spec[key].check(f"schedule {canon}", value)
        for key, o in spec.items():
            if key not in full:
                default = o.default if o.default is not None else epochs
                if default is None:
                    raise ValueError(f"schedule {canon}: {key} is needed ({o.doc})")
                full[key] = spec[key].check(f"schedule {canon}", default)
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
