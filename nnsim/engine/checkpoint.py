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
from ..kernels.layout import CFG_T
from .history import History
from .trainer import Trainer

FORMAT = "nnsim-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint could not be read or does not fit the network."""


def save_checkpoint(trainer: Trainer, path: str | os.PathLike, weights_only: bool = False) -> None:
    """Write the trainer's network (and, unless `weights_only`, everything needed to resume)."""
    arrays: dict[str, np.ndarray] = dict(trainer.net.get_weights())
    if not weights_only:
        opt = trainer.optimizer
        arrays["optimizer.s1"] = opt.s1.copy()
        arrays["optimizer.s2"] = opt.s2.copy()
        rng_state = trainer._rng_epoch_state if trainer._plan is not None else trainer.rng.bit_generator.state
        meta = {
            "format": FORMAT, "optimizer": opt.config(), "t": opt.t,
            "epoch": trainer.epoch, "pos": trainer.pos, "batch": trainer.batch,
            "step": trainer.step, "samples_seen": trainer.samples_seen,
            "max_grad_norm": trainer.max_grad_norm, "base_lr": trainer.base_lr,
            "batch_size": trainer.batch_size, "epoch_grad_norm_sum": list(trainer._epoch_gn_list),
            "rng": rng_state, "plan_drawn": trainer._plan is not None,
            "seed": trainer.seed, "history": trainer.history.to_json(),
        }
        arrays["meta"] = np.array(json.dumps(meta, default=int))
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
    name = meta["optimizer"]["name"]
    if name != trainer.optimizer.name:
        raise CheckpointError(f"{p} was saved with optimizer {name}, this run uses {trainer.optimizer.name}")
    trainer.batch_size = int(meta["batch_size"])
    trainer.reset_state()
    opt = trainer.optimizer
    opt.s1[:] = arrays["optimizer.s1"]
    opt.s2[:] = arrays["optimizer.s2"]
    opt.t = int(meta["t"])
    trainer.cfg[CFG_T] = opt.t
    trainer.base_lr = float(meta["base_lr"])
    trainer.epoch, trainer.pos, trainer.batch = int(meta["epoch"]), int(meta["pos"]), int(meta["batch"])
    trainer.step, trainer.samples_seen = int(meta["step"]), int(meta["samples_seen"])
    trainer.max_grad_norm = float(meta["max_grad_norm"])
    trainer._epoch_gn_list = [float(v) for v in meta["epoch_grad_norm_sum"]]
    trainer.history = History.from_json(meta["history"])
    trainer.rng.bit_generator.state = meta["rng"]
    if meta["plan_drawn"]:
        trainer._ensure_plan()
    trainer._hp = trainer._make_hp()
    return True
