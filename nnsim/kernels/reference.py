"""Plain NumPy reference of the same math as the CPU kernels (for tests, benchmarks, diagnosis).

Written layer by layer with the `fn`/`grad` pairs of `npmath`, so a reader sees the chain rule:
forward z = a·W + b, a = f(z); backward dL/dz = dL/da ⊙ f′(z), dL/dW = aᵀ·dL/dz,
dL/db = Σ dL/dz, dL/da_prev = dL/dz·Wᵀ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import npmath
from .catalogue import (ACT, ALPHA, BCE, BOFF, CFG_APPLY, CFG_BATCH, CFG_COUNT, CFG_ERR,
                        CFG_ERR_LAYER, CFG_LOGITS, CFG_LOSS, CFG_OPT, CFG_REG, CFG_START, CFG_T,
                        DROP, ERR_GRAD, ERR_LOSS, FAN_IN, HASB, HP_REG, SPARSE_CCE, UCOL, UNITS,
                        WOFF, fused_output, loss_norm)


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
    m0 = _mask(ub, layi[0, UCOL], layf[0, DROP], xb.shape) if training else None
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
        a = npmath.ACT_FN[int(layi[l + 1, ACT])](z, float(layf[l + 1, ALPHA])).astype(P.dtype)
        m = (_mask(ub, layi[l + 1, UCOL], layf[l + 1, DROP], a.shape)
             if training and l < L - 1 else None)
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
    out = ps.a[-1]
    ps.loss = npmath.loss_value(loss_code, out.astype(np.float64), yb.astype(np.float64), from_logits)
    ps.da = [None] * (L + 1)
    ps.dz = [None] * (L + 1)
    ps.da[L] = npmath.loss_gradient(loss_code, out, yb, from_logits).astype(P.dtype)
    out_act = int(layi[L, ACT])
    if fused_output(loss_code, from_logits, out_act):  # the stable (p − y)/norm form
        yy = npmath.onehot(yb, out.shape[1]) if loss_code == SPARSE_CCE else yb
        p = out
        if from_logits:
            p = npmath.sigmoid(out) if loss_code == BCE else npmath.softmax(out)
        ps.dz[L] = ((p - yy) / loss_norm(loss_code, out.shape[0], out.shape[1])).astype(P.dtype)
    else:
        ps.dz[L] = npmath.act_backward(out_act, ps.z[L], out, ps.da[L], float(layf[L, ALPHA]))
    G = np.zeros_like(P)
    for l in range(L - 1, -1, -1):
        din, dout = int(layi[l + 1, FAN_IN]), int(layi[l + 1, UNITS])
        w0, b0 = int(layi[l + 1, WOFF]), int(layi[l + 1, BOFF])
        W = P[w0:w0 + din * dout].reshape(din, dout)
        dz = ps.dz[l + 1]
        G[w0:w0 + din * dout] = (ps.a[l].T @ dz
                                 + npmath.penalty_gradient(reg_code, reg, W)).ravel()
        if layi[l + 1, HASB]:
            G[b0:b0 + dout] = dz.sum(axis=0)
        if l > 0:
            da = dz @ W.T
            ps.da[l] = da
            m = ps.masks[l]
            code, alpha = int(layi[l, ACT]), float(layf[l, ALPHA])
            a_pre = npmath.ACT_FN[code](ps.z[l], alpha).astype(P.dtype)
            ps.dz[l] = npmath.act_backward(code, ps.z[l], a_pre,
                                           da * m if m is not None else da, alpha)
    ps.grad = G
    return ps


def train_batches(X, Y, order, P, G, S1, S2, hp, cfg, layi, layf, offs, U, WS, out_loss,
                  out_gn) -> int:
    """Same contract as `cpu.train_batches` (offs and WS are unused here)."""
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
            cfg[CFG_T] = npmath.optimizer_update(int(cfg[CFG_OPT]), hp, P, G, S1, S2, int(cfg[CFG_T]))
    return int(cfg[CFG_COUNT])


def predict(X, P, layi, layf, offs, bmax, out) -> None:
    """Same contract as `cpu.predict` (offs is unused here)."""
    out[:] = forward(X, P, layi, layf).a[-1]


def optimizer_update(code, hp, t, P, G, S1, S2) -> int:
    return npmath.optimizer_update(int(code), hp, P, G, S1, S2, int(t))
