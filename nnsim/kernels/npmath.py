"""The NumPy math of every activation, loss, optimizer update and weight penalty, by code.

Plain and readable: the reference backend is built from it, and the engine's registries hand
these functions out as `fn`/`grad` pairs. Codes: `catalogue`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .catalogue import (
    ADAGRAD,
    ADAM,
    ADAM_FLUSH,
    BCE,
    CCE,
    ELU,
    EPS_P,
    LEAKY_RELU,
    LINEAR,
    MAE,
    MOMENTUM,
    MSE,
    NESTEROV,
    REG_L1,
    REG_L2,
    RELU,
    RMSPROP,
    SGD,
    SIGMOID,
    SOFTMAX,
    SPARSE_CCE,
    SSE,
    TANH,
)

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


# -- convolution and pooling over (n, C, H, W) images ------------------------------------------
# The plain-NumPy version of what `cpu_layers` computes: a convolution is a matrix product of
# the kernel with the image's patches ("im2col"), and its backward pass sums each patch's
# gradient back onto the pixels it came from ("col2im"). Padding: `ph` rows of zeros above and
# `pw` columns to the left; whatever else a window needs below or to the right is zeros too.
def _padded(x: Array, kh: int, kw: int, sh: int, sw: int, ph: int, pw: int, ho: int,
            wo: int) -> Array:
    """x inside a zero frame big enough for every window: (n, C, Hp, Wp)."""
    n, c, h, w = x.shape
    hp, wp = max(ph + h, (ho - 1) * sh + kh), max(pw + w, (wo - 1) * sw + kw)
    xp = np.zeros((n, c, hp, wp), dtype=x.dtype)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def im2col(x: Array, kh: int, kw: int, sh: int, sw: int, ph: int, pw: int, ho: int,
           wo: int) -> Array:
    """Patches: cols[s, (c, i, j), (y, x)] = padded x[s, c, y·sh + i, x·sw + j], shape
    (n, C·kh·kw, ho·wo): column (y, x) is the window under output pixel (y, x)."""
    xp = _padded(x, kh, kw, sh, sw, ph, pw, ho, wo)
    n, c = x.shape[:2]
    cols = np.empty((n, c, kh, kw, ho, wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
    return cols.reshape(n, c * kh * kw, ho * wo)


def col2im(dcols: Array, shape: tuple[int, int, int, int], kh: int, kw: int, sh: int, sw: int,
           ph: int, pw: int, ho: int, wo: int) -> Array:
    """The adjoint of `im2col`: each patch entry's gradient added back onto its pixel."""
    n, c, h, w = shape
    dxp = _padded(np.zeros(shape, dtype=dcols.dtype), kh, kw, sh, sw, ph, pw, ho, wo)
    d = dcols.reshape(n, c, kh, kw, ho, wo)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw] += d[:, :, i, j]
    return dxp[:, :, ph:ph + h, pw:pw + w]


def conv2d_forward(x: Array, W: Array, b: Array | None, stride: tuple[int, int],
                   pad: tuple[int, int], out_hw: tuple[int, int]) -> tuple[Array, Array]:
    """z[s, f] = Σ_c W[f, c] ⋆ x[s, c] + b[f] (cross-correlation, as every framework does).
    x (n, C, H, W), W (F, C, kh, kw). Returns (z (n, F, ho, wo), the im2col columns)."""
    (sh, sw), (ph, pw), (ho, wo) = stride, pad, out_hw
    f, _, kh, kw = W.shape
    cols = im2col(x, kh, kw, sh, sw, ph, pw, ho, wo)
    z = np.einsum("fk,skp->sfp", W.reshape(f, -1), cols)
    if b is not None:
        z = z + b[None, :, None]
    return z.reshape(x.shape[0], f, ho, wo), cols


def conv2d_backward(x_shape: tuple[int, int, int, int], cols: Array, W: Array, dz: Array,
                    stride: tuple[int, int], pad: tuple[int, int]) -> tuple[Array, Array, Array]:
    """From dL/dz (n, F, ho, wo): (dL/dx (n, C, H, W), dL/dW (F, C, kh, kw), dL/db (F,)).
    dL/dW = Σ_s dz_s · cols_sᵀ; dL/dcols = Wᵀ · dz, summed back onto the pixels."""
    (sh, sw), (ph, pw) = stride, pad
    n, f, ho, wo = dz.shape
    kh, kw = W.shape[2:]
    d = dz.reshape(n, f, ho * wo)
    dW = np.einsum("sfp,skp->fk", d, cols).reshape(W.shape)
    db = d.sum(axis=(0, 2))
    dcols = np.einsum("fk,sfp->skp", W.reshape(f, -1), d)
    return col2im(dcols, x_shape, kh, kw, sh, sw, ph, pw, ho, wo), dW, db


def _windows(x: Array, kh: int, kw: int, sh: int, sw: int, ho: int, wo: int) -> Array:
    """(n, C, ho, wo, kh·kw): the pooling window under each output (no padding)."""
    n, c = x.shape[:2]
    win = np.empty((n, c, ho, wo, kh, kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            win[..., i, j] = x[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
    return win.reshape(n, c, ho, wo, kh * kw)


def maxpool2d_forward(x: Array, window: tuple[int, int], stride: tuple[int, int],
                      out_hw: tuple[int, int]) -> tuple[Array, Array]:
    """z = the largest value in each window; also which window entry won (the first of equal
    ones, reading the window row by row), (n, C, ho, wo) ints in [0, kh·kw)."""
    (kh, kw), (sh, sw), (ho, wo) = window, stride, out_hw
    win = _windows(x, kh, kw, sh, sw, ho, wo)
    won = win.argmax(axis=-1)
    return np.take_along_axis(win, won[..., None], axis=-1)[..., 0], won


def maxpool2d_backward(x_shape: tuple[int, int, int, int], won: Array, dz: Array,
                       window: tuple[int, int], stride: tuple[int, int]) -> Array:
    """The max gate: each output's gradient goes to the one input that won, the others get 0."""
    (_kh, kw), (sh, sw) = window, stride
    n, c, ho, wo = dz.shape
    dx = np.zeros(x_shape, dtype=dz.dtype)
    s, ch, y, xx = np.indices((n, c, ho, wo))
    rows = y * sh + won // kw
    cols = xx * sw + won % kw
    np.add.at(dx, (s, ch, rows, cols), dz)
    return dx


def avgpool2d_forward(x: Array, window: tuple[int, int], stride: tuple[int, int],
                      out_hw: tuple[int, int]) -> Array:
    """z = the mean of each window."""
    (kh, kw), (sh, sw), (ho, wo) = window, stride, out_hw
    return _windows(x, kh, kw, sh, sw, ho, wo).mean(axis=-1)


def avgpool2d_backward(x_shape: tuple[int, int, int, int], dz: Array, window: tuple[int, int],
                       stride: tuple[int, int]) -> Array:
    """Each output's gradient spread equally over its window: dz / (kh·kw) to every input."""
    (kh, kw), (sh, sw) = window, stride
    n, c, ho, wo = dz.shape
    dx = np.zeros(x_shape, dtype=dz.dtype)
    share = dz / (kh * kw)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw] += share
    return dx
