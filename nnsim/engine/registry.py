"""Name registries with Keras-style `get(name)` and helpful errors."""

from __future__ import annotations

from typing import Generic, Iterable, TypeVar

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
