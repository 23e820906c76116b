"""The plain-NumPy recurrent layers: SimpleRNN and LSTM, forward and backpropagation through time.

What `cpu_rnn` computes, written step by step so a reader sees the recurrence and the chain
rule. Shapes: x (n, T, F) — n sequences of T steps with F features each; h (n, H).
Weights as Keras and PyTorch keep them (k = 1 for SimpleRNN, 4 for LSTM):

    W (F, k·H)   input weights          (PyTorch's weight_ih transposed)
    U (H, k·H)   recurrent weights      (PyTorch's weight_hh transposed)
    b (k·H,)     bias                   (PyTorch's b_ih + b_hh)

SimpleRNN, from h₋₁ = 0:      z_t = x_t·W + h_{t−1}·U + b,   h_t = f(z_t)   (f = tanh by default)

LSTM, from h₋₁ = c₋₁ = 0, gate blocks in the order input, forget, cell, output:
    [i | f | g | o] = x_t·W + h_{t−1}·U + b        (pre-activations, each n × H)
    i, f, o = σ(·),  g = tanh(·)
    c_t = f ⊙ c_{t−1} + i ⊙ g                       (the cell: what is kept + what is written)
    h_t = o ⊙ tanh(c_t)

The layer's output is h_{T−1} (n, H), or every h_t (n, T, H) with `return_sequences`.

Backpropagation through time walks the steps backwards carrying dL/dh (and dL/dc): at each step
the gradient arriving from above (the loss, or the layer on top, at that step) is added to the
gradient flowing back from step t+1, pushed through the step's gates into dL/d(pre-activation)
dG_t, and sent on to h_{t−1} through U. The weights are shared across steps, so their gradients
are sums over the steps: dL/dW = Σ_t x_tᵀ·dG_t, dL/dU = Σ_t h_{t−1}ᵀ·dG_t, dL/db = Σ_t Σ_s dG_t.
`step_norms` keeps ‖dG_t‖ of each step: how much each step contributes, and how the gradient
shrinks (or grows) as it flows back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import npmath
from .catalogue import TANH

Array = np.ndarray


@dataclass
class RecurrentPass:
    """Everything one forward pass keeps for the backward pass (lists indexed by step t)."""

    gates: int                          # k: 1 (SimpleRNN) or 4 (LSTM)
    x: Array                            # (n, T, F)
    z: list[Array] = field(default_factory=list)       # pre-activations (n, k·H)
    h: list[Array] = field(default_factory=list)       # hidden states (n, H)
    act: list[Array] = field(default_factory=list)     # LSTM: [i f g o] after σ/tanh (n, 4H)
    c: list[Array] = field(default_factory=list)       # LSTM: cell states (n, H)
    tc: list[Array] = field(default_factory=list)      # LSTM: tanh(c_t) (n, H)


def sigmoid(z: Array) -> Array:
    """σ(z), stable for both signs."""
    return npmath.sigmoid(z)


def simple_rnn_forward(x: Array, W: Array, U: Array, b: Array | None, act: int = TANH,
                       alpha: float = 0.0,
                       return_sequences: bool = False) -> tuple[Array, RecurrentPass]:
    """h_t = f(x_t·W + h_{t−1}·U + b); returns (output, what the backward pass needs)."""
    n, T, _ = x.shape
    H = U.shape[0]
    ps = RecurrentPass(1, x)
    h = np.zeros((n, H), dtype=x.dtype)
    for t in range(T):
        z = x[:, t] @ W + h @ U
        if b is not None:
            z = z + b
        h = npmath.ACT_FN[act](z, alpha).astype(x.dtype)
        ps.z.append(z)
        ps.h.append(h)
    return _output(ps, return_sequences), ps


def lstm_forward(x: Array, W: Array, U: Array, b: Array | None,
                 return_sequences: bool = False) -> tuple[Array, RecurrentPass]:
    """The LSTM recurrence above; returns (output, what the backward pass needs)."""
    n, T, _ = x.shape
    H = U.shape[0]
    ps = RecurrentPass(4, x)
    h = np.zeros((n, H), dtype=x.dtype)
    c = np.zeros((n, H), dtype=x.dtype)
    for t in range(T):
        z = x[:, t] @ W + h @ U
        if b is not None:
            z = z + b
        i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
        g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
        c = f * c + i * g
        tc = np.tanh(c)
        h = o * tc
        ps.z.append(z)
        ps.act.append(np.concatenate([i, f, g, o], axis=1))
        ps.c.append(c)
        ps.tc.append(tc)
        ps.h.append(h)
    return _output(ps, return_sequences), ps


def _output(ps: RecurrentPass, return_sequences: bool) -> Array:
    return np.stack(ps.h, axis=1) if return_sequences else ps.h[-1].copy()


@dataclass
class RecurrentGrads:
    """dL/dx (n, T, F), dL/dW, dL/dU, dL/db, and ‖dL/d(pre-activation)‖ of each step."""

    dx: Array
    dW: Array
    dU: Array
    db: Array
    step_norms: Array


def _arriving(dout: Array, t: int, T: int) -> Array | None:
    """The gradient the layer above sends to step t's hidden state."""
    if dout.ndim == 3:
        return dout[:, t]
    return dout if t == T - 1 else None


def simple_rnn_backward(dout: Array, ps: RecurrentPass, W: Array, U: Array, act: int = TANH,
                        alpha: float = 0.0) -> RecurrentGrads:
    """BPTT for SimpleRNN: dz_t = (dL/dh_t from above + dz_{t+1}·Uᵀ) ⊙ f′(z_t)."""
    x = ps.x
    n, T, _ = x.shape
    H = U.shape[0]
    dh = np.zeros((n, H), dtype=x.dtype)
    dz = [np.zeros((n, H), dtype=x.dtype)] * T
    for t in range(T - 1, -1, -1):
        above = _arriving(dout, t, T)
        if above is not None:
            dh = dh + above
        dz[t] = npmath.act_backward(act, ps.z[t], ps.h[t], dh, alpha)
        dh = dz[t] @ U.T
    return _weight_grads(ps, dz, W, U)


def lstm_backward(dout: Array, ps: RecurrentPass, W: Array, U: Array) -> RecurrentGrads:
    """BPTT for the LSTM, one step at a time from the last:

    dh = dL/dh_t (from above and from step t+1);  do = dh ⊙ tanh(c_t)
    dc = dc_{t+1 → t} + dh ⊙ o ⊙ (1 − tanh²c_t);  di = dc ⊙ g;  dg = dc ⊙ i;  df = dc ⊙ c_{t−1}
    the cell gradient flows on to c_{t−1} as dc ⊙ f  (the forget gate's product: near 1, the
    gradient passes through many steps undiminished — why the LSTM remembers)
    and through the gate derivatives into dG_t = [di·i(1−i), df·f(1−f), dg·(1−g²), do·o(1−o)].
    """
    x = ps.x
    n, T, _ = x.shape
    H = U.shape[0]
    dh = np.zeros((n, H), dtype=x.dtype)
    dc = np.zeros((n, H), dtype=x.dtype)
    dG = [np.zeros((n, 4 * H), dtype=x.dtype)] * T
    for t in range(T - 1, -1, -1):
        above = _arriving(dout, t, T)
        if above is not None:
            dh = dh + above
        a = ps.act[t]
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        tc = ps.tc[t]
        c_prev = ps.c[t - 1] if t > 0 else np.zeros_like(tc)
        do = dh * tc
        dc = dc + dh * o * (1.0 - tc * tc)
        di, dg, df = dc * g, dc * i, dc * c_prev
        dG[t] = np.concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g * g),
                                do * o * (1.0 - o)], axis=1)
        dc = dc * f
        dh = dG[t] @ U.T
    return _weight_grads(ps, dG, W, U)


def _weight_grads(ps: RecurrentPass, dG: list[Array], W: Array, U: Array) -> RecurrentGrads:
    """Sum the shared weights' gradients over the steps; dL/dx_t = dG_t·Wᵀ."""
    x = ps.x
    T = x.shape[1]
    dW = sum(x[:, t].T @ dG[t] for t in range(T))
    dU = sum((ps.h[t - 1].T @ dG[t] for t in range(1, T)), np.zeros_like(U))
    db = sum(d.sum(axis=0) for d in dG)
    dx = np.stack([d @ W.T for d in dG], axis=1)
    norms = np.array([np.sqrt(np.sum(d.astype(np.float64) ** 2)) for d in dG])
    return RecurrentGrads(dx, dW, dU, db, norms)


def clip_by_global_norm(grads: Array, clip_norm: float) -> tuple[Array, float]:
    """g ← g · clip_norm / ‖g‖ when ‖g‖ > clip_norm (all parameters' gradients as one vector,
    as tf.clip_by_global_norm and torch.nn.utils.clip_grad_norm_); returns (g, ‖g‖ before)."""
    norm = float(np.sqrt(np.sum(grads.astype(np.float64) ** 2)))
    if clip_norm > 0.0 and norm > clip_norm:
        return (grads * (clip_norm / norm)).astype(grads.dtype), norm
    return grads, norm
