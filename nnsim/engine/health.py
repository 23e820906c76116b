"""Numerical health: are the parameters finite, do the settings survive the dtype, is training
stuck (per-epoch warnings), and what caused a divergence.

Warnings (recorded in `EpochRecord.warnings`, checked at the end of every epoch):

* "weights exploded": some weight or bias has |w| > WEIGHT_LIMIT (1e4).
* "units saturated": in a tanh or sigmoid layer, at least half of the units have |z| beyond
  SATURATION_Z (tanh 4, sigmoid 8: f′(z) is below 0.14 % of its peak there) on at least 99 %
  of the training samples checked; such units pass almost no gradient.
* "all relu units dead": every unit of a relu layer has z ≤ 0 on every training sample
  checked; no gradient flows through the layer again.

Layers checked: hidden layers, and the output layer unless its gradient is the fused
cross-entropy form (p − y). "The training samples checked" are up to HEALTH_ROWS evenly
spaced rows of the training set, with the weights at the end of the epoch, dropout off. On the
cpu backend the last mini-batch's pre-activations (already in the kernel's workspace) screen
first, and the full check runs only when they look suspicious. The weight check runs at every
epoch; the unit checks at every epoch up to 100, every 10th up to 1,000 and every 100th after
(`check_due`), and the epochs between repeat the latest result, so that play at thousands of
epochs a second spends about 1 % on them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..kernels import catalogue as cat
from .registry import Option

WEIGHT_LIMIT = 1e4
SATURATION_Z = {cat.TANH: 4.0, cat.SIGMOID: 8.0}
SATURATED_ROWS = 0.99       # a unit is saturated when |z| is beyond the limit on this share
SATURATED_UNITS = 0.5       # warn when this share of a layer's units is saturated
HEALTH_ROWS = 1024
#: Inputs or targets beyond this size make "the data" the likely cause of a divergence.
DATA_LIMIT = 1e6

ACT_NAMES = {v: k for k, v in cat.ACTIVATIONS.items()}


# -- settings and parameters --------------------------------------------------------------------
def in_dtype(value: float, dtype: np.dtype) -> float:
    """`value` rounded to `dtype` (inf when beyond its range), without a NumPy warning."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return float(np.asarray(value, dtype=np.float64).astype(dtype))


def check_survives(owner: str, value: float, dtype: np.dtype, option: Option | None = None) -> None:
    """ValueError unless `value` rounded to `dtype` is finite, is not flushed to 0 or to a
    subnormal, and (when `option` is given) is still in the option's range."""
    v = float(value)
    cast = in_dtype(v, dtype)
    tiny = float(np.finfo(dtype).tiny)
    name = np.dtype(dtype).name
    why = None
    if not math.isfinite(cast):
        why = f"it overflows to {cast}"
    elif v != 0 and abs(cast) < tiny:
        why = (f"it becomes {cast:g}" if cast else "it rounds to 0") + \
              f"; the smallest normal {name} is {tiny:.3g}"
    elif option is not None and not option.allows(cast):
        why = f"it becomes {cast!r}, out of range ({option.describe()})"
    if why is not None:
        raise ValueError(f"{owner} = {v!r} does not survive {name}: {why}. Choose another value"
                         + (" or dtype float64" if name == "float32" else ""))


def first_nonfinite(net: Any, P: np.ndarray | None = None) -> tuple[int, str] | None:
    """(dense layer, "W" or "b") of the first non-finite parameter, or None if all are finite."""
    P = net.P if P is None else P
    for sl in net.param_slices():
        if not np.all(np.isfinite(P[sl.start:sl.stop])):
            return sl.layer, sl.key
    return None


# -- per-epoch warnings -------------------------------------------------------------------------
def checked_layers(net: Any, loss_code: int, from_logits: bool) -> list[tuple[int, int, int]]:
    """(dense layer, activation code, units) of the layers the health check looks at."""
    out = []
    L = net.n_dense
    for l in range(L):
        code = int(net.layi[l + 1, cat.ACT])
        if code not in SATURATION_Z and code != cat.RELU:
            continue
        if l == L - 1 and cat.fused_output(loss_code, from_logits, code):
            continue
        out.append((l, code, int(net.layi[l + 1, cat.UNITS])))
    return out


def check_due(epoch: int) -> bool:
    """Whether the unit checks run at the end of `epoch` (1-based)."""
    return epoch <= 100 or (epoch % 10 == 0 and epoch <= 1000) or epoch % 100 == 0


def screen(layers: list[tuple[int, int, int]], z_of: Any, rows: int) -> bool:
    """True when the last mini-batch's z (`z_of(l, units)`: the rows × units values, flat, row
    by row) look saturated or dead: a
    relu layer with z ≤ 0 everywhere, or a tanh/sigmoid layer with half its units beyond the
    limit on every row. (A unit saturated on 99 % of the training set is so on a mini-batch
    of 10 with probability 0.9: a stuck network is caught within an epoch or two.)"""
    if rows <= 0:
        return True
    for l, code, units in layers:
        z = z_of(l, units)
        if code == cat.RELU:
            if z.max() <= 0:
                return True
            continue
        beyond = np.abs(z) > SATURATION_Z[code]
        # half the units beyond the limit on every row needs half of all the values beyond it
        if 2 * np.count_nonzero(beyond) >= z.size and \
                np.count_nonzero(beyond.reshape(rows, units).all(axis=0)) >= SATURATED_UNITS * units:
            return True
    return False


def layer_warnings(net: Any, layers: list[tuple[int, int, int]], zs: list[np.ndarray]) -> list[str]:
    """The saturation and dead-relu warnings judged on the pre-activations `zs[l]`."""
    out = []
    for l, code, units in layers:
        z = zs[l]
        label = net.dense_label(l)
        if code == cat.RELU:
            if np.all(z <= 0):
                out.append(f"all relu units dead in {label}: z ≤ 0 for every training sample "
                           "checked, so no gradient flows through it")
            continue
        lim = SATURATION_Z[code]
        share = (np.abs(z) > lim).mean(axis=0)
        k = int(np.count_nonzero(share >= SATURATED_ROWS))
        if k >= SATURATED_UNITS * units:
            out.append(f"units saturated: {k} of {units} {ACT_NAMES[code]} units in {label} have "
                       f"|z| > {lim:g} on {SATURATED_ROWS:.0%} or more of the training samples "
                       "checked (f′ ≈ 0: they barely learn)")
    return out


def weight_warning(amax: float) -> list[str]:
    if amax > WEIGHT_LIMIT:
        return [f"weights exploded: |w| reaches {amax:.3g} (above {WEIGHT_LIMIT:g})"]
    return []


# -- divergence ---------------------------------------------------------------------------------
ADVICE = {
    "data": "The data are the cause, not the learning rate: {detail}. Scale the data "
            "(standardize the inputs, rescale the targets).",
    "initialization": "It failed on the first step, before any update, so the initial weights "
                      "are the cause ({detail}), not the learning rate. Use a standard "
                      "initializer (glorot_* for tanh/sigmoid, he_* for relu) and a small bias.",
    "epsilon": "The optimizer's epsilon is the cause: {detail}, so g/(√c + ε) can divide by "
               "zero. Use epsilon ≥ 1e-8.",
    "learning_rate": "Try a smaller learning rate, another initializer, or gradient-friendly "
                     "activations.",
}


def divergence_cause(x_batch: np.ndarray, y_batch: np.ndarray, data_absmax: float,
                     first_step: bool, weight_absmax: float, optimizer: Any,
                     dtype: np.dtype) -> tuple[str, str]:
    """(cause, advice): "data", "initialization", "epsilon" or "learning_rate"."""
    name = np.dtype(dtype).name
    with np.errstate(all="ignore"):
        bad_batch = not (np.all(np.isfinite(x_batch.astype(dtype)))
                         and np.all(np.isfinite(y_batch.astype(dtype))))
    if bad_batch:
        return "data", ADVICE["data"].format(detail=f"this mini-batch holds values that are not "
                                                    f"finite in {name}")
    if data_absmax > DATA_LIMIT:
        return "data", ADVICE["data"].format(detail=f"the inputs or targets reach "
                                                    f"|v| = {data_absmax:.3g}, above {DATA_LIMIT:g}")
    eps = optimizer.options.get("epsilon")
    if eps is not None and abs(in_dtype(eps, dtype)) < float(np.finfo(dtype).tiny):
        return "epsilon", ADVICE["epsilon"].format(
            detail=f"epsilon {eps:g} is {in_dtype(eps, dtype):g} in {name}")
    if first_step:
        return "initialization", ADVICE["initialization"].format(
            detail=f"|w| up to {weight_absmax:.3g}")
    return "learning_rate", ADVICE["learning_rate"]
