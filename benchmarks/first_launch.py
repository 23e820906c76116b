"""How long a student waits on the first launch (empty Numba cache) and on later launches.

Each measurement is a fresh process that starts the app headless (Textual's run_test, 80×24)
on a lesson and records, from the process start: the workspace shown, the kernels ready (the
background compile done), and the first mini-batch trained. "cold" uses an empty
NUMBA_CACHE_DIR; "warm" reuses the one the cold run filled.

    python benchmarks/first_launch.py [--lesson 01] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROBE = r"""
import asyncio, json, sys, time
t0 = float(sys.argv[2])
from nnsim.scenarios.library import builtin_lessons_dir
from nnsim.tui import NnsimApp
from nnsim.tui.screens import WorkspaceScreen

path = next(builtin_lessons_dir().glob(sys.argv[1] + "*.toml"))
out = {}

async def main():
    app = NnsimApp(path, warmup=True)
    async with app.run_test(size=(80, 24)) as pilot:
        while not isinstance(app.screen, WorkspaceScreen):
            await pilot.pause(0.01)
        out["workspace"] = time.time() - t0
        lab = app.screen.lab
        while not lab.kernels_ready():
            await pilot.pause(0.02)
        out["kernels"] = time.time() - t0
        await pilot.press("n")
        while lab.trainer.step < 1:
            await pilot.pause(0.01)
        out["first_batch"] = time.time() - t0
        out["steps"] = [(s.label, round(s.seconds, 2), s.from_cache) for s in app.kernels.steps]

asyncio.run(main())
print(json.dumps(out))
"""


def launch(lesson: str, cache: str) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    res = subprocess.run([sys.executable, "-c", PROBE, lesson, repr(time.time())], env=env,
                         capture_output=True, text=True, timeout=600, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lesson", default="01", help="lesson number or file-name prefix")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows: dict[str, list[dict]] = {"cold": [], "warm": []}
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            rows["cold"].append(launch(args.lesson, cache))
            rows["warm"].append(launch(args.lesson, cache))
    print(f"lesson {args.lesson}: seconds from process start (median of {args.repeats})")
    print(f"{'':6} {'workspace':>10} {'kernels ready':>14} {'first batch':>12}")
    for kind, runs in rows.items():
        med = {k: statistics.median(r[k] for r in runs) for k in ("workspace", "kernels", "first_batch")}
        print(f"{kind:6} {med['workspace']:10.2f} {med['kernels']:14.2f} {med['first_batch']:12.2f}")
    print("cold compile steps (last run):")
    for label, secs, cached in rows["cold"][-1]["steps"]:
        print(f"  {label:36s} {secs:6.2f} s{'  (from cache)' if cached else ''}")


if __name__ == "__main__":
    main()
