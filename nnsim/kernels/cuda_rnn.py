"""numba.cuda kernels of the recurrent rows (SimpleRNN, LSTM): the device twins of `cpu_rnn.py`.

The time loop runs on the host, one launch per step and direction, over the scratch layout of
`layout.recurrent_parts` (step-major, as on the cpu): the input moved step-major (`seq_to_steps`),
X·W + b for every step at once through the dense product, then per step `step_fwd` — one
thread per (sample, unit) computes the unit's k pre-activations z = x·W + h_{t−1}·U + b (the
recurrent part summed here), then h = f(z) (SimpleRNN) or the gates, the cell and h (LSTM) —
and the output moved back sample-major. Back through time, per step `step_bwd` (dG_t and
dL/dc_t from dL/dh_t, the cell's flow from step t+1) then `dh_back` (dL/dh_{t−1} += dG_t·Uᵀ,
one thread per (sample, unit)); after the loop dL/dW = Xᵀ·dG, dL/dU = H_{0..T−2}ᵀ·dG_{1..T−1}
(the dense backward product, with the penalty), dL/db = Σ dG and dL/dX = dG·Wᵀ.
`clip_grads` scales every gradient to `clip` when the global norm of the batch's per-row norms
exceeds it (clipping by global norm, as the cpu kernels).

The gates use the cpu kernels' expressions: σ and tanh of `cuda_dense._act` (the rational tanh
in float32). Every kernel takes the status word first and returns when it is set.
"""

from __future__ import annotations

import math

from numba import cuda

from .catalogue import SIGMOID, TANH
from .cuda_dense import _act, _dact


@cuda.jit
def seq_to_steps(status, A, ao, X, xo, n, T, F):
    """X (T, n, F) at X[xo:] from the sample-major block A (n, T, F) at A[ao:]."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= n * T * F:
        return
    s = t // (T * F)
    tt = (t // F) % T
    j = t % F
    X[xo + (tt * n + s) * F + j] = A[ao + t]


@cuda.jit
def steps_to_seq(status, X, xo, A, ao, n, T, F):
    """A (n, T, F) at A[ao:] from the step-major X (T, n, F) at X[xo:]."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= n * T * F:
        return
    s = t // (T * F)
    tt = (t // F) % T
    j = t % F
    A[ao + t] = X[xo + (tt * n + s) * F + j]


@cuda.jit
def fill(status, A, ao, count, value):
    """A[ao:ao + count] = value."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= count:
        return
    A[ao + t] = value


@cuda.jit
def step_fwd(status, k, act, alpha, S, zt, at, hp, cp, ct, tct, ht, P, u0, n, H, first):
    """One step for the n sequences, one thread per (sample, unit j): z of the unit's k blocks
    (S[zt:] holds x·W + b; h_{t−1}·U is added here unless `first`), then h = f(z) for k = 1,
    or [i f g o] → S[at:], c = f·c_{t−1} + i·g → S[ct:], tanh c → S[tct:], h = o·tanh c for
    k = 4; h → S[ht:]."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= n * H:
        return
    s = t // H
    j = t - s * H
    K = k * H
    zero = S.dtype.type(0.0)
    for q in range(k):
        col = q * H + j
        v = S[zt + s * K + col]
        if not first:
            acc = zero
            for i in range(H):
                acc += S[hp + s * H + i] * P[u0 + i * K + col]
            v += acc
        S[zt + s * K + col] = v
    if k == 1:
        S[ht + t] = _act(act, alpha, S, S[zt + s * K + j])
        return
    r = zt + s * K
    ig = _act(SIGMOID, 0.0, S, S[r + j])
    fg = _act(SIGMOID, 0.0, S, S[r + H + j])
    gg = _act(TANH, 0.0, S, S[r + 2 * H + j])
    og = _act(SIGMOID, 0.0, S, S[r + 3 * H + j])
    ra = at + s * K
    S[ra + j] = ig
    S[ra + H + j] = fg
    S[ra + 2 * H + j] = gg
    S[ra + 3 * H + j] = og
    prev = zero if first else S[cp + t]
    cv = fg * prev + ig * gg
    tv = _act(TANH, 0.0, S, cv)
    S[ct + t] = cv
    S[tct + t] = tv
    S[ht + t] = og * tv


@cuda.jit
def step_bwd(status, k, act, alpha, S, zt, at, ht, cp, tct, dht, dcn, an, dct, dgt, n, H,
             first, last):
    """One step back, one thread per (sample, unit j): from dL/dh_t (S[dht:]) the unit's dG_t
    (dL/dz of its k blocks) → S[dgt:]; an LSTM's dL/dc_t → S[dct:], adding the next step's
    dL/dc_{t+1} (S[dcn:]) times its forget gate (S[an:] blocks) unless `last`."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= n * H:
        return
    s = t // H
    j = t - s * H
    K = k * H
    one = S.dtype.type(1.0)
    zero = S.dtype.type(0.0)
    dhv = S[dht + t]
    if k == 1:
        S[dgt + s * K + j] = _dact(act, alpha, S, S[zt + s * K + j], S[ht + t], dhv, 0.0, one)
        return
    r = at + s * K
    ig = S[r + j]
    fg = S[r + H + j]
    gg = S[r + 2 * H + j]
    og = S[r + 3 * H + j]
    tv = S[tct + t]
    dcv = dhv * og * (one - tv * tv)
    if not last:
        dcv += S[dcn + t] * S[an + s * K + H + j]
    S[dct + t] = dcv
    prev = zero if first else S[cp + t]
    rd = dgt + s * K
    S[rd + j] = dcv * gg * ig * (one - ig)
    S[rd + H + j] = dcv * prev * fg * (one - fg)
    S[rd + 2 * H + j] = dcv * ig * (one - gg * gg)
    S[rd + 3 * H + j] = dhv * tv * og * (one - og)


@cuda.jit
def dh_back(status, S, dgt, dhp, P, u0, n, H, K):
    """dL/dh_{t−1} (S[dhp:], holding what arrives from above) += dG_t·Uᵀ, one thread per
    (sample, unit q): Σ_j dG_t[s, j]·U[q, j]."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= n * H:
        return
    s = t // H
    q = t - s * H
    acc = S.dtype.type(0.0)
    for j in range(K):
        acc += S[dgt + s * K + j] * P[u0 + q * K + j]
    S[dhp + t] += acc


@cuda.jit
def clip_grads(status, out_gn, b, L, clip, G, n):
    """G ← G·clip/‖g‖ when ‖g‖ = √(Σ_l out_gn[b, l]²) > clip > 0 (each thread sums the L row
    norms itself: L is small)."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= n or clip <= 0:
        return
    ss = 0.0
    for l in range(L):
        ss += out_gn[b, l] * out_gn[b, l]
    norm = math.sqrt(ss)
    if norm > clip:
        G[t] *= G.dtype.type(clip / norm)
