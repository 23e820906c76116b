"""Plain NumPy reference of the same math as the CPU kernels (for tests, benchmarks, diagnosis).

Written layer by layer with the `fn`/`grad` pairs of `npmath`, so a reader sees the chain rule:
forward z = a·W + b, a = f(z); backward dL/dz = dL/da ⊙ f′(z), dL/dW = aᵀ·dL/dz,
dL/db = Σ dL/dz, dL/da_prev = dL/dz·Wᵀ. Conv, pool and flatten rows do the same with
`npmath.conv2d_forward` and its kin on (n, C, H, W) views of the flat blocks; pool and flatten
rows are linear (a = z). Recurrent rows step through time with `ref_rnn` (their z and a are the
hidden states); a dense row on a sequence applies to every step. `train_batches_layered` and
`predict_layered` are the same functions under the layered backend's names (this backend needs no scratch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import npmath, ref_rnn
from .catalogue import (
    ACT,
    ALPHA,
    AVGPOOL2D,
    BCE,
    BOFF,
    C_IN,
    C_OUT,
    CFG_APPLY,
    CFG_BATCH,
    CFG_COUNT,
    CFG_ERR,
    CFG_ERR_LAYER,
    CFG_LOGITS,
    CFG_LOSS,
    CFG_OPT,
    CFG_REG,
    CFG_START,
    CFG_T,
    CONV2D,
    DENSE,
    DROP,
    ERR_GRAD,
    ERR_LOSS,
    FAN_IN,
    FLATTEN,
    H_IN,
    H_OUT,
    HASB,
    HP_CLIP,
    HP_REG,
    KH,
    KIND,
    KW,
    LSTM,
    MAXPOOL2D,
    PH,
    PW,
    RACT,
    SH,
    SIMPLE_RNN,
    SPARSE_CCE,
    SW,
    UCOL,
    W_IN,
    W_OUT,
    WOFF,
    fused_output,
    loss_norm,
)
from .layout import recurrent_dims


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
    cols: dict[int, np.ndarray] = field(default_factory=dict)   # conv row -> its im2col columns
    won: dict[int, np.ndarray] = field(default_factory=dict)    # max-pool row -> winning entries
    rec: dict[int, ref_rnn.RecurrentPass] = field(default_factory=dict)  # recurrent row -> steps


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
        kind = int(layi[l + 1, KIND])
        if kind == DENSE:   # on a sequence (H_OUT steps): the same W at every step
            din, dout = int(layi[l + 1, FAN_IN]), int(layi[l + 1, C_OUT])
            w0, b0 = int(layi[l + 1, WOFF]), int(layi[l + 1, BOFF])
            W = P[w0:w0 + din * dout].reshape(din, dout)
            z = ps.a[-1].reshape(-1, din) @ W
            if layi[l + 1, HASB]:
                z = z + P[b0:b0 + dout]
            z = z.reshape(len(xb), -1)
        elif kind in (SIMPLE_RNN, LSTM):
            z = _recurrent_forward(ps, l + 1, P, layi, layf)
        else:
            z = _spatial_forward(ps, l + 1, P, layi)
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
        kind = int(layi[l + 1, KIND])
        if kind in (SIMPLE_RNN, LSTM):
            da = _recurrent_backward(ps, l + 1, P, layi, layf, G, reg_code, reg)
        elif kind != DENSE:
            da = _spatial_backward(ps, l + 1, P, layi, G, reg_code, reg)
        else:
            din, dout = int(layi[l + 1, FAN_IN]), int(layi[l + 1, C_OUT])
            w0, b0 = int(layi[l + 1, WOFF]), int(layi[l + 1, BOFF])
            W = P[w0:w0 + din * dout].reshape(din, dout)
            dz = ps.dz[l + 1].reshape(-1, dout)
            G[w0:w0 + din * dout] = (ps.a[l].reshape(-1, din).T @ dz
                                     + npmath.penalty_gradient(reg_code, reg, W)).ravel()
            if layi[l + 1, HASB]:
                G[b0:b0 + dout] = dz.sum(axis=0)
            da = (dz @ W.T).reshape(len(xb), -1) if l > 0 else None
        if l > 0:
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
            nw, nb = param_sizes(layi, l + 1)
            w0, b0 = int(layi[l + 1, WOFF]), int(layi[l + 1, BOFF])
            ss = float(np.sum(G[w0:w0 + nw].astype(np.float64) ** 2)
                       + np.sum(G[b0:b0 + nb].astype(np.float64) ** 2))
            out_gn[k, l] = np.sqrt(ss)
            if not np.isfinite(ss):
                cfg[CFG_ERR], cfg[CFG_ERR_LAYER] = ERR_GRAD, l
                return k
        if hp[HP_CLIP] > 0:   # clipping by global norm; out_gn keeps the norms before it
            G[:] = ref_rnn.clip_by_global_norm(G, float(hp[HP_CLIP]))[0]
        if cfg[CFG_APPLY]:
            cfg[CFG_T] = npmath.optimizer_update(int(cfg[CFG_OPT]), hp, P, G, S1, S2, int(cfg[CFG_T]))
    return int(cfg[CFG_COUNT])


def predict(X, P, layi, layf, offs, bmax, out) -> None:
    """Same contract as `cpu.predict` (offs is unused here)."""
    out[:] = forward(X, P, layi, layf).a[-1]


def train_batches_layered(X, Y, order, P, G, S1, S2, hp, cfg, layi, layf, offs, U, WS, out_loss,
                          out_gn, XS, soffs, IS) -> int:
    """Same contract as `cpu_layers.train_batches_layered` (the scratch is unused here)."""
    return train_batches(X, Y, order, P, G, S1, S2, hp, cfg, layi, layf, offs, U, WS, out_loss,
                         out_gn)


def predict_layered(X, P, layi, layf, offs, bmax, out, XS, soffs, IS) -> None:
    """Same contract as `cpu_layers.predict_layered` (the scratch is unused here)."""
    predict(X, P, layi, layf, offs, bmax, out)


# -- conv, pool and flatten rows -------------------------------------------------------------------
def param_sizes(layi: np.ndarray, r: int) -> tuple[int, int]:
    """(weights, biases) of row r: fan_in × C_OUT and C_OUT for dense and conv rows (a dense
    row's C_OUT is its units), (F + H)·k·H (W then U) and k·H for recurrent rows, none for pool
    and flatten rows."""
    kind = int(layi[r, KIND])
    if kind in (DENSE, CONV2D):
        return int(layi[r, FAN_IN] * layi[r, C_OUT]), int(layi[r, C_OUT])
    if kind in (SIMPLE_RNN, LSTM):
        k, _, F, H = recurrent_dims(layi, r)
        return (F + H) * k * H, k * H
    return 0, 0


# -- recurrent rows -------------------------------------------------------------------------------
def recurrent_weights(P: np.ndarray, layi: np.ndarray, r: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(W (F, k·H), U (H, k·H), b (k·H,) or None) of recurrent row r, views into P."""
    k, _, F, H = recurrent_dims(layi, r)
    w0, b0 = int(layi[r, WOFF]), int(layi[r, BOFF])
    W = P[w0:w0 + F * k * H].reshape(F, k * H)
    U = P[w0 + F * k * H:w0 + (F + H) * k * H].reshape(H, k * H)
    return W, U, (P[b0:b0 + k * H] if layi[r, HASB] else None)


def _recurrent_forward(ps: Pass, r: int, P: np.ndarray, layi: np.ndarray,
                       layf: np.ndarray) -> np.ndarray:
    """The hidden states of recurrent row r (the last, or every step's), flattened (n, ·)."""
    k, T, F, _ = recurrent_dims(layi, r)
    x = ps.a[r - 1].reshape(-1, T, F)
    W, U, b = recurrent_weights(P, layi, r)
    rseq = int(layi[r, H_OUT]) == T and T > 1
    if k == 4:
        out, ps.rec[r] = ref_rnn.lstm_forward(x, W, U, b, rseq)
    else:
        out, ps.rec[r] = ref_rnn.simple_rnn_forward(x, W, U, b, int(layi[r, RACT]),
                                                    float(layf[r, ALPHA]), rseq)
    return out.reshape(len(x), -1).astype(P.dtype)


def _recurrent_backward(ps: Pass, r: int, P: np.ndarray, layi: np.ndarray, layf: np.ndarray,
                        G: np.ndarray, reg_code: int, reg: float) -> np.ndarray | None:
    """BPTT of recurrent row r: W, U (with the penalty) and b into G; dL/da of row r − 1."""
    k, T, F, H = recurrent_dims(layi, r)
    W, U, b = recurrent_weights(P, layi, r)
    dz = ps.dz[r]
    dout = dz.reshape(len(dz), T, H) if (int(layi[r, H_OUT]) == T and T > 1) else dz
    if k == 4:
        g = ref_rnn.lstm_backward(dout, ps.rec[r], W, U)
    else:
        g = ref_rnn.simple_rnn_backward(dout, ps.rec[r], W, U, int(layi[r, RACT]),
                                        float(layf[r, ALPHA]))
    w0, b0 = int(layi[r, WOFF]), int(layi[r, BOFF])
    G[w0:w0 + W.size] = (g.dW + npmath.penalty_gradient(reg_code, reg, W)).ravel()
    G[w0 + W.size:w0 + W.size + U.size] = (g.dU + npmath.penalty_gradient(reg_code, reg, U)).ravel()
    G[b0:b0 + k * H] = g.db if b is not None else 0.0
    return g.dx.reshape(len(dz), -1).astype(P.dtype) if r > 1 else None


def _geometry(layi: np.ndarray, r: int) -> tuple[tuple[int, ...], ...]:
    """(input C, H, W), window, stride, padding (top, left), output (H, W) of row r."""
    row = [int(v) for v in layi[r]]
    return ((row[C_IN], row[H_IN], row[W_IN]), (row[KH], row[KW]), (row[SH], row[SW]),
            (row[PH], row[PW]), (row[H_OUT], row[W_OUT]))


def _conv_weights(P: np.ndarray, layi: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray | None]:
    (c, _, _), (kh, kw), _, _, _ = _geometry(layi, r)
    f = int(layi[r, C_OUT])
    w0, b0 = int(layi[r, WOFF]), int(layi[r, BOFF])
    W = P[w0:w0 + f * c * kh * kw].reshape(f, c, kh, kw)
    return W, (P[b0:b0 + f] if layi[r, HASB] else None)


def _spatial_forward(ps: Pass, r: int, P: np.ndarray, layi: np.ndarray) -> np.ndarray:
    """z of conv, pool or flatten row r from ps.a[r − 1], flattened to (n, units)."""
    kind = int(layi[r, KIND])
    x_flat = ps.a[r - 1]
    n = x_flat.shape[0]
    if kind == FLATTEN:
        return x_flat.copy()
    (c, h, w), window, stride, pad, out_hw = _geometry(layi, r)
    x = x_flat.reshape(n, c, h, w)
    if kind == CONV2D:
        W, b = _conv_weights(P, layi, r)
        z, ps.cols[r] = npmath.conv2d_forward(x, W, b, stride, pad, out_hw)
    elif kind == MAXPOOL2D:
        z, ps.won[r] = npmath.maxpool2d_forward(x, window, stride, out_hw)
    elif kind == AVGPOOL2D:
        z = npmath.avgpool2d_forward(x, window, stride, out_hw)
    else:
        raise ValueError(f"row {r}: unknown layer kind {kind}")
    return z.reshape(n, -1).astype(P.dtype)


def _spatial_backward(ps: Pass, r: int, P: np.ndarray, layi: np.ndarray, G: np.ndarray,
                      reg_code: int, reg: float) -> np.ndarray | None:
    """Row r's parameter gradients into G, and dL/da of row r − 1 (None for the first row)."""
    kind = int(layi[r, KIND])
    dz_flat = ps.dz[r]
    n = dz_flat.shape[0]
    if kind == FLATTEN:
        return dz_flat.copy() if r > 1 else None
    (c, h, w), window, stride, pad, (ho, wo) = _geometry(layi, r)
    x_shape = (n, c, h, w)
    dz = dz_flat.reshape(n, -1, ho, wo)
    if kind == CONV2D:
        W, b = _conv_weights(P, layi, r)
        dx, dW, db = npmath.conv2d_backward(x_shape, ps.cols[r], W, dz, stride, pad)
        w0, b0 = int(layi[r, WOFF]), int(layi[r, BOFF])
        G[w0:w0 + W.size] = (dW + npmath.penalty_gradient(reg_code, reg, W)).ravel()
        if b is not None:
            G[b0:b0 + len(db)] = db
    elif kind == MAXPOOL2D:
        dx = npmath.maxpool2d_backward(x_shape, ps.won[r], dz, window, stride)
    else:
        dx = npmath.avgpool2d_backward(x_shape, dz, window, stride)
    return dx.reshape(n, -1).astype(P.dtype) if r > 1 else None


def optimizer_update(code, hp, t, P, G, S1, S2) -> int:
    return npmath.optimizer_update(int(code), hp, P, G, S1, S2, int(t))
