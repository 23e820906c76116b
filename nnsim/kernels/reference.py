"""Plain NumPy reference of the same math as the CPU kernels (for tests, benchmarks, diagnosis).

Written layer by layer with the engine's `fn`/`grad` pairs, so a reader sees the chain rule:
forward z = a·W + b, a = f(z); backward dL/dz = dL/da ⊙ f′(z), dL/dW = aᵀ·dL/dz,
dL/db = Σ dL/dz, dL/da_prev = dL/dz·Wᵀ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine import activations as acts
from ..engine import losses as losses_mod
from ..engine import optimizers as opt_mod
from ..engine import regularizers as reg_mod
from .layout import (ACT, BOFF, CFG_APPLY, CFG_BATCH, CFG_COUNT, CFG_ERR, CFG_ERR_LAYER,
                     CFG_LOGITS, CFG_LOSS, CFG_OPT, CFG_REG, CFG_START, CFG_T, ERR_GRAD,
                     ERR_LOSS, FAN_IN, HASB, HP_REG, UCOL, UNITS, WOFF)


def _loss_by_code(code: int) -> losses_mod.Loss:
    return next(losses_mod.get(n) for n in losses_mod.names() if losses_mod.get(n).code == code)


@dataclass
class Pass:
    """Every intermediate of one forward/backward pass (lists indexed by row: 0 = input)."""

    a: list[np.ndarray] = field(default_factory=list)
    z: list[np.ndarray | None] = field(default_factory=list)
    da: list[np.ndarray | None] = field(default_factory=list)
    dz: list[np.ndarray | None] = field(default_factory=list)
    masks: list[np.ndarray | None] = field(default_factory=list)
    loss: float = float("nan")
    grad: np.ndarray | None = None


def _mask(U: np.ndarray, col: int, rate: float, shape: tuple[int, int]) -> np.ndarray | None:
    if rate <= 0.0:
        return None
    u = U[:, col:col + shape[1]]
    return np.where(u < rate, 0.0, 1.0 / (1.0 - rate)).astype(U.dtype)


def forward(xb: np.ndarray, P: np.ndarray, layi: np.ndarray, layf: np.ndarray,
            ub: np.ndarray | None = None, training: bool = False) -> Pass:
    """Forward pass keeping every z and a; dropout (inverted) only when training."""
    L = layi.shape[0] - 1
    ps = Pass()
    m0 = _mask(ub, layi[0, UCOL], layf[0, 1], xb.shape) if training else None
    ps.a.append(xb * m0 if m0 is not None else xb.copy())
    ps.z.append(None)
    ps.masks.append(m0)
    for l in range(L):
        din, dout = int(layi[l + 1, FAN_IN]), int(layi[l + 1, UNITS])
        w0, b0 = int(layi[l + 1, WOFF]), int(layi[l + 1, BOFF])
        W = P[w0:w0 + din * dout].reshape(din, dout)
        z = ps.a[-1] @ W
        if layi[l + 1, HASB]:
            z = z + P[b0:b0 + dout]
        act = acts.by_code(int(layi[l + 1, ACT]))
        a = act.fn(z, float(layf[l + 1, 0])).astype(P.dtype)
        m = _mask(ub, layi[l + 1, UCOL], layf[l + 1, 1], a.shape) if training and l < L - 1 else None
        ps.z.append(z)
        ps.a.append(a * m if m is not None else a)
        ps.masks.append(m)
    return ps


def forward_backward(xb: np.ndarray, yb: np.ndarray, ub: np.ndarray | None, P: np.ndarray,
                     layi: np.ndarray, layf: np.ndarray, loss_code: int, from_logits: bool,
                     reg_code: int, reg: float) -> Pass:
    """One mini-batch: forward, loss, and the gradient of loss + penalty into `ps.grad`."""
    L = layi.shape[0] - 1
    ps = forward(xb, P, layi, layf, ub, training=True)
    loss = _loss_by_code(loss_code)
    out = ps.a[-1]
    ps.loss = loss.value(out.astype(np.float64), yb.astype(np.float64), from_logits)
    ps.da = [None] * (L + 1)
    ps.dz = [None] * (L + 1)
    ps.da[L] = loss.gradient(out, yb, from_logits).astype(P.dtype)
    out_act = acts.by_code(int(layi[L, ACT]))
    fused = loss.code >= losses_mod.BCE and (
        from_logits or (loss.code == losses_mod.BCE and out_act.code == acts.SIGMOID)
        or (loss.code >= losses_mod.CCE and out_act.code == acts.SOFTMAX))
    if fused:  # the stable (p − y)/norm form of the same derivative
        yy = yb if loss.code != losses_mod.SPARSE_CCE else losses_mod._onehot(yb, out.shape[1])
        p = out
        if from_logits:
            p = acts._sigmoid(out) if loss.code == losses_mod.BCE else acts._softmax(out)
        norm = out.size if loss.code == losses_mod.BCE else out.shape[0]
        ps.dz[L] = ((p - yy) / norm).astype(P.dtype)
    else:
        ps.dz[L] = out_act.backward(ps.z[L], out, ps.da[L], float(layf[L, 0]))
    G = np.zeros_like(P)
    for l in range(L - 1, -1, -1):
        din, dout = int(layi[l + 1, FAN_IN]), int(layi[l + 1, UNITS])
        w0, b0 = int(layi[l + 1, WOFF]), int(layi[l + 1, BOFF])
        W = P[w0:w0 + din * dout].reshape(din, dout)
        dz = ps.dz[l + 1]
        G[w0:w0 + din * dout] = (ps.a[l].T @ dz
                                 + reg_mod.gradient(reg_code, reg, W)).ravel()
        if layi[l + 1, HASB]:
            G[b0:b0 + dout] = dz.sum(axis=0)
        if l > 0:
            da = dz @ W.T
            ps.da[l] = da
            m = ps.masks[l]
            act = acts.by_code(int(layi[l, ACT]))
            a_pre = act.fn(ps.z[l], float(layf[l, 0])).astype(P.dtype)
            ps.dz[l] = act.backward(ps.z[l], a_pre, da * m if m is not None else da, float(layf[l, 0]))
    ps.grad = G
    return ps


def train_batches(X, Y, order, P, G, S1, S2, hp, cfg, layi, layf, U, WS, out_loss, out_gn) -> int:
    """Same contract as `cpu.train_batches` (WS is unused here)."""
    L = layi.shape[0] - 1
    B = int(cfg[CFG_BATCH])
    cfg[CFG_ERR] = 0
    for k in range(int(cfg[CFG_COUNT])):
        p0 = int(cfg[CFG_START]) + k * B
        idx = order[p0:p0 + B]
        if len(idx) == 0:
            return k
        ub = U[p0:p0 + len(idx)] if U.size else None
        ps = forward_backward(X[idx], Y[idx], ub, P, layi, layf, int(cfg[CFG_LOSS]),
                              bool(cfg[CFG_LOGITS]), int(cfg[CFG_REG]), float(hp[HP_REG]))
        out_loss[k] = ps.loss
        if not np.isfinite(ps.loss):
            cfg[CFG_ERR], cfg[CFG_ERR_LAYER] = ERR_LOSS, L - 1
            return k
        G[:] = ps.grad
        for l in range(L - 1, -1, -1):
            din, dout = int(layi[l + 1, FAN_IN]), int(layi[l + 1, UNITS])
            w0, b0 = int(layi[l + 1, WOFF]), int(layi[l + 1, BOFF])
            ss = float(np.sum(G[w0:w0 + din * dout].astype(np.float64) ** 2)
                       + np.sum(G[b0:b0 + dout].astype(np.float64) ** 2))
            out_gn[k, l] = np.sqrt(ss)
            if not np.isfinite(ss):
                cfg[CFG_ERR], cfg[CFG_ERR_LAYER] = ERR_GRAD, l
                return k
        if cfg[CFG_APPLY]:
            cfg[CFG_T] = opt_mod.reference_update(int(cfg[CFG_OPT]), hp, P, G, S1, S2, int(cfg[CFG_T]))
    return int(cfg[CFG_COUNT])


def predict(X, P, layi, layf, bmax, out) -> None:
    out[:] = forward(X, P, layi, layf).a[-1]


def optimizer_update(code, hp, t, P, G, S1, S2) -> int:
    return opt_mod.reference_update(int(code), hp, P, G, S1, S2, int(t))
