"""A ring of recent training steps: weights, gradients and loss as they were. Imports no textual.

Stepping (`n`, `f`, slow play) stores one snapshot per mini-batch with its full trace; fast play
stores one per kernel call (at most one epoch of batches), so the ring always spans at least as
many mini-batches as it holds snapshots. Weights and gradients are kept as float32 copies of the
network's flat parameter vector.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from nnsim.engine import StepTrace

#: How many snapshots the ring keeps (each covers one or more mini-batches).
CAPACITY = 1000


@dataclass(frozen=True)
class Snapshot:
    """The state after global step `step` (1-based)."""

    step: int
    epoch: int             # completed epochs at that moment
    batch: int             # batches done in the current epoch
    batches: int           # mini-batches since the previous snapshot (1 when stepping)
    loss: float            # loss of the last mini-batch (before its update)
    P: np.ndarray          # flat weights after the step (float32)
    G: np.ndarray          # flat gradients of the last mini-batch (float32)
    trace: StepTrace | None = None


@dataclass(frozen=True)
class TensorChange:
    """How one weight tensor moved between two snapshots."""

    name: str
    norm_before: float
    norm_after: float
    change: float          # ‖after − before‖
    max_abs: float         # max |after − before|


class Timeline:
    """Bounded history of snapshots, oldest first."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._ring: deque[Snapshot] = deque(maxlen=capacity)

    def __len__(self) -> int:
        return len(self._ring)

    def __getitem__(self, index: int) -> Snapshot:
        return self._ring[index]

    @property
    def capacity(self) -> int:
        return self._ring.maxlen or 0

    def clear(self) -> None:
        self._ring.clear()

    def add(self, step: int, epoch: int, batch: int, batches: int, loss: float, P: np.ndarray,
            G: np.ndarray, trace: StepTrace | None = None) -> Snapshot:
        """Store a snapshot (copies P and G as float32)."""
        snap = Snapshot(step, epoch, batch, batches, float(loss), P.astype(np.float32),
                        G.astype(np.float32), trace)
        self._ring.append(snap)
        return snap

    def span(self) -> int:
        """Mini-batches covered by the stored snapshots."""
        return sum(s.batches for s in self._ring)


def changes(before: Snapshot, after: Snapshot, names: list[str],
            slices: list[tuple[int, int]]) -> list[TensorChange]:
    """Per-tensor change between two snapshots; `slices` are (start, stop) in the flat vector."""
    out = []
    for name, (a, b) in zip(names, slices):
        w0, w1 = before.P[a:b].astype(np.float64), after.P[a:b].astype(np.float64)
        d = w1 - w0
        out.append(TensorChange(name, float(np.linalg.norm(w0)), float(np.linalg.norm(w1)),
                                float(np.linalg.norm(d)), float(np.max(np.abs(d))) if d.size else 0.0))
    return out
