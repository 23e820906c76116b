"""Backends behind one interface: `train_batches`, `predict`, `optimizer_update`.

`reference` is plain NumPy (tests, benchmarks, diagnosis); `cpu` is Numba (`cpu.py` for
all-dense networks, `cpu_layers.py` for networks with conv, pool or flatten rows). A `cuda` backend
(`cuda.py`, numba.cuda, optional: the `cuda` extra) has the same functions over the same flat
layout (see `layout`) and `bind()`, which keeps a trainer's arrays on the device. `auto` is cuda
when a usable GPU is present, else cpu; `detect` says why cuda is not usable without importing
numba.cuda, so a cpu start-up never pays for it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

BACKENDS = {"cpu": "nnsim.kernels.cpu", "reference": "nnsim.kernels.reference",
            "cuda": "nnsim.kernels.cuda"}
CHOICES = ("cpu", "cuda", "auto")   # what a user may ask for (reference: tests only)
#: Networks with conv, pool or flatten rows: `train_batches_layered`, `predict_layered` (the
#: dense contract plus scratch buffers, see `layout.scratch_offsets`) and `optimizer_update`.
LAYERED = {"cpu": "nnsim.kernels.cpu_layers", "reference": "nnsim.kernels.reference",
           "cuda": "nnsim.kernels.cuda"}


class BackendUnavailable(ValueError):
    """The cuda backend was asked for where it cannot run; the message says why."""


def resolve_backend(name: str) -> str:
    """The backend `name` stands for: "auto" is "cuda" when a usable GPU is present, else
    "cpu"; "cuda" raises BackendUnavailable naming every reason it cannot run here (no
    driver, no device, numba-cuda missing). Only cuda and auto look for a GPU."""
    if name == "auto":
        from .detect import gpu_present
        return "cuda" if gpu_present() else "cpu"
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; valid choices: {', '.join(CHOICES)}")
    if name == "cuda":
        from .detect import cuda_problem
        problem = cuda_problem()
        if problem is not None:
            raise BackendUnavailable(f"the cuda backend cannot run here: {problem}")
    return name


def get_backend(name: str, layered: bool = False) -> ModuleType:
    """The backend module called `name` (imported on first use); with `layered`, the module
    holding its kernels for networks that are not all dense."""
    name = resolve_backend(name)
    if layered and name not in LAYERED:
        raise ValueError(f"the {name} backend has no kernels for conv, pool or flatten layers yet; "
                         "use backend cpu for this network")
    return importlib.import_module((LAYERED if layered else BACKENDS)[name])
