"""Write a Scenario back as clean TOML; `loads_scenario(dump_scenario(s)) == s`."""

from __future__ import annotations

import os
from typing import Any

import tomli_w

from ..atomic import atomic_write_text
from .schema import Scenario, Schedule


def _value(value: Any) -> str:
    """One TOML value: strings with newlines as multi-line strings, short arrays and inline tables."""
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    multiline = isinstance(value, str) and "\n" in value and "\r" not in value
    return tomli_w.dumps({"v": value}, multiline_strings=multiline)[len("v = "):].rstrip("\n")


def _table(header: str, values: dict[str, Any]) -> list[str]:
    lines = [header]
    lines += [f"{key} = {_value(value)}" for key, value in values.items() if value is not None]
    return lines


def _schedule(schedule: Schedule) -> str | dict[str, Any]:
    """A bare name when every setting is the schedule's default, else an inline table."""
    if schedule == Schedule(name=schedule.name):
        return schedule.name
    return {"name": schedule.name, **schedule.options()}


def dump_scenario(scenario: Scenario) -> str:
    """The scenario as TOML text (None values and empty [goals]/[view] tables left out)."""
    blocks = [_table("[scenario]", scenario.meta.model_dump()), _table("[data]", scenario.data.model_dump())]
    for layer in scenario.layers:
        blocks.append(_table("[[layers]]", layer.model_dump()))
    training = scenario.training.model_dump()
    training["schedule"] = _schedule(scenario.training.schedule)
    blocks.append(_table("[training]", training))
    for name, table in (("goals", scenario.goals), ("view", scenario.view)):
        values = table.model_dump(exclude_none=True)
        if values:
            blocks.append(_table(f"[{name}]", values))
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


def save_scenario(scenario: Scenario, path: str | os.PathLike[str]) -> None:
    """Write the scenario to `path` atomically (a temporary file in the same folder, then
    `os.replace`), so a crash never leaves a half-written file. OSError propagates."""
    atomic_write_text(path, dump_scenario(scenario))
