"""The harness fix in conftest.py: every thread of a block gets the same shared array.

Threads reach `cuda.shared.array` together (a barrier releases them at once, with a tiny GIL
switch interval); without the conftest's lock the simulator sometimes hands two of them
different arrays (seen as wrong weights in whole runs, about one run in ten under load)."""

from __future__ import annotations

import sys
import threading

import numpy as np
from numba.cuda.simulator import kernelapi


def _one_block(threads: int = 8) -> set[int]:
    """The ids of the arrays `threads` threads get from one line, released together."""
    shared = kernelapi.FakeCUDAShared(0)
    gate = threading.Barrier(threads)
    got: list[int] = []

    def thread() -> None:
        gate.wait()
        got.append(id(shared.array((4,), np.float64)))

    workers = [threading.Thread(target=thread) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert len(got) == threads
    return set(got)


def test_threads_of_a_block_share_one_array():
    saved = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(200):
            assert len(_one_block()) == 1
    finally:
        sys.setswitchinterval(saved)


def test_arrays_on_different_lines_stay_apart():
    shared = kernelapi.FakeCUDAShared(0)
    a = shared.array((2,), np.float32)
    b = shared.array((2,), np.float32)
    a[:] = 1.0
    b[:] = 2.0
    assert a is not b and a.dtype == np.float32 and float(a.sum()) == 2.0
