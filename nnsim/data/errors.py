"""The one error type of the data package."""

from __future__ import annotations

from collections.abc import Iterable


class DataError(ValueError):
    """A dataset could not be generated or loaded.

    ``field`` is the scenario key the problem belongs to (``"data.dataset"``,
    ``"data.path"``, ``"data.target"``, ``"data.classes"``, ...) so a scenario
    loader can report it next to the right line.
    """

    def __init__(self, message: str, field: str = "data") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


def choices(names: Iterable[str]) -> str:
    """Format valid choices for an error message: ``'a', 'b', 'c'``."""
    return ", ".join(repr(n) for n in names)
