"""Name registries with Keras-style `get(name)` and helpful errors."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, Iterable, TypeVar

import numpy as np

T = TypeVar("T")


class Registry(Generic[T]):
    """A dict of named objects with aliases; unknown names raise `ValueError` listing the choices."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def add(self, name: str, item: T, aliases: Iterable[str] = ()) -> T:
        self._items[name] = item
        for alias in aliases:
            self._aliases[alias] = name
        return item

    def canonical(self, name: str) -> str:
        """The canonical name for `name` or an alias of it (case-insensitive)."""
        if not isinstance(name, str):
            raise ValueError(f"{self.kind} must be a name (one of {', '.join(self.names())}), got {name!r}")
        key = name.strip().lower().replace("-", "_")
        if key in self._items:
            return key
        if key in self._aliases:
            return self._aliases[key]
        raise ValueError(
            f"unknown {self.kind} {name!r}; valid choices: {', '.join(self.names())}"
        )

    def get(self, name: str) -> T:
        return self._items[self.canonical(name)]

    def names(self, aliases: bool = False) -> list[str]:
        out = list(self._items)
        if aliases:
            out += list(self._aliases)
        return out

    def __contains__(self, name: object) -> bool:
        try:
            self.canonical(name)  # type: ignore[arg-type]
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class Option:
    """One setting of a registry entry (an optimizer's momentum, a schedule's gamma): its name,
    default, valid range and meaning. The scenario schema, the CLI's and the app's edit rules
    are derived from these; nothing else restates a default or a range.

    `default` None means the caller supplies it (cosine's t_max: the run's epochs).
    """

    name: str
    default: float | None
    low: float
    high: float
    low_inclusive: bool = True
    high_inclusive: bool = True
    integer: bool = False
    doc: str = ""
    hp: int | None = None   # its index in the kernels' hyperparameter vector (catalogue.HP_*)

    def describe(self) -> str:
        """The allowed values in words, e.g. 'a number >= 0 and < 1'."""
        kind = "an integer" if self.integer else "a number"
        lo = f"{'>=' if self.low_inclusive else '>'} {_fmt(self.low)}"
        if self.high == float("inf"):
            return f"{kind} {lo}"
        return f"{kind} {lo} and {'<=' if self.high_inclusive else '<'} {_fmt(self.high)}"

    def allows(self, value: float) -> bool:
        v = float(value)
        if not math.isfinite(v):
            return False
        lo_ok = v >= self.low if self.low_inclusive else v > self.low
        hi_ok = v <= self.high if self.high_inclusive else v < self.high
        return lo_ok and hi_ok and (not self.integer or v == int(v))

    def check(self, owner: str, value: Any) -> float:
        """`value` as a float, or ValueError naming the owner, the setting and what is allowed."""
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{owner}: {self.name} must be a number, got {value!r}")
        if not self.allows(value):
            raise ValueError(f"{owner}: {self.name} = {value!r} is out of range; allowed: "
                             f"{self.describe()}")
        return float(value)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"
