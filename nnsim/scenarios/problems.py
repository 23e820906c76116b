"""Problems found in a scenario file, and the one exception that carries them all."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any


class _Missing:
    """Sentinel for "no value" (a missing key, or a problem with the whole file)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

_MAX_VALUE_CHARS = 60


def format_value(value: Any) -> str:
    """A short TOML-like rendering of a value for messages: "relu", -1, true, [1, 2]."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    elif isinstance(value, float) and not math.isfinite(value):
        text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(format_value(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {format_value(v)}" for k, v in value.items()) + "}"
    else:
        text = str(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 3] + "..."
    return text


_LAYER_INDEX = re.compile(r"\blayers\[(\d+)\](?:\.|$)")


def display_path(path: str) -> str:
    """A key path as people count layers, from 1: "layers[0].units" → "layer 1 units" (the
    first [[layers]] block); other paths as they are ("training.learning_rate")."""
    def one_based(m: re.Match[str]) -> str:
        return f"layer {int(m.group(1)) + 1}" + (" " if m.group(0).endswith(".") else "")

    return _LAYER_INDEX.sub(one_based, path)


@dataclass(frozen=True)
class Problem:
    """One problem: where (file, key path, line), the bad value, and what is allowed."""

    file: str
    """The file name as given, or "<string>"."""
    path: str
    """Key path such as "training.learning_rate" or "layers[2].units" (0-based, as in the
    parsed document); "" for the whole file. Messages show it 1-based (`display_path`)."""
    value: Any
    """The offending value, or MISSING (missing key, whole-file problem)."""
    message: str
    """What is wrong and what is allowed."""
    line: int | None = None
    """1-based line number in the file, when it can be found."""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if not self.path:
            return f"{where}: {self.message}"
        shown = display_path(self.path)
        if self.value is MISSING:
            return f"{where}: {shown}: {self.message}"
        return f"{where}: {shown} = {format_value(self.value)}: {self.message}"


class ScenarioError(Exception):
    """A scenario file (or text) could not be loaded; `.problems` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))
