"""Backends behind one interface: `train_batches`, `predict`, `optimizer_update`.

`reference` is plain NumPy (tests, benchmarks, diagnosis); `cpu` is Numba. A `cuda` backend
slots in later with the same functions over the same flat layout (see `layout`).
"""

from __future__ import annotations

import importlib
from types import ModuleType

BACKENDS = {"cpu": "nnsim.kernels.cpu", "reference": "nnsim.kernels.reference"}


def get_backend(name: str) -> ModuleType:
    """The backend module called `name` (imported on first use)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; valid choices: {', '.join(BACKENDS)}")
    return importlib.import_module(BACKENDS[name])
