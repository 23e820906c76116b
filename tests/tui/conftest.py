"""Fixtures for the app's Pilot tests: scenario files in a temporary folder, and a driver."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest
from textual.pilot import Pilot

from nnsim.tui.app import NnsimApp
from nnsim.tui.screens import WorkspaceScreen
from nnsim.tui.session import DEMO_TOML

DIVERGING_TOML = """
[scenario]
name = "Too hot"
description = "A learning rate of 100 on a small relu network."
seed = 0

[data]
dataset = "circle"
noise = 0.0

[[layers]]
units = 8
activation = "relu"
init = "he_normal"

[[layers]]
units = 1
activation = "sigmoid"

[training]
loss = "binary_crossentropy"
optimizer = "sgd"
learning_rate = 100.0
batch_size = 10
"""

BROKEN_TOML = """
[scenario]
name = "Broken"

[data]
dataset = "circel"

[[layers]]
units = -3
activation = "tanh"

[training]
loss = "mse"
learning_rate = "fast"
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """demo.toml, diverging.toml and broken.toml in a temporary working folder."""
    out = {}
    for name, text in (("demo", DEMO_TOML), ("diverging", DIVERGING_TOML), ("broken", BROKEN_TOML)):
        path = tmp_path / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        out[name] = path
    return out


Body = Callable[[NnsimApp, Pilot[Any]], Awaitable[None]]


def drive(app: NnsimApp, body: Body, size: tuple[int, int] = (120, 36)) -> NnsimApp:
    """Run `body(app, pilot)` inside `app.run_test()` (no pytest-asyncio here)."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await body(app, pilot)

    asyncio.run(main())
    return app


async def wait_for(pilot: Pilot[Any], cond: Callable[[], bool], timeout: float = 10.0) -> None:
    """Pause until `cond()` holds (fails the test after `timeout` seconds)."""
    t0 = time.perf_counter()
    while not cond():
        if time.perf_counter() - t0 > timeout:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


def workspace(app: NnsimApp) -> WorkspaceScreen:
    screen = app.screen
    assert isinstance(screen, WorkspaceScreen), f"expected the workspace, got {screen!r}"
    return screen


def status(app: NnsimApp) -> str:
    """The status bar's plain text."""
    return str(workspace(app).query_one("#status").render())


def notice(app: NnsimApp) -> str:
    return str(workspace(app).query_one("#notice").render())


class Tools:
    """The helpers above, handed to tests as the `tools` fixture."""

    drive = staticmethod(drive)
    wait_for = staticmethod(wait_for)
    workspace = staticmethod(workspace)
    status = staticmethod(status)
    notice = staticmethod(notice)


@pytest.fixture
def tools() -> type[Tools]:
    return Tools


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., NnsimApp]:
    """`make_app(path=None)`: an app working in tmp_path, without the kernel loading screen."""

    def make(path: Path | str | None = None, **kw: Any) -> NnsimApp:
        kw.setdefault("warmup", False)
        app = NnsimApp(path, work_dir=tmp_path, **kw)
        # No animations: Pilot waits for each one to finish, and the tab underline's slide made
        # every tab switch cost ~0.35 s. What ends up on screen is the same.
        app.animation_level = "none"
        return app

    return make
