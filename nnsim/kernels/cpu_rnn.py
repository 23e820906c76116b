"""Numba kernels of the recurrent layers: SimpleRNN and LSTM, the whole time loop in one call.

The same math as `ref_rnn` (read that file for the equations), over the flat buffers of
`layout`. One call runs a layer's forward pass over every step of a mini-batch, another its
backpropagation through time (BPTT): PyTorch pays its per-operation overhead at every step of
the loop, these kernels pay one call per layer and mini-batch.

k gates (1: SimpleRNN, 4: LSTM with the blocks input, forget, cell, output), H units, T steps,
F input features, n sequences. The input block (n, T, F) and the output block ((n, T, H) with
return_sequences, else (n, H)) are sample-major, as the layer table's workspace holds every
row. Inside, the layer works step-major in its scratch (`layout.recurrent_parts`), so that each step's
n × k·H block is contiguous for the products:

    forward   G = X·W + b                    all steps at once (T·n × F)·(F × k·H)
              G_t += h_{t−1}·U, then the gates and the new state, step by step
    backward  dL/dh_t = arriving_t + dG_{t+1}·Uᵀ, then dG_t through the gates, step by step
              dL/dU += h_{t−1}ᵀ·dG_t, step by step (49 small products beat one tall
              transposed one, 81 µs against 128 µs for an LSTM(32), 50 steps, batch 32)
              dL/dW = Xᵀ·dG, dL/db = Σ dG, dL/dX = dG·Wᵀ    all steps at once

The scratch keeps every step's state, gates, dL/dh, dL/dc and dG, so a traced step shows the
state moving through time and the gradient flowing back (the app's unrolled view reads them).
float32 gates use rational tanh (σ(x) = ½ + ½·tanh(x/2)): no exp, so the loops vectorise;
float64 uses math.tanh and exp. All kernels: cache=True, nogil=True, error_model="numpy".
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .catalogue import ALPHA, BOFF, H_OUT, HASB, RACT, TANH, WOFF
from .cpu import JIT, _act_bwd, _act_fwd, _mm, _mm_nt, _mm_tn
from .layout import recurrent_dims, recurrent_parts


def scratch_size(k: int, T: int, F: int, H: int, n: int) -> int:
    """Values of scratch a recurrent layer needs for up to n sequences."""
    return recurrent_parts(k, T, F, H, n)[-1]


_parts = njit(inline="always", **JIT)(recurrent_parts)
_dims = njit(inline="always", **JIT)(recurrent_dims)


# -- the gate nonlinearities --------------------------------------------------------------------
@njit(inline="always", **JIT)
def _tanh(x, buf):
    """tanh x in buf's dtype: float32 by Eigen's rational minimax (within 8 ulp, as
    `cpu._act_fwd`; multiplies, adds and one divide, so loops vectorise), float64 by libm."""
    if buf.itemsize == 4:
        dt = buf.dtype.type
        c = dt(7.90531110763549805)
        v = min(max(x, -c), c)
        x2 = v * v
        p = v * (dt(4.89352455891786e-03) + x2 * (dt(6.37261928875436e-04) + x2 * (
            dt(1.48572235717979e-05) + x2 * (dt(5.12229709037114e-08) + x2 * (
                dt(-8.60467152213735e-11) + x2 * (dt(2.00018790482477e-13)
                                                  + x2 * dt(-2.76076847742355e-16)))))))
        q = dt(4.89352518554385e-03) + x2 * (dt(2.26843463243900e-03) + x2 * (
            dt(1.18534705686654e-04) + x2 * dt(1.19825839466702e-06)))
        return x if (abs(x) < dt(0.0004) or x != x) else p / q
    return math.tanh(x)


@njit(inline="always", **JIT)
def _sigmoid(x, buf):
    """σ(x) in buf's dtype: ½ + ½·tanh(x/2) in float32, 1/(1 + e^(−x)) (stable) in float64."""
    dt = buf.dtype.type
    if buf.itemsize == 4:
        half = dt(0.5)
        return half + half * _tanh(half * x, buf)
    one = dt(1.0)
    e = math.exp(-abs(x))
    r = one / (one + e)
    return r if x >= 0 else e * r


# The elementwise loops below work on views of each step's blocks, indexed from 0: with offsets
# into one flat buffer, LLVM cannot tell the streams apart (or, with signed indices, rule out
# Numba's negative-index wraparound) and leaves the loops scalar, 4-8x slower.
@njit(**JIT)
def _lstm_gates(Zt, At, M, m):
    """At = [σ(i) σ(f) tanh(g) σ(o)] from the pre-activations Zt (n × 4H, m = n·4H values).
    As tanh x = 2σ(2x) − 1, one flat loop serves all four blocks: M holds 2 on the g block's
    columns and 1 elsewhere (a loop per row and block runs 2-3x slower: LLVM vectorises
    flat loops best)."""
    one = Zt.dtype.type(1.0)
    for j in range(m):
        s = M[j]
        At[j] = s * _sigmoid(s * Zt[j], Zt) - s + one


@njit(**JIT)
def _lstm_state(At, Cp, C, TC, Hh, n, H, first):
    """C = f·Cp + i·g (Cp = c_{t−1}, ignored when `first`: c₋₁ = 0); TC = tanh C;
    Hh = o·tanh C."""
    K = 4 * H
    lo = 2 * H
    hi = 3 * H
    for s in range(n):
        r = s * K
        q = s * H
        if first:
            for j in range(H):
                C[q + j] = At[r + j] * At[r + lo + j]
        else:
            for j in range(H):
                C[q + j] = At[r + H + j] * Cp[q + j] + At[r + j] * At[r + lo + j]
    for s in range(n):
        r = s * K
        q = s * H
        for j in range(H):
            tv = _tanh(C[q + j], At)
            TC[q + j] = tv
            Hh[q + j] = At[r + hi + j] * tv


@njit(**JIT)
def _lstm_cell_back(Gt, Cp, TC, DH, DCn, Gn, DC, DG, n, H, first, last):
    """One step back through the gates: from dL/dh_t (DH) and the cell gradient of the step
    after (dL/dc_{t+1} DCn times that step's forget gate in Gn; none when `last`), dL/dc_t into
    DC and dG_t = dL/d[pre-activations] into DG (c_{t−1} = Cp, or 0 when `first`)."""
    K = 4 * H
    one = Gt.dtype.type(1.0)
    lo = 2 * H
    hi = 3 * H
    for s in range(n):
        r = s * K
        q = s * H
        for j in range(H):             # dc = dh·o·(1 − tanh²c) + dc_{t+1}·f_{t+1}
            tv = TC[q + j]
            DC[q + j] = DH[q + j] * Gt[r + hi + j] * (one - tv * tv)
        if not last:
            for j in range(H):
                DC[q + j] += DCn[q + j] * Gn[r + H + j]
        for j in range(H):             # di = dc·g, dg = dc·i, do = dh·tanh c, through σ′, tanh′
            ig = Gt[r + j]
            gg = Gt[r + lo + j]
            og = Gt[r + hi + j]
            dcv = DC[q + j]
            DG[r + j] = dcv * gg * ig * (one - ig)
            DG[r + lo + j] = dcv * ig * (one - gg * gg)
            DG[r + hi + j] = DH[q + j] * TC[q + j] * og * (one - og)
        if first:                      # df = dc·c_{t−1}
            for j in range(H):
                DG[r + H + j] = 0.0
        else:
            for j in range(H):
                fg = Gt[r + H + j]
                DG[r + H + j] = DC[q + j] * Cp[q + j] * fg * (one - fg)


@njit(**JIT)
def _add_rows(X, v, rows, m):
    """X (rows × m) += v (m) on every row."""
    for rr in range(rows):
        q = rr * m
        for j in range(m):
            X[q + j] += v[j]


@njit(**JIT)
def _sum_rows(X, out, rows, m):
    """out (m) = Σ over the rows of X (rows × m)."""
    for j in range(m):
        out[j] = 0.0
    for rr in range(rows):
        q = rr * m
        for j in range(m):
            out[j] += X[q + j]


@njit(**JIT)
def _to_step_major(A, X, n, T, F):
    """X (T, n, F) from A (n, T, F)."""
    for s in range(n):
        for t in range(T):
            src = (s * T + t) * F
            dst = (t * n + s) * F
            for j in range(F):
                X[dst + j] = A[src + j]


@njit(**JIT)
def _to_sample_major(X, A, n, T, F):
    """A (n, T, F) from X (T, n, F)."""
    for s in range(n):
        for t in range(T):
            src = (t * n + s) * F
            dst = (s * T + t) * F
            for j in range(F):
                A[dst + j] = X[src + j]


# -- one layer, forward and backward --------------------------------------------------------------
@njit(**JIT)
def rnn_forward(k, act, alpha, T, F, H, rseq, hasb, P, w0, b0, A, ai, O, oo, n, S, so):
    """Forward pass of a recurrent layer over all T steps of n sequences.

    P holds W (F × k·H) at w0, U (H × k·H) right after it, b (k·H) at b0 (if hasb). The input
    block (n, T, F) is A[ai:], the output goes to O[oo:] ((n, T, H) if rseq, else (n, H)), the
    scratch (`layout.recurrent_parts(k, T, F, H, n, so)`) is S. k = 1 applies activation `act` (alpha)."""
    K = k * H
    u0 = w0 + F * K
    nH = n * H
    nK = n * K
    xt, z, a, h, c, tc, _, _, _, tmp, _, gm, _, _, _ = _parts(k, T, F, H, n, so)
    _to_step_major(A[ai:ai + n * T * F], S[xt:xt + T * n * F], n, T, F)
    _mm(S, xt, P, w0, S, z, T * n, F, K)  # every step's x_t·W in one product
    if hasb:
        _add_rows(S[z:z + T * nK], P[b0:b0 + K], T * n, K)
    Tmp = S[tmp:tmp + nK]
    M = S[gm:gm + (nK if k == 4 else 0)]
    if k == 4:
        for s in range(n):
            for j in range(K):
                M[s * K + j] = 2.0 if (j >= 2 * H and j < 3 * H) else 1.0
    for t in range(T):
        zt = z + t * nK
        Zt = S[zt:zt + nK]
        if t > 0:                          # + h_{t−1}·U
            _mm(S, h + (t - 1) * nH, P, u0, S, tmp, n, H, K)
            for q in range(nK):
                Zt[q] += Tmp[q]
        ht = h + t * nH
        if k == 1:
            _act_fwd(act, alpha, S, zt, S, ht, n, H)
        else:
            ct = c + t * nH
            At = S[a + t * nK:a + (t + 1) * nK]
            _lstm_gates(Zt, At, M, nK)
            _lstm_state(At, S[ct - nH:ct] if t > 0 else S[ct:ct], S[ct:ct + nH],
                        S[tc + t * nH:tc + (t + 1) * nH], S[ht:ht + nH], n, H, t == 0)
    if rseq:
        _to_sample_major(S[h:h + T * nH], O[oo:oo + n * T * H], n, T, H)
    else:
        last = h + (T - 1) * nH
        Ov = O[oo:oo + nH]
        Hl = S[last:last + nH]
        for q in range(nH):
            Ov[q] = Hl[q]


@njit(**JIT)
def rnn_backward(k, act, alpha, T, F, H, rseq, hasb, P, G, w0, b0, D, dzo, dai, n, S, so):
    """Backpropagation through time of the layer `rnn_forward` just ran (its scratch intact).

    dL/d(output) is D[dzo:] ((n, T, H) if rseq, else (n, H)). Writes dL/dW, dL/dU (after W) and
    dL/db (zeros without a bias) into G — no penalty: the caller adds it — and, unless dai < 0,
    dL/d(input) (n, T, F) into D[dai:]."""
    K = k * H
    u0 = w0 + F * K
    nH = n * H
    nK = n * K
    xt, z, a, h, c, tc, dg, dh, dc, tmp, dx, _, ut, tu, _ = _parts(k, T, F, H, n, so)
    Unone = np.empty((0, 0), dtype=S.dtype)
    UT = S[ut:ut + K * H]                  # Uᵀ (K × H): dG_t·Uᵀ as a plain product
    for q in range(H):
        for j in range(K):
            UT[j * H + q] = P[u0 + q * K + j]
    dU = G[u0:u0 + H * K]
    for q in range(H * K):
        dU[q] = 0.0
    TU = S[tu:tu + H * K]
    if rseq:                               # what arrives from above, at every step
        _to_step_major(D[dzo:dzo + n * T * H], S[dh:dh + T * nH], n, T, H)
    else:
        for q in range(dh, dh + (T - 1) * nH):
            S[q] = 0.0
        last = S[dh + (T - 1) * nH:dh + T * nH]
        Dv = D[dzo:dzo + nH]
        for q in range(nH):
            last[q] = Dv[q]
    for t in range(T - 1, -1, -1):
        dht = dh + t * nH
        dgt = dg + t * nK
        if k == 1:
            _act_bwd(act, alpha, S, z + t * nK, S, h + t * nH, S, dht, S, dgt, n, H, 0.0, Unone,
                     0, 0)
        else:
            ct = c + t * nH
            dct = dc + t * nH
            nxt = min(t + 1, T - 1)        # the step after (unused at the last step)
            _lstm_cell_back(S[a + t * nK:a + (t + 1) * nK], S[ct - nH:ct] if t > 0 else S[ct:ct],
                            S[tc + t * nH:tc + (t + 1) * nH], S[dht:dht + nH],
                            S[dc + nxt * nH:dc + (nxt + 1) * nH],
                            S[a + nxt * nK:a + (nxt + 1) * nK], S[dct:dct + nH],
                            S[dgt:dgt + nK], n, H, t == 0, t == T - 1)
        if t > 0:
            _mm(S, dgt, S, ut, S, tmp, n, K, H)          # dL/dh_{t−1} += dG_t·Uᵀ
            prev = S[dht - nH:dht]
            back = S[tmp:tmp + nH]
            for q in range(nH):
                prev[q] += back[q]
            _mm_tn(S, h + (t - 1) * nH, S, dgt, S, tu, n, H, K)   # dU += h_{t−1}ᵀ·dG_t
            for q in range(H * K):
                dU[q] += TU[q]
    _mm_tn(S, xt, S, dg, G, w0, T * n, F, K)             # dW = Σ_t x_tᵀ·dG_t
    if hasb:
        _sum_rows(S[dg:dg + T * nK], G[b0:b0 + K], T * n, K)   # db = Σ_t Σ_s dG_t
    else:
        for j in range(K):
            G[b0 + j] = 0.0
    if dai >= 0:
        _mm_nt(S, dg, P, w0, S, dx, T * n, K, F)          # dX = dG·Wᵀ, then sample-major
        _to_sample_major(S[dx:dx + T * n * F], D[dai:dai + n * T * F], n, T, F)


# -- a row of the layer table (called from `cpu_layers`) ----------------------------------------
@njit(**JIT)
def row_forward(layi, layf, r, P, WS, ai, zo, n, XS, so):
    """`rnn_forward` for recurrent row r of the layer table: its input block at WS[ai:], its
    output (the hidden states: the row's z, and its a through a linear ACT) at WS[zo:], its
    scratch at XS[so:]."""
    k, T, F, H = _dims(layi, r)
    rnn_forward(k, layi[r, RACT], layf[r, ALPHA], T, F, H, layi[r, H_OUT] == T and T > 1,
                layi[r, HASB] != 0, P, layi[r, WOFF], layi[r, BOFF], WS, ai, WS, zo, n, XS, so)


@njit(**JIT)
def row_backward(layi, layf, r, P, G, WS, dzo, dai, n, XS, so):
    """`rnn_backward` for recurrent row r: dL/d(its output) at WS[dzo:], dL/d(its input) into
    WS[dai:] (unless dai < 0). Returns (weights W and U, biases): the sizes of its two ranges of
    G at WOFF and BOFF (the caller adds the penalty and takes the norm)."""
    k, T, F, H = _dims(layi, r)
    rnn_backward(k, layi[r, RACT], layf[r, ALPHA], T, F, H, layi[r, H_OUT] == T and T > 1,
                 layi[r, HASB] != 0, P, G, layi[r, WOFF], layi[r, BOFF], WS, dzo, dai, n, XS,
                 so)
    return (F + H) * k * H, k * H


@njit(**JIT)
def clip_by_global_norm(G, ss, clip):
    """Scale every gradient by clip/‖G‖ when ‖G‖ = √ss exceeds clip > 0 (clipping by global
    norm, as tf.clip_by_global_norm and torch.nn.utils.clip_grad_norm_). Returns the factor."""
    norm = math.sqrt(ss)
    if clip <= 0.0 or not norm > clip:
        return 1.0
    f = clip / norm
    scale = G.dtype.type(f)
    for i in range(G.shape[0]):
        G[i] *= scale
    return f


# -- array entry points (tests, benchmarks) -------------------------------------------------------
def _check(x: np.ndarray, W: np.ndarray, U: np.ndarray, b: np.ndarray | None) -> tuple[int, int]:
    if x.ndim != 3:
        raise ValueError(f"x must be (n, T, F), got shape {x.shape}")
    H = U.shape[0]
    if U.shape[1] % H or U.shape[1] // H not in (1, 4):
        raise ValueError(f"U must be (H, H) or (H, 4H), got {U.shape}")
    k = U.shape[1] // H
    if W.shape != (x.shape[2], k * H):
        raise ValueError(f"W must be {(x.shape[2], k * H)}, got {W.shape}")
    if b is not None and b.shape != (k * H,):
        raise ValueError(f"b must be {(k * H,)}, got {b.shape}")
    return k, H


def _packed(x, W, U, b):
    dt = x.dtype
    P = np.concatenate([W.astype(dt).ravel(), U.astype(dt).ravel(),
                        (b if b is not None else np.zeros(W.shape[1])).astype(dt).ravel()])
    return P, W.size + U.size


def layer_forward(x: np.ndarray, W: np.ndarray, U: np.ndarray, b: np.ndarray | None,
                  act: int = TANH, alpha: float = 0.0, return_sequences: bool = False
                  ) -> tuple[np.ndarray, np.ndarray]:
    """`rnn_forward` on arrays: x (n, T, F); k (1 or 4) from U's shape. act defaults to tanh.
    Returns (output, scratch) — the scratch is what `layer_backward` needs."""
    k, H = _check(x, W, U, b)
    n, T, F = x.shape
    P, b0 = _packed(x, W, U, b)
    S = np.zeros(scratch_size(k, T, F, H, n), dtype=x.dtype)
    out = np.zeros((n, T, H) if return_sequences else (n, H), dtype=x.dtype)
    rnn_forward(k, act, alpha, T, F, H, return_sequences, b is not None, P, 0, b0,
                np.ascontiguousarray(x).ravel(), 0, out.reshape(-1), 0, n, S, 0)
    return out, S


def layer_backward(dout: np.ndarray, x: np.ndarray, W: np.ndarray, U: np.ndarray,
                   b: np.ndarray | None, S: np.ndarray, act: int = TANH, alpha: float = 0.0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """`rnn_backward` on arrays after `layer_forward` (S its scratch): (dx, dW, dU, db)."""
    k, H = _check(x, W, U, b)
    n, T, F = x.shape
    P, b0 = _packed(x, W, U, b)
    G = np.zeros_like(P)
    rseq = dout.ndim == 3
    D = np.concatenate([np.ascontiguousarray(dout, dtype=x.dtype).ravel(),
                        np.zeros(n * T * F, dtype=x.dtype)])
    rnn_backward(k, act, alpha, T, F, H, rseq, b is not None, P, G, 0, b0, D, 0,
                 dout.size, n, S, 0)
    dx = D[dout.size:].reshape(n, T, F)
    dW = G[:W.size].reshape(W.shape)
    dU = G[W.size:b0].reshape(U.shape)
    db = G[b0:].copy() if b is not None else None
    return dx, dW, dU, db
