"""A ring of recent training steps: weights, gradients and loss as they were. Imports no textual.

Stepping (`n`, `f`, slow play) stores one snapshot per mini-batch with its full trace; fast play
stores one per kernel call (at most one epoch of batches), so the ring always spans at least as
many mini-batches as it holds snapshots. Weights and gradients are kept as float32 copies of the
network's flat parameter vector. The ring holds at most CAPACITY snapshots and at most MAX_BYTES
of arrays (weights, gradients, traces), so a large network keeps fewer steps instead of more
memory.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from nnsim.engine import StepTrace

#: How many snapshots the ring keeps (each covers one or more mini-batches).
CAPACITY = 1000
#: The most bytes of arrays the ring keeps (the oldest snapshots go first; the newest stays).
MAX_BYTES = 128 << 20


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

    def __init__(self, capacity: int = CAPACITY, max_bytes: int = MAX_BYTES) -> None:
        self._ring: deque[Snapshot] = deque()
        self._sizes: deque[int] = deque()
        self._cap, self._max_bytes, self.nbytes = capacity, max_bytes, 0

    def __len__(self) -> int:
        return len(self._ring)

    def __getitem__(self, index: int) -> Snapshot:
        return self._ring[index]

    @property
    def capacity(self) -> int:
        return self._cap

    def clear(self) -> None:
        self._ring.clear()
        self._sizes.clear()
        self.nbytes = 0

    def add(self, step: int, epoch: int, batch: int, batches: int, loss: float, P: np.ndarray,
            G: np.ndarray, trace: StepTrace | None = None) -> Snapshot:
        """Store a snapshot (copies P and G as float32)."""
        snap = Snapshot(step, epoch, batch, batches, float(loss), P.astype(np.float32),
                        G.astype(np.float32), trace)
        size = snap.P.nbytes + snap.G.nbytes + _trace_bytes(trace)
        self._ring.append(snap)
        self._sizes.append(size)
        self.nbytes += size
        while len(self._ring) > 1 and (len(self._ring) > self._cap or self.nbytes > self._max_bytes):
            self._ring.popleft()
            self.nbytes -= self._sizes.popleft()
        return snap

    def span(self) -> int:
        """Mini-batches covered by the stored snapshots."""
        return sum(s.batches for s in self._ring)


def _trace_bytes(trace: StepTrace | None) -> int:
    """Bytes of the arrays a step trace holds (its layers' tensors and optimizer states)."""
    if trace is None:
        return 0
    total = 0
    for obj in (trace, *trace.layers):
        for value in vars(obj).values():
            if isinstance(value, np.ndarray):
                total += value.nbytes
            elif isinstance(value, dict):
                total += sum(v.nbytes for v in value.values() if isinstance(v, np.ndarray))
    return total


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
