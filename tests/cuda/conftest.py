"""The cuda backend's tests run under Numba's CUDA simulator, in their own pytest invocation:

    NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda

(`.ci/run` runs it after the main suite). The variable must be set before numba is imported, so
a plain `python -m pytest` collects nothing here; `tests/test_cuda_ptx.py` is the part of the
proof that needs no simulator (every kernel compiled to PTX).

Launch shapes are set small (4 threads per block, 2 × 2 product tiles) so that every kernel
runs several blocks and a partial last block on the tiny shapes the simulator can afford. The
simulator runs each GPU thread as a Python thread; a short GIL switch interval lets the threads
of a block meet at `syncthreads` barriers quickly (about 7× faster here).
"""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pytest

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM", "0").strip() not in ("", "0")

if not SIMULATOR:
    collect_ignore_glob = ["test_*.py"]


def _lock_shared_allocations() -> None:
    """Make the simulator's `cuda.shared.array` safe for the threads of a block.

    numba-cuda 0.30's simulator (`simulator/kernelapi.py`, `FakeCUDAShared.array`) keys a
    block's shared arrays by the caller's file and line and creates one on first use with an
    unlocked get-then-insert. Each GPU thread is a Python thread, so when the interpreter
    switches threads between the get and the insert, two threads of one block each create
    their own array: their writes never meet and a tiled product or a block sum reads
    garbage. Whole runs then ended with weights off by up to 5e-2 about once in ten runs under
    load (1 in 9 for the SimpleRNN/LSTM run with a 1e-6 s switch interval and the other core
    busy; 0 in 30 with this lock). A GPU has no such step, so this is a fix of the harness, not
    of the kernels. Same key and same arrays as the simulator's own code, under a lock.
    """
    from numba.core import types
    from numba.cuda.simulator import kernelapi
    from numba.np import numpy_support

    lock = threading.Lock()

    def array(self, shape, dtype, alignment=None):
        if alignment is not None:
            raise RuntimeError("Array alignment is not supported in cudasim")
        if isinstance(dtype, types.Type):
            dtype = numpy_support.as_dtype(dtype)
        if shape == 0:       # dynamic shared memory: one buffer, as the simulator does
            count = self._dynshared_size // dtype.itemsize
            return np.frombuffer(self._dynshared.data, dtype=dtype, count=count)
        caller = sys._getframe(1)
        key = (caller.f_code.co_filename, caller.f_lineno)
        with lock:
            res = self._allocations.get(key)
            if res is None:
                res = self._allocations[key] = np.empty(shape, dtype)
        return res

    kernelapi.FakeCUDAShared.array = array


if SIMULATOR:
    _lock_shared_allocations()


@pytest.fixture(autouse=True, scope="session")
def small_launches():
    """TPB = 4, TILE = 2 for the whole session; the GIL switch interval short."""
    from nnsim.kernels import cuda_dense
    saved = cuda_dense.TPB, cuda_dense.TILE, sys.getswitchinterval()
    cuda_dense.TPB, cuda_dense.TILE = 4, 2
    sys.setswitchinterval(1e-5)
    yield
    cuda_dense.TPB, cuda_dense.TILE = saved[:2]
    sys.setswitchinterval(saved[2])
