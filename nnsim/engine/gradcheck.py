"""Gradient check: analytic gradients (the engine's backward pass) against central finite
differences, (L(w + h) − L(w − h)) / 2h, in float64, per parameter tensor; and one weight per
tensor wiggled by ±h with the losses it gives (`probe_weights`).

Names for people count dense layers from 1, as the app does: "layer1.W[0, 2]" is W[0, 2] of the
first dense layer (fan_in × units, z = a·W + b). The checkpoint keys ("layer0.W") count every
layer's position from 0 instead."""

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
    name: str            # "layer0.W" (the checkpoint key)
    shape: tuple[int, ...]
    checked: int         # entries compared
    rel_error: float     # ‖analytic − numeric‖ / max(‖analytic‖ + ‖numeric‖, 1e-12)
    max_abs_diff: float
    label: str = ""      # "layer1.W": dense layers counted from 1, as the app names them


def rel_error(a: float, b: float) -> float:
    """|a − b| / (|a| + |b|), 0 when both are 0."""
    d = abs(a) + abs(b)
    return abs(a - b) / d if d > 0 else 0.0


@dataclass(frozen=True)
class WeightProbe:
    """One weight wiggled by ±h: the loss (data + penalty) at w − h, w and w + h, the
    differences they give, and the backward pass's dL/dw."""

    tensor: str                 # "layer1.W"
    index: tuple[int, ...]      # (i, j) into W (fan_in × units), (j,) into b
    chosen: str                 # "selected" (the card's weight) or "largest |dL/dw|"
    w: float
    h: float
    loss: float                 # L(w)
    loss_plus: float            # L(w + h)
    loss_minus: float           # L(w − h)
    analytic: float             # dL/dw from the backward pass

    @property
    def name(self) -> str:
        return f"{self.tensor}[{', '.join(map(str, self.index))}]"

    @property
    def central(self) -> float:
        """(L(w + h) − L(w − h)) / 2h: error ∝ h² (plus rounding ∝ ε/h)."""
        return (self.loss_plus - self.loss_minus) / (2 * self.h)

    @property
    def forward(self) -> float:
        """(L(w + h) − L(w)) / h: error ∝ h."""
        return (self.loss_plus - self.loss) / self.h

    @property
    def rel_error(self) -> float:
        return rel_error(self.analytic, self.central)

    @property
    def forward_rel_error(self) -> float:
        return rel_error(self.analytic, self.forward)


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


def check_h(h: float) -> float:
    """A usable step: finite, > 0 and at most 1 (ValueError otherwise)."""
    try:
        h = float(h)
    except (TypeError, ValueError):
        raise ValueError(f"h must be a number, got {h!r}") from None
    if not (np.isfinite(h) and 0 < h <= 1):
        raise ValueError(f"h must be a number > 0 and <= 1, got {h:g}")
    return h


def _objective(twin: Trainer):
    """L(P) = data loss + penalty of the twin's network on its samples (NumPy reference)."""
    net = twin.net
    X, Y = twin.x_train, twin.y_train

    def objective() -> float:
        ps = reference.forward(X, net.P, net.layi, net.layf64)
        data = twin.loss.value(ps.a[-1], Y, twin.from_logits)
        return data + reg_mod.penalty(twin.reg_code, twin.reg_rate, net.weight_arrays())

    return objective


def probe_weights(trainer: Trainer, samples: int = 32, h: float = DEFAULT_H,
                  selected: tuple[int, int, int] | None = None) -> list[WeightProbe]:
    """One weight per tensor wiggled by ±h on up to `samples` training rows (float64, dropout
    off): the selected weight W[i, j] of dense layer l for `selected` = (l, i, j) and its
    neuron's bias b[j], else each tensor's entry with the largest |dL/dw|.
    Nothing in `trainer` changes."""
    h = check_h(h)
    n = min(samples, trainer.n_train)
    twin = _float64_twin(trainer, n)
    _, analytic = twin.compute_gradients()
    net = twin.net
    objective = _objective(twin)
    base = objective()
    out = []
    for sl in net.param_slices():
        g = analytic[sl.start:sl.stop].reshape(sl.shape)
        if selected is not None and selected[0] == sl.layer and sl.key != "U":
            idx = (selected[1], selected[2]) if sl.key == "W" else (selected[2],)
            chosen = "selected"
        else:
            idx = tuple(int(v) for v in np.unravel_index(int(np.argmax(np.abs(g))), sl.shape))
            chosen = "largest |dL/dw|"
        flat = sl.start + int(np.ravel_multi_index(idx, sl.shape))
        old = float(net.P[flat])
        net.P[flat] = old + h
        up = objective()
        net.P[flat] = old - h
        down = objective()
        net.P[flat] = old
        out.append(WeightProbe(f"layer{sl.layer + 1}.{sl.key}", idx, chosen, old, h, base, up,
                               down, float(g[idx])))
    return out


def gradient_check(trainer: Trainer, samples: int = 32, h: float = DEFAULT_H,
                   max_entries: int = 64, seed: int = 0) -> list[GradCheckRow]:
    """Compare gradients of (data loss + penalty) on up to `samples` training rows.

    Tensors with more than `max_entries` entries are checked on a random subset of them.
    Nothing in `trainer` changes.
    """
    h = check_h(h)
    n = min(samples, trainer.n_train)
    twin = _float64_twin(trainer, n)
    _, analytic = twin.compute_gradients()
    net = twin.net
    objective = _objective(twin)

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
                                 float(np.max(np.abs(ana - num))) if len(idx) else 0.0,
                                 f"layer{sl.layer + 1}.{sl.key}"))
    return rows


@dataclass(frozen=True)
class GradCheckReport:
    """What `g` and `nnsim gradcheck` show: one wiggled weight per tensor, then every tensor."""

    h: float
    samples: int                  # training rows used
    probes: list[WeightProbe]
    rows: list[GradCheckRow]


def check_report(trainer: Trainer, samples: int = 32, h: float = DEFAULT_H,
                 selected: tuple[int, int, int] | None = None) -> GradCheckReport:
    """`probe_weights` and `gradient_check` together, with the same samples and h."""
    return GradCheckReport(check_h(h), min(samples, trainer.n_train),
                           probe_weights(trainer, samples, h, selected),
                           gradient_check(trainer, samples, h))
