"""Gradient check: analytic gradients (the engine's backward pass) against central finite
differences, (L(w + h) − L(w − h)) / 2h, in float64, per parameter tensor."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from ..kernels import catalogue as cat
from ..kernels import reference
from . import regularizers as reg_mod
from .layers import Dropout
from .network import Network
from .trainer import Trainer


DEFAULT_H = 1e-5      # the step of the central difference
PASS_BELOW = 1e-6     # a tensor passes when its relative error is below this


@dataclass(frozen=True)
class GradCheckRow:
    name: str            # "layer0.W"
    shape: tuple[int, ...]
    checked: int         # entries compared
    rel_error: float     # ‖analytic − numeric‖ / max(‖analytic‖ + ‖numeric‖, 1e-12)
    max_abs_diff: float


def _float64_twin(trainer: Trainer, n: int) -> Trainer:
    """A float64 copy of the trainer's network and loss on its first n samples, dropout off."""
    net = trainer.net
    layers = [Dropout(0.0) if isinstance(l, Dropout) else copy.deepcopy(l) for l in net.layers]
    twin = Network(net.input_dim, layers, dtype="float64", seed=net.seed, input_shape=net.input_shape)
    twin.set_weights(net.get_weights())
    x, y = trainer.x_train[:n].astype(np.float64), trainer.y_train[:n]
    t = Trainer(twin, x, y[:, 0] if trainer.loss.code == cat.SPARSE_CCE else y,
                loss=trainer.loss.name, from_logits=trainer.from_logits, optimizer="sgd",
                learning_rate=0.01, regularization=trainer.reg_name,
                regularization_rate=trainer.reg_rate, batch_size=n, shuffle=False,
                backend=trainer.backend_name)
    return t


def gradient_check(trainer: Trainer, samples: int = 32, h: float = DEFAULT_H,
                   max_entries: int = 64, seed: int = 0) -> list[GradCheckRow]:
    """Compare gradients of (data loss + penalty) on up to `samples` training rows.

    Tensors with more than `max_entries` entries are checked on a random subset of them.
    Nothing in `trainer` changes.
    """
    n = min(samples, trainer.n_train)
    twin = _float64_twin(trainer, n)
    _, analytic = twin.compute_gradients()
    net = twin.net
    X, Y = twin.x_train, twin.y_train

    def objective() -> float:
        ps = reference.forward(X, net.P, net.layi, net.layf64)
        data = twin.loss.value(ps.a[-1], Y, twin.from_logits)
        return data + reg_mod.penalty(twin.reg_code, twin.reg_rate, net.weight_arrays())

    rng = np.random.default_rng(seed)
    rows = []
    for sl in net.param_slices():
        size = sl.size
        idx = np.arange(size) if size <= max_entries else rng.choice(size, max_entries, replace=False)
        num = np.empty(len(idx))
        for k, i in enumerate(idx):
            old = net.P[sl.start + i]
            net.P[sl.start + i] = old + h
            up = objective()
            net.P[sl.start + i] = old - h
            down = objective()
            net.P[sl.start + i] = old
            num[k] = (up - down) / (2 * h)
        ana = analytic[sl.start + idx]
        diff = np.linalg.norm(ana - num)
        denom = max(np.linalg.norm(ana) + np.linalg.norm(num), 1e-12)
        rows.append(GradCheckRow(sl.name, sl.shape, len(idx), float(diff / denom),
                                 float(np.max(np.abs(ana - num))) if len(idx) else 0.0))
    return rows
