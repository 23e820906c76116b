#!/usr/bin/env python
"""Memory soak: play a lesson at full speed for --minutes and watch the process's RSS.

app   (default) the real app in a headless Textual session (`NnsimApp.run_test`, the same code as
      in a terminal): open the lesson, press space at the fastest speed, and move between the
      four tabs (network, stepper, boundary, plots) once per sample so every view keeps drawing;
lab   the app's play path without a screen: `Lab.play_chunk` in a loop, as the play worker runs it.

Every --every seconds it prints a row: minutes, RSS, steps and epochs trained, what the bounded
history holds (epoch records kept / recorded, mini-batch rows kept / recorded) and the app's step
ring. At the end: RSS at 1, 5, 10, 20 and 30 minutes (those within the run) and the growth after
the first minute, which issue 9 asks to stay under 10 %.

    python benchmarks/soak_play.py                         # 30 minutes, the app, two circles
    python benchmarks/soak_play.py --minutes 2 --every 5   # a quick look
    python benchmarks/soak_play.py --mode lab --minutes 5
    nohup python benchmarks/soak_play.py > soak.txt 2>&1 & # in the background (one core)

RSS is read from /proc/self/statm (Linux); elsewhere the peak from getrusage is shown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT = ROOT / "nnsim" / "lessons" / "06-two-circles.toml"
TABS = ("tab-network", "tab-stepper", "tab-boundary", "tab-plots")
MARKS = (1, 5, 10, 20, 30)


def rss_mb() -> float:
    """Resident set size now (Linux), else the peak so far, in MB."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1e3 if sys.platform != "darwin" else peak / 1e6


class Sampler:
    """Rows of (seconds, RSS, counters), printed as they come."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.rows: list[dict[str, Any]] = []
        self.t0 = time.perf_counter()
        print(f"{'min':>6} {'RSS MB':>8} {'steps':>12} {'epochs':>9} {'epochs kept':>13} "
              f"{'batches kept':>14} {'ring':>5}", flush=True)

    def sample(self, lab: Any) -> None:
        t = lab.trainer
        s = t.history.summary()
        row = {"seconds": time.perf_counter() - self.t0, "rss_mb": rss_mb(), "steps": t.step,
               "epochs": t.epoch, "epochs_kept": s["epochs_kept"],
               "batches_kept": s["batches_kept"], "ring": len(lab.timeline)}
        self.rows.append(row)
        print(f"{row['seconds'] / 60:6.2f} {row['rss_mb']:8.1f} {t.step:12,} {t.epoch:9,} "
              f"{s['epochs_kept']:>13,} {s['batches_kept']:>14,} {row['ring']:5}", flush=True)

    def report(self) -> dict[str, Any]:
        rows = self.rows
        if not rows:
            return {}
        print("\nRSS at", flush=True)
        at: dict[str, float] = {}
        for m in MARKS:
            near = [r for r in rows if r["seconds"] >= 60 * m - self.every / 2]
            if near and near[0]["seconds"] <= 60 * m + self.every:
                at[f"{m} min"] = near[0]["rss_mb"]
                print(f"  {m:3d} min  {near[0]['rss_mb']:8.1f} MB", flush=True)
        after = [r for r in rows if r["seconds"] >= 60]
        out: dict[str, Any] = {"rss_at": at, "rows": rows}
        if after:
            base, top = after[0]["rss_mb"], max(r["rss_mb"] for r in after)
            last = rows[-1]["rss_mb"]
            out["growth_after_1min_pct"] = 100 * (top - base) / base
            print(f"  after the first minute: {base:.1f} MB -> peak {top:.1f} MB, last "
                  f"{last:.1f} MB: growth {out['growth_after_1min_pct']:+.1f} % "
                  f"({'flat' if out['growth_after_1min_pct'] < 10 else 'NOT flat'}: "
                  "the target is < 10 %)", flush=True)
        last = rows[-1]
        print(f"  trained {last['steps']:,} mini-batches, {last['epochs']:,} epochs in "
              f"{last['seconds'] / 60:.1f} min", flush=True)
        return out


def run_lab(path: Path, seconds: float, every: float) -> dict[str, Any]:
    """The play worker's loop (Lab.play_chunk) without a screen."""
    from nnsim.tui.controller import SPEEDS, Lab
    from nnsim.tui.session import load_session

    lab = Lab(load_session(path))
    lab.speed_index = len(SPEEDS) - 1          # as fast as possible
    sampler = Sampler(every)
    next_at = 0.0
    while True:
        now = time.perf_counter() - sampler.t0
        if now >= next_at:
            sampler.sample(lab)
            while next_at <= now:
                next_at += every
        if now >= seconds:
            break
        lab.play_chunk()
        lab.frame()
    return sampler.report()


async def run_app(path: Path, seconds: float, every: float, size: tuple[int, int]) -> dict[str, Any]:
    """The real app, headless: space at the fastest speed, a tab change per sample."""
    from nnsim.tui.app import NnsimApp
    from nnsim.tui.controller import SPEEDS
    from nnsim.tui.screens import WorkspaceScreen

    app = NnsimApp(path, warmup=False, work_dir=Path.cwd())
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.5)
        ws = app.screen
        assert isinstance(ws, WorkspaceScreen), f"expected the workspace, got {ws!r}"
        lab = ws.lab
        lab.speed_index = len(SPEEDS) - 1          # as fast as possible
        if hasattr(lab, "past_end"):
            lab.past_end = True                    # train on past the lesson's last epoch
        await pilot.press("space")
        await pilot.pause(0.2)
        assert ws.playing, "play did not start"
        sampler = Sampler(every)
        tab = 0
        while True:
            sampler.sample(lab)
            if time.perf_counter() - sampler.t0 >= seconds:
                break
            if not ws.playing:                      # diverged or stopped: say so and go on
                print(f"  (play stopped: {ws._notice!r}; restarting)", flush=True)
                await pilot.press("space")
            tab = (tab + 1) % len(TABS)
            ws.query_one("#tabs").active = TABS[tab]
            deadline = sampler.t0 + len(sampler.rows) * every
            await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
        await pilot.press("space")
        await pilot.pause(0.2)
    return sampler.report()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default=str(DEFAULT))
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    ap.add_argument("--mode", choices=("app", "lab"), default="app")
    ap.add_argument("--size", default="120x36", help="terminal size for --mode app")
    ap.add_argument("--json", help="also write the rows and the summary to this file")
    args = ap.parse_args(argv)
    path = Path(args.scenario)
    print(f"soak: {path.name}, mode {args.mode}, {args.minutes:g} min, a sample every "
          f"{args.every:g} s; pid {os.getpid()}", flush=True)
    seconds = 60 * args.minutes
    if args.mode == "lab":
        out = run_lab(path, seconds, args.every)
    else:
        w, h = (int(v) for v in args.size.split("x"))
        out = asyncio.run(run_app(path, seconds, args.every, (w, h)))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
