#!/usr/bin/env python
"""Random keys against the app: a seeded stream of key presses, then q; the app must end with
exit status 0 and no exception.

The keys are every key bound anywhere in the app (the app, its screens and widgets), plus the
letters, digits, arrows, escape, enter, tab and backspace, drawn uniformly with a fixed seed.
Left out: q (pressed once, at the end), the keys that quit or suspend the whole program
(ctrl+q, ctrl+c, ctrl+z), super+ keys (the system clipboard) and f12 (an SVG screenshot on
disk per press; tested on its own). The
app starts on the gallery of the built-in lessons with an empty temporary working folder (where
`s` saves) and opens, plays, edits and leaves lessons as the keys fall.

    python benchmarks/random_keys.py                    # 10,000 keys, seed 0
    python benchmarks/random_keys.py --keys 2000 --seed 7

tests/tui/test_random_keys.py runs 1,000 keys of this with `run()`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import pkgutil
import random
import string
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Never drawn: they end or suspend the whole program, or write a file per press.
EXCLUDED = {"q", "ctrl+q", "ctrl+c", "ctrl+z", "f12"}
EXTRA = [*string.ascii_lowercase, *string.digits, "up", "down", "left", "right", "escape",
         "enter", "tab", "shift+tab", "backspace", "space"]


def app_keys() -> list[str]:
    """Every key bound in nnsim.tui (app, screens, widgets) plus EXTRA, minus EXCLUDED; sorted,
    so a seed always draws the same keys."""
    from textual.binding import Binding

    import nnsim.tui
    from nnsim.tui.app import NnsimApp

    keys: set[str] = set(EXTRA)
    owners: list[Any] = [NnsimApp]
    for info in pkgutil.walk_packages(nnsim.tui.__path__, "nnsim.tui."):
        module = importlib.import_module(info.name)
        owners += [obj for _, obj in inspect.getmembers(module, inspect.isclass)
                   if obj.__module__ == module.__name__ and getattr(obj, "BINDINGS", None)]
    for owner in owners:
        for b in owner.BINDINGS:
            key = b.key if isinstance(b, Binding) else b[0]
            keys.update(k.strip() for k in key.split(","))
    return sorted(k for k in keys - EXCLUDED if not k.startswith("super+"))  # super+c: clipboard


@dataclass
class Result:
    """What a run did."""

    keys: int
    seconds: float
    return_code: int | None
    screens: Counter = field(default_factory=Counter)
    """Key presses by the screen they were pressed on."""
    pressed: Counter = field(default_factory=Counter)


async def _leave_to_quit(app: Any, pilot: Any) -> None:
    """Back out of dialogs, fields and workspaces (escape; n on a "leave?" question), then q."""
    for _ in range(30):
        if not app.is_running:
            return
        screen = type(app.screen).__name__
        if screen == "GalleryScreen" and not _typing(app):
            break
        await pilot.press("n" if "Ask" in screen or "Leave" in screen else "escape")
        await pilot.pause(0.05)
    await pilot.press("q")
    for _ in range(100):
        if not app.is_running:
            return
        await pilot.pause(0.05)


def _typing(app: Any) -> bool:
    from textual.widgets import Input
    return isinstance(app.focused, Input)


async def press_random(app: Any, pilot: Any, n: int, seed: int, keys: list[str],
                       result: Result, report_every: int = 0) -> None:
    rng = random.Random(seed)
    t0 = time.perf_counter()
    for i in range(n):
        if not app.is_running:
            raise AssertionError(f"the app stopped after {i} keys")
        key = rng.choice(keys)
        result.screens[type(app.screen).__name__] += 1
        result.pressed[key] += 1
        await pilot.press(key)
        if report_every and (i + 1) % report_every == 0:
            print(f"  {i + 1:>6} keys, {time.perf_counter() - t0:7.1f} s, on {type(app.screen).__name__}",
                  flush=True)


def run(n: int = 10_000, seed: int = 0, work_dir: Path | None = None,
        size: tuple[int, int] = (120, 36), report_every: int = 0) -> Result:
    """Press `n` random keys (seeded), then q; returns what happened. Exceptions inside the app
    propagate (Textual re-raises them when the test session ends)."""
    from nnsim.tui.app import NnsimApp

    keys = app_keys()
    with tempfile.TemporaryDirectory() as tmp:
        app = NnsimApp(work_dir=work_dir or Path(tmp), warmup=False)
        result = Result(n, 0.0, None)

        async def main() -> None:
            async with app.run_test(size=size) as pilot:
                await pilot.pause()
                t0 = time.perf_counter()
                await press_random(app, pilot, n, seed, keys, result, report_every)
                await _leave_to_quit(app, pilot)
                result.seconds = time.perf_counter() - t0

        asyncio.run(main())
        result.return_code = app.return_code
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    keys = app_keys()
    print(f"{args.keys:,} random keys (seed {args.seed}) from {len(keys)}: {' '.join(keys)}")
    result = run(args.keys, args.seed, report_every=max(1, args.keys // 20))
    print(f"done: {result.keys:,} keys in {result.seconds:.1f} s "
          f"({result.keys / max(result.seconds, 1e-9):.0f} keys/s); exit status {result.return_code}")
    print("keys pressed on: " + ", ".join(f"{k} {v}" for k, v in result.screens.most_common()))
    if result.return_code != 0:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
