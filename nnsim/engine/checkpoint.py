"""Checkpoints as `.npz` (no pickle): weights `layer{i}.W` / `layer{i}.b`, optimizer state,
counters, RNG state and history. Writes are atomic (temp file, then rename).

A file holding only weights loads into any network of the same shapes and starts the optimizer
fresh; a full checkpoint resumes exactly (the next step equals the original run's next step).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from .trainer import Trainer

FORMAT = "nnsim-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint could not be read or does not fit the network."""


def save_checkpoint(trainer: Trainer, path: str | os.PathLike, weights_only: bool = False) -> None:
    """Write the trainer's network (and, unless `weights_only`, everything needed to resume)."""
    arrays: dict[str, np.ndarray] = dict(trainer.net.get_weights())
    if not weights_only:
        state = trainer.state_dict()
        arrays["optimizer.s1"] = state.pop("s1")
        arrays["optimizer.s2"] = state.pop("s2")
        arrays["meta"] = np.array(json.dumps({"format": FORMAT, **state}, default=int))
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def load_checkpoint(trainer: Trainer, path: str | os.PathLike) -> bool:
    """Load weights (and full state if present) into `trainer`. Returns True if it resumed."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint file not found: {p}")
    try:
        with np.load(p, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError):
        raise CheckpointError(f"{p} is not a readable .npz checkpoint (a zip of arrays as written "
                              "by `nnsim run --save` or the app's `s`)") from None
    try:
        trainer.net.set_weights(arrays)
    except ValueError as exc:
        raise CheckpointError(f"{p} does not fit this network: {exc}") from None
    if "meta" not in arrays:
        trainer.reset_state()
        return False
    meta = json.loads(str(arrays["meta"]))
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{p}: unknown checkpoint format {meta.get('format')!r}")
    try:
        trainer.load_state({**meta, "s1": arrays["optimizer.s1"], "s2": arrays["optimizer.s2"]})
    except ValueError as exc:
        raise CheckpointError(f"{p}: {exc}") from None
    return True
