"""The NumPy math of every activation, loss, optimizer update and weight penalty, by code.

Plain and readable: the reference backend is built from it, and the engine's registries hand
these functions out as `fn`/`grad` pairs. Codes: `catalogue`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .catalogue import (ADAGRAD, ADAM, ADAM_FLUSH, BCE, CCE, ELU, EPS_P, LEAKY_RELU, LINEAR, MAE,
                        MOMENTUM, MSE, NESTEROV, REG_L1, REG_L2, RELU, RMSPROP, SGD, SIGMOID,
                        SOFTMAX, SPARSE_CCE, SSE, TANH)

Array = np.ndarray


# -- activations: a = f(z, α); f′ as grad(z, a, α) ---------------------------------------------
def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^(−z)), computed stably for both signs."""
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def softmax(z: Array) -> Array:
    """softmax(z)ₖ = e^(zₖ − max z) / Σⱼ e^(zⱼ − max z), row-wise."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


ACT_FN: dict[int, Callable[[Array, float], Array]] = {
    LINEAR: lambda z, al: z.copy(),
    SIGMOID: lambda z, al: sigmoid(z),
    TANH: lambda z, al: np.tanh(z),
    RELU: lambda z, al: np.maximum(z, 0.0),
    LEAKY_RELU: lambda z, al: np.where(z > 0, z, al * z),
    ELU: lambda z, al: np.where(z > 0, z, al * np.expm1(np.minimum(z, 0.0))),
    SOFTMAX: lambda z, al: softmax(z),
}
#: Elementwise f′; softmax has none (its Jacobian is not diagonal): see `act_backward`.
ACT_GRAD: dict[int, Callable[[Array, Array, float], Array]] = {
    LINEAR: lambda z, a, al: np.ones_like(z),
    SIGMOID: lambda z, a, al: a * (1.0 - a),
    TANH: lambda z, a, al: 1.0 - a * a,
    RELU: lambda z, a, al: (z > 0).astype(z.dtype),
    LEAKY_RELU: lambda z, a, al: np.where(z > 0, 1.0, al).astype(z.dtype),
    ELU: lambda z, a, al: np.where(z > 0, 1.0, al * np.exp(np.minimum(z, 0.0))).astype(z.dtype),
}


def act_backward(code: int, z: Array, a: Array, da: Array, alpha: float) -> Array:
    """dL/dz from dL/da by the chain rule; softmax (row-wise): a ⊙ (da − Σ da·a)."""
    if code == SOFTMAX:
        return a * (da - np.sum(da * a, axis=-1, keepdims=True))
    return da * ACT_GRAD[code](z, a, alpha)


# -- losses over a batch: out (B, K), y (B, K) float (one-hot for sparse CE) ---------------------
def log_softmax(z: Array) -> Array:
    m = z - z.max(axis=1, keepdims=True)
    return m - np.log(np.exp(m).sum(axis=1, keepdims=True))


def onehot(y: Array, k: int) -> Array:
    """(B, 1) class indices → (B, k) one-hot rows."""
    out = np.zeros((y.shape[0], k), dtype=np.float64)
    out[np.arange(y.shape[0]), y[:, 0].astype(np.int64)] = 1.0
    return out


def _mse(o: Array, y: Array, lg: bool) -> float:
    return float(np.mean((y - o) ** 2))


def _mse_g(o: Array, y: Array, lg: bool) -> Array:
    return 2.0 * (o - y) / o.size


def _sse(o: Array, y: Array, lg: bool) -> float:
    return float(0.5 * np.sum((y - o) ** 2))


def _sse_g(o: Array, y: Array, lg: bool) -> Array:
    return o - y


def _mae(o: Array, y: Array, lg: bool) -> float:
    return float(np.mean(np.abs(y - o)))


def _mae_g(o: Array, y: Array, lg: bool) -> Array:
    return np.sign(o - y) / o.size


def _bce(o: Array, y: Array, lg: bool) -> float:
    if lg:  # max(z,0) − z·y + log(1 + e^(−|z|))
        return float(np.mean(np.maximum(o, 0) - o * y + np.log1p(np.exp(-np.abs(o)))))
    p = np.clip(o, EPS_P, 1 - EPS_P)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _bce_g(o: Array, y: Array, lg: bool) -> Array:
    if lg:
        return (sigmoid(o) - y) / o.size
    p = np.clip(o, EPS_P, 1 - EPS_P)
    inside = (o > EPS_P) & (o < 1 - EPS_P)
    return inside * (p - y) / (p * (1 - p)) / o.size


def _cce(o: Array, y: Array, lg: bool) -> float:
    logp = log_softmax(o) if lg else np.log(np.clip(o, EPS_P, 1 - EPS_P))
    return float(-np.sum(y * logp) / o.shape[0])


def _cce_g(o: Array, y: Array, lg: bool) -> Array:
    if lg:
        return (softmax(o) - y) / o.shape[0]
    inside = (o > EPS_P) & (o < 1 - EPS_P)
    return -(inside * y) / np.clip(o, EPS_P, 1 - EPS_P) / o.shape[0]


#: code → (L(out, y, from_logits), dL/d(out)); sparse CE takes one-hot y like CE.
LOSS_FNS: dict[int, tuple[Callable[[Array, Array, bool], float],
                          Callable[[Array, Array, bool], Array]]] = {
    MSE: (_mse, _mse_g), SSE: (_sse, _sse_g), MAE: (_mae, _mae_g), BCE: (_bce, _bce_g),
    CCE: (_cce, _cce_g), SPARSE_CCE: (_cce, _cce_g),
}


def loss_value(code: int, out: Array, y: Array, from_logits: bool) -> float:
    """The batch loss; y as the trainer stores it ((B, 1) indices for sparse CE)."""
    if code == SPARSE_CCE:
        y = onehot(y, out.shape[1])
    return LOSS_FNS[code][0](out, y, from_logits)


def loss_gradient(code: int, out: Array, y: Array, from_logits: bool) -> Array:
    """dL/d(out) for the batch."""
    if code == SPARSE_CCE:
        y = onehot(y, out.shape[1])
    return LOSS_FNS[code][1](out, y, from_logits)


# -- optimizers --------------------------------------------------------------------------------
def optimizer_update(code: int, hp: Array, p: Array, g: Array, s1: Array, s2: Array,
                     t: int) -> int:
    """One update in place, exactly as the formulas in `engine.optimizers`; returns the new t."""
    lr, mu, b1, b2, eps, rho = (float(x) for x in hp[:6])
    if code == SGD:
        p -= lr * g
    elif code == MOMENTUM:
        s1[:] = mu * s1 - lr * g
        p += s1
    elif code == NESTEROV:
        s1[:] = mu * s1 - lr * g
        p += mu * s1 - lr * g
    elif code == ADAGRAD:
        s1 += g * g
        p -= lr * g / (np.sqrt(s1) + eps)
    elif code == RMSPROP:
        s1[:] = rho * s1 + (1 - rho) * g * g
        p -= lr * g / (np.sqrt(s1) + eps)
    elif code == ADAM:
        t += 1
        s1[:] = b1 * s1 + (1 - b1) * g
        s1[np.abs(s1) < ADAM_FLUSH] = 0.0
        s2[:] = b2 * s2 + (1 - b2) * g * g
        mhat = s1 / (1 - b1 ** t)
        vhat = s2 / (1 - b2 ** t)
        p -= lr * mhat / (np.sqrt(vhat) + eps)
        return t
    else:
        raise ValueError(f"no optimizer with code {code}")
    return t + 1


# -- weight penalties (weights only, never biases) ---------------------------------------------
def penalty(code: int, rate: float, weights: list[Array]) -> float:
    """l1: rate·Σ|w|; l2: rate·Σw²/2 (in float64: a float32 sum of squares can overflow)."""
    if code == REG_L1:
        return float(rate * sum(np.abs(w.astype(np.float64)).sum() for w in weights))
    if code == REG_L2:
        return float(rate * 0.5 * sum((w.astype(np.float64) ** 2).sum() for w in weights))
    return 0.0


def penalty_gradient(code: int, rate: float, w: Array) -> Array:
    """d(penalty)/dw: l1 rate·sign(w); l2 rate·w."""
    if code == REG_L1:
        return rate * np.sign(w)
    if code == REG_L2:
        return rate * w
    return np.zeros_like(w)
