"""One BLAS thread around a kernel call.

Numba's `np.dot` calls the BLAS SciPy loaded (OpenBLAS), which splits a product over all cores
once it is large enough. A recurrent layer makes several such products per mini-batch between
many small ones; on a busy 2-core machine the woken BLAS threads then wait for a core and a
mini-batch of an LSTM(32) took 2.5 ms instead of 0.9 ms (measured here). `single_thread()`
limits BLAS to the calling thread for the duration of a `with` block (~15 µs per block, through
threadpoolctl; a no-op without it).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

_CONTROLLER: Any = None


def single_thread() -> AbstractContextManager[Any]:
    """A context manager that holds BLAS to one thread inside its block."""
    global _CONTROLLER
    if _CONTROLLER is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:          # pragma: no cover - threadpoolctl comes with scikit-learn
            return nullcontext()
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")
