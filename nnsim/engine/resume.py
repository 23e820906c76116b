"""Checking a trainer state (what `Trainer.state_dict` returns, e.g. read back from a checkpoint)
before anything is restored: every value's type, range and consistency. ValueError names the
field. Imports nothing above the engine.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..kernels import catalogue as cat
from . import health
from .history import History
from .optimizers import LR_OPTION, Optimizer, check_learning_rate

#: Counters (steps, samples, epochs, the optimizer's t) stay below this: exact in float64 and
#: far from int64 overflow.
COUNT_MAX = 2**53
KEYS = ("optimizer", "t", "s1", "s2", "epoch", "pos", "batch", "step", "samples_seen",
        "max_grad_norm", "base_lr", "batch_size", "epoch_grad_norm_sum", "rng", "plan_drawn",
        "seed", "history")
OPTIONAL = {"unit_warnings": []}    # format-1 checkpoints lack these


def _count(state: dict[str, Any], key: str, lo: int = 0, hi: int = COUNT_MAX) -> int:
    v = state[key]
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"{key} must be an integer, got {v!r}")
    if not lo <= v <= hi:
        raise ValueError(f"{key} = {v} is out of range ({lo} to {hi})")
    return int(v)


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{key} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{key} must be a finite number >= 0, got {value!r}")
    return v


def _rng_state(value: Any) -> dict[str, Any]:
    """A PCG64 bit-generator state: {"bit_generator": "PCG64", "state": {"state", "inc"},
    "has_uint32", "uinteger"}, checked and tried on a scratch generator."""
    ok = (isinstance(value, dict) and set(value) == {"bit_generator", "state", "has_uint32", "uinteger"}
          and value["bit_generator"] == "PCG64" and isinstance(value["state"], dict)
          and set(value["state"]) == {"state", "inc"}
          and all(type(value["state"][k]) is int and 0 <= value["state"][k] < 2**128
                  for k in ("state", "inc"))
          and value["has_uint32"] in (0, 1) and type(value["has_uint32"]) is int
          and type(value["uinteger"]) is int and 0 <= value["uinteger"] < 2**32)
    if not ok:
        raise ValueError("rng must be a PCG64 state {bit_generator, state: {state, inc}, "
                         "has_uint32, uinteger} with integers in range")
    try:
        np.random.default_rng().bit_generator.state = value
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"rng: {exc}") from None
    return value


def check_state(trainer: Any, state: Any) -> dict[str, Any]:
    """The state with every value checked against `trainer` (its network, data, optimizer);
    the history rebuilt as a `History`. Raises ValueError naming the first bad field."""
    if not isinstance(state, dict):
        raise ValueError("the state must be a table")
    missing = [k for k in KEYS if k not in state]
    extra = sorted(set(state) - set(KEYS) - set(OPTIONAL))
    if missing or extra:
        raise ValueError("missing " + ", ".join(missing) if missing else "unknown keys " + ", ".join(extra))
    net, opt = trainer.net, trainer.optimizer
    out: dict[str, Any] = {}

    conf = state["optimizer"]
    if not isinstance(conf, dict) or not isinstance(conf.get("name"), str):
        raise ValueError("optimizer must be a table with a name")
    if conf["name"] != opt.name:
        raise ValueError(f"it was saved with optimizer {conf['name']}, this run uses {opt.name}")
    try:
        Optimizer.create(conf["name"], **{k: v for k, v in conf.items() if k != "name"})
    except (ValueError, TypeError) as exc:
        raise ValueError(f"optimizer: {exc}") from None

    n = net.n_params
    for key in ("s1", "s2"):
        arr = np.asarray(state[key])
        if arr.shape != (n,) or arr.dtype.kind != "f":
            raise ValueError(f"optimizer state {key} must be a float array of shape ({n},), "
                             f"got {arr.dtype} {arr.shape}")
        with np.errstate(over="ignore", invalid="ignore"):
            cast = arr.astype(net.dtype)
        if not np.all(np.isfinite(cast)):
            raise ValueError(f"optimizer state {key} holds values that are not finite in {net.dtype.name}")
        out[key] = cast
    nonneg = {cat.ADAGRAD: "s1", cat.RMSPROP: "s1", cat.ADAM: "s2"}.get(opt.code)
    if nonneg is not None and np.any(out[nonneg] < 0):
        raise ValueError(f"optimizer state {nonneg} (a running sum of g²) holds negative values")

    for key in ("epoch", "pos", "batch", "step", "samples_seen", "t"):
        out[key] = _count(state, key)
    if out["pos"] >= trainer.n_train:
        raise ValueError(f"pos = {out['pos']} but the training set has {trainer.n_train} samples "
                         "(was the checkpoint made with other data or another seed?)")
    if out["batch"] > out["pos"] or (out["batch"] == 0) != (out["pos"] == 0):
        raise ValueError(f"batch = {out['batch']} does not fit pos = {out['pos']}")
    if out["step"] < out["batch"] + out["epoch"] or out["samples_seen"] < out["pos"]:
        raise ValueError("step or samples_seen is smaller than the epochs and batches done")
    if out["t"] > out["step"]:
        raise ValueError(f"t = {out['t']} is larger than step = {out['step']}")
    out["batch_size"] = _count(state, "batch_size", 1, 2**31 - 1)
    out["seed"] = _count(state, "seed", 0, 2**63 - 1)
    out["max_grad_norm"] = _number(state["max_grad_norm"], "max_grad_norm")
    try:
        out["base_lr"] = check_learning_rate(state["base_lr"])
        health.check_survives("learning_rate", out["base_lr"], net.dtype, LR_OPTION)
    except ValueError as exc:
        raise ValueError(f"base_lr: {exc}") from None
    gn = state["epoch_grad_norm_sum"]
    if not isinstance(gn, list) or len(gn) != net.n_dense:
        raise ValueError(f"epoch_grad_norm_sum must be a list of {net.n_dense} numbers")
    out["epoch_grad_norm_sum"] = [_number(v, "epoch_grad_norm_sum") for v in gn]
    out["rng"] = _rng_state(state["rng"])
    if not isinstance(state["plan_drawn"], bool):
        raise ValueError("plan_drawn must be true or false")
    if out["pos"] > 0 and not state["plan_drawn"]:
        raise ValueError("plan_drawn is false in the middle of an epoch")
    out["plan_drawn"] = state["plan_drawn"]
    hist = History.from_state(state["history"], net.n_dense)
    if hist.epoch_count != out["epoch"] or hist.batch_count != out["step"]:
        raise ValueError(f"the history holds {hist.epoch_count} epochs and {hist.batch_count} "
                         f"mini-batches, the counters say {out['epoch']} and {out['step']}")
    out["history"] = hist
    uw = state.get("unit_warnings", OPTIONAL["unit_warnings"])
    if (not isinstance(uw, list) or len(uw) > 16
            or not all(isinstance(w, str) and len(w) <= 500 for w in uw)):
        raise ValueError("unit_warnings must be a list of at most 16 short strings")
    out["unit_warnings"] = list(uw)
    return out
