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

import pytest

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM", "0").strip() not in ("", "0")

if not SIMULATOR:
    collect_ignore_glob = ["test_*.py"]


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
