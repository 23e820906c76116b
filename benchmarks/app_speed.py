#!/usr/bin/env python
"""Play-mode speed of the app against headless training on the same scenario.

headless   `nnsim run`'s training loop (nnsim.cli.run.train_epochs: Trainer.play in chunks of a
           tenth of an epoch, a formatted line per epoch) for --seconds of wall time
engine     the fastest headless path: Trainer.step_epoch() in a loop (one kernel call per epoch)
app        NnsimApp in a headless Textual session (the same compositor work as a terminal,
           without the terminal): space, --seconds of play, space; on the tab given by --tab

The two alternate --repeats times (this machine's load drifts; alternating pairs them up).
Reported: medians of mini-batches per second, the app/headless ratio of each pair, the redraw
rate the app reached, and how long keys took to be handled while training played (a key event
every 0.2 s, timed from posting it until its action ran).

    python benchmarks/app_speed.py                               # the two-circles lesson
    python benchmarks/app_speed.py scenarios/08-spiral.toml --tab boundary --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from nnsim.cli.run import epoch_line, train_epochs
from nnsim.tui.session import load_session

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "scenarios" / "06-two-circles.toml"
TABS = {"network": "tab-network", "stepper": "tab-stepper", "boundary": "tab-boundary",
        "plots": "tab-plots"}


def engine(path: Path, seconds: float) -> float:
    """Mini-batches per second of Trainer.step_epoch() in a loop."""
    trainer = load_session(path).trainer
    trainer.play(1)
    t0, start = time.perf_counter(), trainer.step
    while time.perf_counter() - t0 < seconds:
        trainer.step_epoch()
    return (trainer.step - start) / (time.perf_counter() - t0)


def headless(path: Path, seconds: float) -> float:
    """Mini-batches per second of `nnsim run`'s loop, run for about `seconds`."""
    trainer = load_session(path).trainer
    trainer.play(1)                         # kernels loaded before timing
    lines: list[str] = []
    t0 = time.perf_counter()
    start = trainer.step
    target = trainer.epoch
    while time.perf_counter() - t0 < seconds:
        target += 10
        train_epochs(trainer, target, show_bar=False,
                     on_epoch=lambda rec, target=target: lines.append(epoch_line(rec, target)))
    return (trainer.step - start) / (time.perf_counter() - t0)


async def app_run(path: Path, seconds: float, tab: str, size: tuple[int, int]) -> dict[str, float]:
    """Play in the app for `seconds`; batches/s, redraws/s and key latencies."""
    from textual import events

    from nnsim.tui.app import NnsimApp
    from nnsim.tui.screens import WorkspaceScreen

    app = NnsimApp(path, warmup=False)
    latencies: list[float] = []
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.5)
        ws = app.screen
        assert isinstance(ws, WorkspaceScreen)
        ws.query_one("#tabs").active = TABS[tab]
        await pilot.pause(0.3)
        redraws: list[float] = []
        original = ws._draw_view

        def counting(card: bool) -> None:
            redraws.append(time.perf_counter())
            original(card)

        ws._draw_view = counting  # type: ignore[method-assign]
        lab = ws.lab
        start_step = lab.trainer.step
        await pilot.press("space")
        t0 = time.perf_counter()
        next_key = t0 + 0.2
        while time.perf_counter() - t0 < seconds:
            await asyncio.sleep(0.01)
            if time.perf_counter() >= next_key:
                for key, char in (("minus", "-"), ("plus", "+")):
                    before = lab.speed_index
                    k0 = time.perf_counter()
                    app.post_message(events.Key(key, char))
                    while lab.speed_index == before and time.perf_counter() - k0 < 5:
                        await asyncio.sleep(0.001)
                    latencies.append(time.perf_counter() - k0)
                next_key = time.perf_counter() + 0.2
        t_end = time.perf_counter()
        await pilot.press("space")
        elapsed = time.perf_counter() - t0
        steps = lab.trainer.step - start_step
        frames = sum(t0 <= t <= t_end for t in redraws) * elapsed / (t_end - t0)
    return {"batches_per_s": steps / elapsed, "redraws_per_s": frames / elapsed,
            "key_median_ms": 1e3 * statistics.median(latencies) if latencies else float("nan"),
            "key_max_ms": 1e3 * max(latencies) if latencies else float("nan"),
            "keys_over_100ms": sum(t > 0.1 for t in latencies), "keys": len(latencies),
            "latencies_ms": [round(1e3 * t) for t in latencies]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(DEFAULT))
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--tab", choices=sorted(TABS), default="network")
    parser.add_argument("--size", default="120x36", help="terminal size, e.g. 80x24")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    path = Path(args.scenario)
    w, h = (int(v) for v in args.size.split("x"))
    bases, engines, apps = [], [], []
    for _ in range(args.repeats):
        bases.append(headless(path, args.seconds))
        engines.append(engine(path, args.seconds))
        apps.append(asyncio.run(app_run(path, args.seconds, args.tab, (w, h))))
    base = statistics.median(bases)
    rates = [a["batches_per_s"] for a in apps]
    rate = statistics.median(rates)
    ratio = statistics.median(a / b for a, b in zip(rates, bases))
    ratio_engine = statistics.median(a / b for a, b in zip(rates, engines))
    keys = [a["key_median_ms"] for a in apps]
    print(f"scenario  {path.name}   tab {args.tab}   terminal {w}x{h}   "
          f"{args.repeats} × {args.seconds:g} s each")
    print(f"headless (nnsim run loop)  {base:10,.0f} mini-batches/s   "
          f"(runs: {', '.join(f'{b:,.0f}' for b in bases)})")
    print(f"engine (step_epoch loop)   {statistics.median(engines):10,.0f} mini-batches/s   "
          f"(runs: {', '.join(f'{b:,.0f}' for b in engines)})")
    print(f"app play mode              {rate:10,.0f} mini-batches/s   "
          f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})")
    print(f"app / headless             {ratio:10.0%} (median of the paired runs)")
    print(f"app / engine               {ratio_engine:10.0%}")
    redraws = statistics.median(a["redraws_per_s"] for a in apps)
    print(f"app view redraws           {redraws:10.1f} per second")
    over = sum(a["keys_over_100ms"] for a in apps)
    print(f"keys while playing         median {statistics.median(keys):.0f} ms, "
          f"worst {max(a['key_max_ms'] for a in apps):.0f} ms, "
          f"{over} of {sum(a['keys'] for a in apps)} over 100 ms")


if __name__ == "__main__":
    main()
