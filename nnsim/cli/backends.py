"""`--backend cpu|cuda|auto` on `nnsim run` and `nnsim gradcheck`.

The option overrides the scenario's `[training] backend` (default cpu). Nothing here looks for a
GPU unless cuda or auto is asked for, so a cpu run starts as fast as before.
"""

from __future__ import annotations

import argparse

from nnsim.kernels import CHOICES, BackendUnavailable, resolve_backend

from .common import UsageError


def add_backend_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=CHOICES, metavar="NAME",
                   help="networks: cpu, cuda (numba.cuda on an NVIDIA GPU; the cuda extra) or "
                        "auto (cuda when a usable GPU is present, else cpu); default: the "
                        "file's training.backend, else cpu")


def chosen_backend(args: argparse.Namespace, scenario) -> str:
    """The backend to train on: --backend, else the file's; "auto" resolved. Asking for cuda
    where it cannot run is a usage error (exit 2) naming every reason."""
    asked = getattr(args, "backend", None)
    name = asked or scenario.training.backend
    try:
        return resolve_backend(name)
    except BackendUnavailable as exc:
        where = "--backend cuda" if asked else f'training.backend = "cuda" in {args.file}'
        raise UsageError(f"{where}: {exc}; use --backend cpu (or auto)") from None
