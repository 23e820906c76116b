"""Headless parts of the app's first ten minutes: the lesson's speed, end and text sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from nnsim.scenarios import ScenarioError, dump_scenario, loads_scenario

LESSONS = Path(__file__).resolve().parents[1] / "scenarios"


def _with_view(extra: str) -> str:
    return (LESSONS / "06-two-circles.toml").read_text(encoding="utf-8") + extra


def test_view_speed_is_optional_checked_and_written_back():
    s = loads_scenario(_with_view("speed = 30\n"))
    assert s.view.speed == 30
    assert "speed = 30" in dump_scenario(s)
    assert loads_scenario(_with_view("")).view.speed is None
    with pytest.raises(ScenarioError, match="view.speed"):
        loads_scenario(_with_view("speed = 0\n"))
