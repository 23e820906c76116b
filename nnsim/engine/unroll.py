"""A recurrent row unrolled: its steps for a trace (`trace.RecurrentTrace`).

On the cpu backend the kernels keep every step's state, gates and gradients in the layered
scratch (`kernels.layout.recurrent_parts`), so a traced step copies them out; elsewhere (the
reference backend) the row's forward and backward passes are recomputed step by step with
`kernels.ref_rnn` from its input and the gradient that reached its output.
"""

from __future__ import annotations

import numpy as np

from ..kernels import catalogue as cat
from ..kernels import npmath, ref_rnn
from ..kernels.layout import recurrent_dims, recurrent_parts
from ..kernels.reference import recurrent_weights
from .trace import RecurrentTrace


def recurrent_trace(net, row: int, a_in: np.ndarray, d_out: np.ndarray, P: np.ndarray,
                    scratch: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
                    clip_scale: float = 1.0) -> RecurrentTrace:
    """The steps of recurrent row `row` (0-based) for the n samples of a traced batch.

    a_in (n, T·F) is the row's input, d_out (n, ·) dL/d(its output), P the weights the forward
    pass used; `scratch` (soffs, float scratch, int scratch) as the layered kernels left it, or
    None to recompute."""
    layi = net.layi
    r = row + 1
    k, T, F, H = recurrent_dims(layi, r)
    n = len(a_in)
    rseq = int(layi[r, cat.H_OUT]) == T and T > 1
    W, U, b = recurrent_weights(P, layi, r)
    x = a_in.reshape(n, T, F)
    act = int(layi[r, cat.RACT])
    alpha = float(net.layf64[r, cat.ALPHA])
    above = np.zeros((n, T, H), dtype=a_in.dtype)
    if rseq:
        above[:] = d_out.reshape(n, T, H)
    else:
        above[:, -1] = d_out.reshape(n, H)
    if scratch is not None and scratch[1].size:
        soffs, XS, _ = scratch
        xt, z, a, h, c, _, dg, dh, dc, *_ = recurrent_parts(k, T, F, H, n, int(soffs[r, 0]))

        def part(o: int, m: int) -> np.ndarray:
            """A step-major (T, n, m) part as (n, T, m)."""
            return XS[o:o + T * n * m].reshape(T, n, m).transpose(1, 0, 2).copy()

        zz, hh, dz, dhh = part(z, k * H), part(h, H), part(dg, k * H), part(dh, H)
        gate = part(a, 4 * H) if k == 4 else None
        cc = part(c, H) if k == 4 else None
        dcc = part(dc, H) if k == 4 else None
    else:
        if k == 4:
            _, ps = ref_rnn.lstm_forward(x, W, U, b, rseq)
        else:
            _, ps = ref_rnn.simple_rnn_forward(x, W, U, b, act, alpha, rseq)
        zz, hh = np.stack(ps.z, axis=1), np.stack(ps.h, axis=1)
        gate = np.stack(ps.act, axis=1) if k == 4 else None
        cc = np.stack(ps.c, axis=1) if k == 4 else None
        dz, dhh, dcc = _backward(ps, above, W, U, k, act, alpha)
    xw = x @ W
    h_prev = np.concatenate([np.zeros_like(hh[:, :1]), hh[:, :-1]], axis=1)
    uh = h_prev @ U
    x64, hp64, dz64 = (v.astype(np.float64) for v in (x, h_prev, dz))
    contribution = np.array([
        np.sqrt(np.sum((x64[:, t].T @ dz64[:, t]) ** 2) + np.sum((hp64[:, t].T @ dz64[:, t]) ** 2)
                + np.sum(dz64[:, t].sum(axis=0) ** 2)) for t in range(T)])
    dh_norm = np.sqrt((dhh.astype(np.float64) ** 2).sum(axis=(0, 2)))
    return RecurrentTrace(gates=k, activation=net.rows[row].activation, x=x.copy(), xw=xw, uh=uh,
                          z=zz, h=hh, dh_above=above, dh=dhh, dz=dz, contribution=contribution,
                          dh_norm=dh_norm, gate=gate, c=cc, dc=dcc, return_sequences=rseq,
                          clip_scale=clip_scale)


def _backward(ps: ref_rnn.RecurrentPass, above: np.ndarray, W: np.ndarray, U: np.ndarray, k: int,
              act: int, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(dz, dh, dc) per step (n, T, ·) of the reference's BPTT, written out step by step."""
    n, T, H = above.shape
    dz = np.zeros((n, T, k * H), dtype=above.dtype)
    dh = np.zeros((n, T, H), dtype=above.dtype)
    dc = np.zeros((n, T, H), dtype=above.dtype) if k == 4 else None
    back = np.zeros((n, H), dtype=above.dtype)
    dc_next = np.zeros((n, H), dtype=above.dtype)
    for t in range(T - 1, -1, -1):
        dh[:, t] = above[:, t] + back
        if k == 1:
            dz[:, t] = npmath.act_backward(act, ps.z[t], ps.h[t], dh[:, t], alpha)
        else:
            g = ps.act[t]
            i, f, gg, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
            tc = ps.tc[t]
            c_prev = ps.c[t - 1] if t > 0 else np.zeros_like(tc)
            dct = dc_next + dh[:, t] * o * (1 - tc * tc)
            dc[:, t] = dct
            dz[:, t] = np.concatenate([dct * gg * i * (1 - i), dct * c_prev * f * (1 - f),
                                       dct * i * (1 - gg * gg), dh[:, t] * tc * o * (1 - o)], axis=1)
            dc_next = dct * f
        back = dz[:, t] @ U.T
    return dz, dh, dc
