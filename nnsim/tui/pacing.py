"""Pacing the play worker: the training rate it measured, and how many batches are due now.

Imports no textual.
"""

from __future__ import annotations

import time

#: Wall time of one play chunk (the worker posts progress and checks for cancellation between).
CHUNK_SECONDS = 0.025


class RateMeter:
    """Mini-batches per second over the last second or so."""

    def __init__(self) -> None:
        self._marks: list[tuple[float, int]] = []

    def add(self, step: int) -> None:
        now = time.perf_counter()
        self._marks.append((now, step))
        while len(self._marks) > 2 and now - self._marks[1][0] > 1.0:
            self._marks.pop(0)

    def rate(self) -> float:
        if len(self._marks) < 2:
            return 0.0
        (t0, s0), (t1, s1) = self._marks[0], self._marks[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    def clear(self) -> None:
        self._marks.clear()


class Pacer:
    """How many mini-batches are due now to hold a target rate (None: no limit)."""

    def __init__(self) -> None:
        self.rate: float | None = None
        self.t0 = 0.0
        self.done = 0

    def due(self, rate: float | None) -> int | None:
        now = time.perf_counter()
        if rate != self.rate or self.done == 0:
            self.rate, self.t0, self.done = rate, now, 0
        if rate is None:
            return None
        due = int((now - self.t0) * rate) + 1 - self.done
        cap = max(1, int(rate * CHUNK_SECONDS))
        if due > 2 * cap:       # fell behind (a stall, kernels compiling): drop the backlog, so
            self.t0 = now - self.done / rate     # play never races to catch up
            due = 1
        return max(0, min(due, cap))

    def wait_time(self) -> float:
        """Seconds until the next mini-batch is due (at most one chunk)."""
        if self.rate is None:
            return 0.0
        left = (self.done + 1) / self.rate - (time.perf_counter() - self.t0)
        return max(0.001, min(CHUNK_SECONDS, left))

    def add(self, n: int) -> None:
        self.done += n
