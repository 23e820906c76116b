"""Warm the Numba kernels before the first workspace opens. Imports no textual.

The first launch compiles them (tens of seconds); later launches load them from Numba's cache
(`cache=True`), which takes well under a second. Each step trains or predicts with a tiny
float32 network so the exact type signatures the app uses are compiled or loaded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np


@dataclass(frozen=True)
class WarmStep:
    """One finished warm-up step."""

    index: int          # 1-based
    total: int
    label: str
    seconds: float
    from_cache: bool    # loaded rather than compiled


def _cache_hits() -> int:
    from nnsim.kernels import cpu
    total = 0
    for name in ("train_batches", "optimizer_update", "predict"):
        stats = getattr(getattr(cpu, name, None), "stats", None)
        if stats is not None:
            total += sum(stats.cache_hits.values())
    return total


def warm_steps() -> Iterator[WarmStep]:
    """Compile or load each kernel the app uses, yielding after each one."""
    steps: list[tuple[str, Callable[[], None]]] = []
    state: dict[str, object] = {}

    def load() -> None:
        import nnsim.kernels.cpu  # noqa: F401  (imports numba)

    def trainer() -> None:
        from nnsim.engine import Dense, Network, Trainer
        rng = np.random.default_rng(0)
        x = rng.normal(size=(8, 2))
        y = (x[:, :1] > 0).astype(np.float64)
        net = Network(2, [Dense(3, activation="tanh"), Dense(1, activation="sigmoid")])
        tr = Trainer(net, x, y, x, y, loss="binary_crossentropy", batch_size=4)
        tr.play(2)
        state["trainer"] = tr

    def stepper() -> None:
        tr = state["trainer"]
        tr.step_batch(trace=True)  # type: ignore[attr-defined]

    def predict() -> None:
        tr = state["trainer"]
        tr.predict(np.zeros((3, 2)))  # type: ignore[attr-defined]

    steps = [("loading Numba", load), ("training kernel", trainer),
             ("stepper and optimizer kernels", stepper), ("prediction kernel", predict)]
    for i, (label, fn) in enumerate(steps, 1):
        hits = _cache_hits() if i > 1 else 0
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        cached = i == 1 or _cache_hits() > hits or dt < 0.5
        yield WarmStep(i, len(steps), label, dt, cached)
