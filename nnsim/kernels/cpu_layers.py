"""Numba kernels for networks with conv, pool, flatten or recurrent rows (every network that is
not all dense, and any network trained with gradient clipping).

`train_batches_layered` has the contract of `cpu.train_batches` plus scratch buffers (see
`layout.scratch_offsets`): one call trains cfg[COUNT] mini-batches, walking the rows with a
switch on their kind. All-dense networks never come here: they keep the fused kernel in
`cpu.py`, and a dense lesson never compiles (or loads) these kernels.

A convolution is a matrix product over the whole mini-batch ("im2col"): the columns matrix
colsT (K × n·P), K = C·KH·KW kernel taps, P = H_OUT·W_OUT output pixels, holds under column
(s, y, x) the window of sample s under output pixel (y, x), zero where the window reaches into
the padding. Then, with W (F × K) in PyTorch's (filters, channels, KH, KW) order,

    forward   Z = W · colsT               (F × n·P; moved to (n, F, P) with the bias added)
    backward  dL/dW = dZ · colsTᵀ          dL/db = Σ dZ
              dL/dcolsT = Wᵀ · dZ          summed back onto the input pixels ("col2im")

Convolutions with stride 1 and no padding ("wide" rows, `_wide`) skip all of this: they run
the direct loops of `cpu_conv` (no columns, no transposes, no BLAS), each half of the
mini-batch on one of Numba's threads. Their scratch sits where the columns would
(`layout.direct_scratch`); `_im2col`'s and `_col2im`'s wide branches serve no CPU row now
(the CUDA twins keep the wide columns; tests/cuda checks them against these). The other
products go through BLAS (`np.dot` inside njit). Pool rows: `cpu_pool`; flatten copies (a block already is the
flat C × H × W image). Dense rows reuse the products and activations of `cpu.py` (on a
sequence, the same dense layer applies to every step). SimpleRNN and LSTM rows call
`cpu_rnn.row_forward` / `row_backward`, which run the row's whole time loop in one call.
With hp[CLIP] > 0 the gradient is scaled to that global norm before the update.
All kernels: cache=True, nogil=True, error_model="numpy".
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit
from numba.core.registry import CPUDispatcher

from . import cpu_conv, cpu_pool
from .catalogue import (
    ACT,
    ALPHA,
    AVGPOOL2D,
    BOFF,
    C_IN,
    C_OUT,
    CFG_APPLY,
    CFG_BATCH,
    CFG_BMAX,
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
    REG_L1,
    REG_L2,
    SH,
    SIMPLE_RNN,
    SW,
    UCOL,
    UNITS,
    W_IN,
    W_OUT,
    WOFF,
)
from .cpu import JIT, _act_bwd, _act_fwd, _loss_delta, _mm, _mm_nt, _mm_tn, _sumsq, optimizer_update
from .cpu_conv import backward_rows, backward_rows_serial, forward_rows, forward_rows_serial
from .cpu_pool import pool_halves, pool_halves_serial
from .cpu_rnn import clip_by_global_norm, row_backward, row_forward
from .layout import wide


# -- im2col and its adjoint -------------------------------------------------------------------
@njit(**JIT)
def _valid_span(k, s, p, n_in, n_out):
    """Output positions j whose input j·s + k − p lies inside [0, n_in): the range [j0, j1)."""
    lo = p - k
    j0 = 0 if lo <= 0 else (lo + s - 1) // s
    hi = n_in - 1 + p - k
    j1 = 0 if hi < 0 else min(n_out, hi // s + 1)
    return j0, max(j0, j1)


_wide = njit(inline="always", **JIT)(wide)


@njit(inline="always", **JIT)
def _row_w(layi, r):
    """Columns per output row in colsT and T: W_IN when wide (the last KW − 1 are dropped),
    else W_OUT."""
    return layi[r, W_IN] if _wide(layi, r) else layi[r, W_OUT]


@njit(**JIT)
def _im2col(A, ao, n, layi, r, X, xo):
    """colsT (K × n·P) at X[xo:] from the n input images at A[ao:] (zeros in the padding).

    Wide (stride 1, no padding): column (s, y, x) for x < W_IN is input pixel (y + ki, x + kj)
    of sample s, so each (kernel entry, sample) is one run of H_OUT·W_IN consecutive inputs;
    the columns x ≥ W_OUT read on into the next row (finite values that the products drop)."""
    C, H, W = layi[r, C_IN], layi[r, H_IN], layi[r, W_IN]
    kh, kw, sh, sw = layi[r, KH], layi[r, KW], layi[r, SH], layi[r, SW]
    ph, pw, Ho, Wo = layi[r, PH], layi[r, PW], layi[r, H_OUT], layi[r, W_OUT]
    zero = X.dtype.type(0.0)
    if _wide(layi, r):
        P = Ho * W
        NP = n * P
        end = ao + n * C * H * W
        for c in range(C):
            for ki in range(kh):
                for kj in range(kw):
                    row = xo + ((c * kh + ki) * kw + kj) * NP
                    for s in range(n):
                        src = ao + (s * C + c) * H * W + ki * W + kj
                        dst = row + s * P
                        m = min(P, end - src)
                        for t in range(m):
                            X[dst + t] = A[src + t]
                        for t in range(m, P):
                            X[dst + t] = zero
        return
    P = Ho * Wo
    NP = n * P
    for c in range(C):
        for ki in range(kh):
            i0, i1 = _valid_span(ki, sh, ph, H, Ho)
            for kj in range(kw):
                j0, j1 = _valid_span(kj, sw, pw, W, Wo)
                row = xo + ((c * kh + ki) * kw + kj) * NP
                for s in range(n):
                    src = ao + (s * C + c) * H * W
                    dst = row + s * P
                    for i in range(Ho):
                        o = dst + i * Wo
                        if i < i0 or i >= i1:
                            for j in range(Wo):
                                X[o + j] = zero
                            continue
                        line = src + (i * sh + ki - ph) * W + kj - pw
                        for j in range(j0):
                            X[o + j] = zero
                        if sw == 1:
                            for j in range(j0, j1):
                                X[o + j] = A[line + j]
                        else:
                            for j in range(j0, j1):
                                X[o + j] = A[line + j * sw]
                        for j in range(j1, Wo):
                            X[o + j] = zero


@njit(**JIT)
def _col2im(D, do, n, layi, r, A, ao):
    """A[ao:] (n input images, zeroed here) = the sum of each column entry of D onto its pixel.
    Wide columns: one run per (kernel entry, sample); the dropped columns of D are 0 (they come
    from the zeroed columns of T), so adding them where the run wraps changes nothing."""
    C, H, W = layi[r, C_IN], layi[r, H_IN], layi[r, W_IN]
    kh, kw, sh, sw = layi[r, KH], layi[r, KW], layi[r, SH], layi[r, SW]
    ph, pw, Ho, Wo = layi[r, PH], layi[r, PW], layi[r, H_OUT], layi[r, W_OUT]
    end = ao + n * C * H * W
    for t in range(ao, end):
        A[t] = 0.0
    if _wide(layi, r):
        P = Ho * W
        NP = n * P
        for c in range(C):
            for ki in range(kh):
                for kj in range(kw):
                    row = do + ((c * kh + ki) * kw + kj) * NP
                    for s in range(n):
                        dst = ao + (s * C + c) * H * W + ki * W + kj
                        src = row + s * P
                        m = min(P, end - dst)
                        for t in range(m):
                            A[dst + t] += D[src + t]
        return
    P = Ho * Wo
    NP = n * P
    for c in range(C):
        for ki in range(kh):
            i0, i1 = _valid_span(ki, sh, ph, H, Ho)
            for kj in range(kw):
                j0, j1 = _valid_span(kj, sw, pw, W, Wo)
                row = do + ((c * kh + ki) * kw + kj) * NP
                for s in range(n):
                    dst = ao + (s * C + c) * H * W
                    src = row + s * P
                    for i in range(i0, i1):
                        o = src + i * Wo
                        line = dst + (i * sh + ki - ph) * W + kj - pw
                        if sw == 1:
                            for j in range(j0, j1):
                                A[line + j] += D[o + j]
                        else:
                            for j in range(j0, j1):
                                A[line + j * sw] += D[o + j]


# -- conv rows --------------------------------------------------------------------------------
@njit(**JIT)
def _conv_forward(layi, r, P, WS, ai, zo, n, XS, xo, to):
    """z of conv row r (n images at WS[zo:]) from its input at WS[ai:]; keeps colsT at XS[xo:]
    (wide rows: direct, `cpu_conv`, with its scratch at XS[xo:])."""
    if _wide(layi, r):
        forward_rows(layi, r, P, WS, ai, zo, n, XS, xo)
        return
    F, K = layi[r, C_OUT], layi[r, FAN_IN]
    Ho, Wo, Wr = layi[r, H_OUT], layi[r, W_OUT], _row_w(layi, r)
    Pn = Ho * Wo
    Pc = Ho * Wr                     # columns per sample in colsT and T
    NP = n * Pc
    _im2col(WS, ai, n, layi, r, XS, xo)
    w0 = layi[r, WOFF]
    np.dot(P[w0:w0 + F * K].reshape(F, K), XS[xo:xo + K * NP].reshape(K, NP),
           XS[to:to + F * NP].reshape(F, NP))
    b0 = layi[r, BOFF]
    hasb = layi[r, HASB] != 0
    zero = WS.dtype.type(0.0)
    for s in range(n):
        for f in range(F):
            bias = P[b0 + f] if hasb else zero
            src = to + f * NP + s * Pc
            dst = zo + (s * F + f) * Pn
            for i in range(Ho):
                for j in range(Wo):
                    WS[dst + i * Wo + j] = XS[src + i * Wr + j] + bias


@njit(**JIT)
def _copy_sum(src, so, sstep, dst, do, dstep, m, count):
    """dst[do + t·dstep + p] = src[so + t·sstep + p] for t < count, p < m; returns the sum of
    the copied values (float64, eight partial sums so the loop vectorises)."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    m8 = m - m % 8
    for t in range(count):
        a = so + t * sstep
        b = do + t * dstep
        for p in range(0, m8, 8):
            v0, v1, v2, v3 = src[a + p], src[a + p + 1], src[a + p + 2], src[a + p + 3]
            v4, v5, v6, v7 = src[a + p + 4], src[a + p + 5], src[a + p + 6], src[a + p + 7]
            dst[b + p], dst[b + p + 1], dst[b + p + 2], dst[b + p + 3] = v0, v1, v2, v3
            dst[b + p + 4], dst[b + p + 5], dst[b + p + 6], dst[b + p + 7] = v4, v5, v6, v7
            s0 += v0
            s1 += v1
            s2 += v2
            s3 += v3
            s4 += v4
            s5 += v5
            s6 += v6
            s7 += v7
        for p in range(m8, m):
            v = src[a + p]
            dst[b + p] = v
            s0 += v
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(**JIT)
def _penalize(P, G, w0, nw, reg_code, reg):
    """Add the weight penalty's gradient to G[w0:w0+nw] (weights only, never biases)."""
    if reg_code == REG_L1:
        for i in range(w0, w0 + nw):
            w = P[i]
            G[i] += reg * (1.0 if w > 0 else (-1.0 if w < 0 else 0.0))
    elif reg_code == REG_L2:
        for i in range(w0, w0 + nw):
            G[i] += reg * P[i]


@njit(**JIT)
def _conv_backward(layi, r, P, G, WS, ai, dzo, dai, n, XS, xo, to, do, reg_code, reg):
    """dL/dW, dL/db of conv row r into G (returns their squared norm); dL/da of the row below
    into WS[dai:] unless dai < 0 (the first row has no row below to send it to); ai: the
    row's input (the direct kernels of wide rows read it again)."""
    if _wide(layi, r):
        return _direct_backward(layi, r, P, G, WS, ai, dzo, dai, n, XS, xo, reg_code, reg)
    F, K = layi[r, C_OUT], layi[r, FAN_IN]
    Ho, Wo, Wr = layi[r, H_OUT], layi[r, W_OUT], _row_w(layi, r)
    Pn = Ho * Wo
    Pc = Ho * Wr
    NP = n * Pc
    w0, b0 = layi[r, WOFF], layi[r, BOFF]
    zero = XS.dtype.type(0.0)
    if Wr == Wo:
        for f in range(F):           # dZ (n, F, P) -> T (F, n·P), and dL/db[f] = Σ dZ[:, f]
            db = _copy_sum(WS, dzo + f * Pn, F * Pn, XS, to + f * NP, Pn, Pn, n)
            G[b0 + f] = db if layi[r, HASB] else 0.0
    else:                            # wide: each output row padded with W_IN − W_OUT zeros
        for f in range(F):
            db = 0.0
            for s in range(n):
                db += _copy_sum(WS, dzo + (s * F + f) * Pn, Wo, XS, to + f * NP + s * Pc, Wr, Wo, Ho)
                for i in range(Ho):
                    for j in range(Wo, Wr):
                        XS[to + f * NP + s * Pc + i * Wr + j] = zero
            G[b0 + f] = db if layi[r, HASB] else 0.0
    T = XS[to:to + F * NP].reshape(F, NP)
    np.dot(T, XS[xo:xo + K * NP].reshape(K, NP).T, G[w0:w0 + F * K].reshape(F, K))
    _penalize(P, G, w0, F * K, reg_code, reg)
    ss = _sumsq(G, w0, F * K)
    if layi[r, HASB]:
        ss += _sumsq(G, b0, F)
    if dai >= 0:
        np.dot(P[w0:w0 + F * K].reshape(F, K).T, T, XS[do:do + K * NP].reshape(K, NP))
        _col2im(XS, do, n, layi, r, WS, dai)
    return ss


@njit(inline="always", **JIT)
def _direct_backward(layi, r, P, G, WS, ai, dzo, dai, n, XS, xo, reg_code, reg):
    """`_conv_backward` of a wide row (`cpu_conv.backward_rows`; scratch at XS[xo:])."""
    F, K = layi[r, C_OUT], layi[r, FAN_IN]
    w0, b0 = layi[r, WOFF], layi[r, BOFF]
    db = np.zeros((2, F))
    backward_rows(layi, r, P, G, WS, ai, dzo, dai, n, XS, xo, db)
    for f in range(F):
        G[b0 + f] = db[0, f] + db[1, f] if layi[r, HASB] else 0.0
    _penalize(P, G, w0, F * K, reg_code, reg)
    ss = _sumsq(G, w0, F * K)
    if layi[r, HASB]:
        ss += _sumsq(G, b0, F)
    return ss


# -- forward over every row ---------------------------------------------------------------------
# The row kinds the kernels below hold code for: conv and pool rows (HAS_CNN), recurrent rows
# (HAS_RNN). Here both True (the general kernels, which nothing calls); `variant` compiles
# copies of them with the kinds a network lacks set to False, and Numba drops a branch on a
# False global before it compiles anything in it.
HAS_CNN = HAS_RNN = True


@njit(**JIT)
def _forward_rows(layi, layf, P, WS, offs, zoff, n, training, U, p0, XS, soffs, IS):
    """Forward pass of n rows already in WS's block 0 (A region at 0, Z region at zoff);
    inverted dropout on hidden outputs when training."""
    L = layi.shape[0] - 1
    to = soffs[L + 1, 0]
    for r in range(1, L + 1):
        kind = layi[r, KIND]
        ai = offs[r - 1]
        ao = offs[r]
        zo = zoff + ao
        units = layi[r, UNITS]
        if kind == DENSE:   # on a sequence: every step, n·H_OUT rows of C_OUT units
            din, dout, rows = layi[r, FAN_IN], layi[r, C_OUT], n * layi[r, H_OUT]
            _mm(WS, ai, P, layi[r, WOFF], WS, zo, rows, din, dout)
            if layi[r, HASB]:
                b0 = layi[r, BOFF]
                for i in range(rows):
                    q = zo + i * dout
                    for j in range(dout):
                        WS[q + j] += P[b0 + j]
        elif HAS_RNN and (kind == SIMPLE_RNN or kind == LSTM):
            row_forward(layi, layf, r, P, WS, ai, zo, n, XS, soffs[r, 0])
        elif HAS_CNN and kind == CONV2D:
            _conv_forward(layi, r, P, WS, ai, zo, n, XS, soffs[r, 0], to)
        elif HAS_CNN and (kind == MAXPOOL2D or kind == AVGPOOL2D):
            pool_halves(layi, r, WS, ai, zo, n, IS, soffs[r, 1], True)
        elif kind == FLATTEN:  # the block already is the flat image
            for q in range(n * units):
                WS[zo + q] = WS[ai + q]
        _act_fwd(layi[r, ACT], layf[r, ALPHA], WS, zo, WS, ao, n, units)
        rate = layf[r, DROP]
        if training and rate > 0.0 and r < L:
            c = layi[r, UCOL]
            inv = 1.0 / (1.0 - rate)
            for i in range(n):
                q = ao + i * units
                for j in range(units):
                    WS[q + j] = 0.0 if U[p0 + i, c + j] < rate else WS[q + j] * inv


@njit(**JIT)
def _train_batches(X, Y, order, P, G, S1, S2, hp, cfg, layi, layf, offs, U, WS, out_loss, out_gn,
                   XS, soffs, IS):
    """`cpu.train_batches` for any kind of row: gather, forward, loss, backward, a finiteness
    check and (if cfg[APPLY]) the optimizer update, for cfg[COUNT] mini-batches. XS (float),
    IS (int64) and soffs come from `layout.scratch_offsets(layi, cfg[BMAX])`. Returns the number
    of batches completed; on a non-finite loss or gradient it stops before updating and sets
    cfg[ERR] and cfg[ERR_LAYER] (0-based row − 1). out_gn[k, r − 1] is row r's gradient norm
    (0 for pool and flatten rows), before hp[CLIP] > 0 scales G to that global norm."""
    L = layi.shape[0] - 1
    B = cfg[CFG_BATCH]
    N = order.shape[0]
    region = offs[L] + layi[L, UNITS] * cfg[CFG_BMAX]
    ZO, DAO, DZO = region, 2 * region, 3 * region
    reg_code = cfg[CFG_REG]
    reg = hp[HP_REG]
    d0 = layi[0, UNITS]
    rate0 = layf[0, DROP]
    c0 = layi[0, UCOL]
    kout = layi[L, UNITS]
    to, do = soffs[L + 1, 0], soffs[L + 1, 1]
    cfg[CFG_ERR] = 0
    for k in range(cfg[CFG_COUNT]):
        p0 = cfg[CFG_START] + k * B
        n = min(B, N - p0)
        if n <= 0:
            return k
        for i in range(n):
            q = order[p0 + i]
            for j in range(d0):
                v = X[q, j]
                if rate0 > 0.0:
                    v = 0.0 if U[p0 + i, c0 + j] < rate0 else v / (1.0 - rate0)
                WS[i * d0 + j] = v
        _forward_rows(layi, layf, P, WS, offs, ZO, n, True, U, p0, XS, soffs, IS)
        oL = offs[L]
        loss, fused = _loss_delta(cfg[CFG_LOSS], cfg[CFG_LOGITS] != 0, layi[L, ACT],
                                  WS, ZO + oL, WS, oL, WS, DAO + oL, WS, DZO + oL, n, kout,
                                  Y, order, p0)
        out_loss[k] = loss
        if not math.isfinite(loss):
            cfg[CFG_ERR] = ERR_LOSS
            cfg[CFG_ERR_LAYER] = L - 1
            return k
        if not fused:
            _act_bwd(layi[L, ACT], layf[L, ALPHA], WS, ZO + oL, WS, oL, WS, DAO + oL, WS, DZO + oL,
                     n, kout, 0.0, U, 0, 0)
        for r in range(L, 0, -1):   # backward, last row first
            kind = layi[r, KIND]
            dzo = DZO + offs[r]
            dai = DAO + offs[r - 1] if r > 1 else -1
            ss = 0.0
            if kind == DENSE:
                din, dout, rows = layi[r, FAN_IN], layi[r, C_OUT], n * layi[r, H_OUT]
                w0 = layi[r, WOFF]
                _mm_tn(WS, offs[r - 1], WS, dzo, G, w0, rows, din, dout)
                _penalize(P, G, w0, din * dout, reg_code, reg)
                ss = _sumsq(G, w0, din * dout)
                b0 = layi[r, BOFF]
                for j in range(b0, b0 + dout):
                    G[j] = 0.0
                if layi[r, HASB]:
                    for i in range(rows):
                        q = dzo + i * dout
                        for j in range(dout):
                            G[b0 + j] += WS[q + j]
                    ss += _sumsq(G, b0, dout)
                if r > 1:
                    _mm_nt(WS, dzo, P, w0, WS, dai, rows, dout, din)
            elif HAS_RNN and (kind == SIMPLE_RNN or kind == LSTM):
                nw, nb = row_backward(layi, layf, r, P, G, WS, dzo, dai, n, XS, soffs[r, 0])
                w0 = layi[r, WOFF]
                _penalize(P, G, w0, nw, reg_code, reg)
                ss = _sumsq(G, w0, nw) + _sumsq(G, layi[r, BOFF], nb)
            elif HAS_CNN and kind == CONV2D:
                ss = _conv_backward(layi, r, P, G, WS, offs[r - 1], dzo, dai, n, XS, soffs[r, 0],
                                    to, do, reg_code, reg)
            elif HAS_CNN and (kind == MAXPOOL2D or kind == AVGPOOL2D):
                if r > 1:
                    pool_halves(layi, r, WS, dzo, dai, n, IS, soffs[r, 1], False)
            elif kind == FLATTEN and r > 1:
                for q in range(n * layi[r, UNITS]):
                    WS[dai + q] = WS[dzo + q]
            out_gn[k, r - 1] = math.sqrt(ss)
            if not math.isfinite(ss):
                cfg[CFG_ERR] = ERR_GRAD
                cfg[CFG_ERR_LAYER] = r - 1
                return k
            if r > 1:
                ol = offs[r - 1]
                _act_bwd(layi[r - 1, ACT], layf[r - 1, ALPHA], WS, ZO + ol, WS, ol, WS, DAO + ol,
                         WS, DZO + ol, n, layi[r - 1, UNITS], layf[r - 1, DROP], U, p0,
                         layi[r - 1, UCOL])
        if hp[HP_CLIP] > 0.0:   # clipping by global norm (out_gn keeps the norms before it)
            tot = 0.0
            for q in range(L):
                tot += out_gn[k, q] * out_gn[k, q]
            clip_by_global_norm(G, tot, hp[HP_CLIP])
        if cfg[CFG_APPLY]:
            cfg[CFG_T] = optimizer_update(cfg[CFG_OPT], hp, cfg[CFG_T], P, G, S1, S2)
    return cfg[CFG_COUNT]


@njit(**JIT)
def _predict(X, P, layi, layf, offs, bmax, out, XS, soffs, IS):
    """Eval-mode forward (no dropout) of all rows of X into out, bmax rows at a time (`offs`,
    scratch: `layout.region_offsets` and `layout.scratch_offsets` for bmax)."""
    L = layi.shape[0] - 1
    N = X.shape[0]
    region = offs[L] + layi[L, UNITS] * bmax
    WS = np.empty(2 * region, dtype=P.dtype)
    d0 = layi[0, UNITS]
    kout = layi[L, UNITS]
    oL = offs[L]
    U = np.empty((0, 0), dtype=P.dtype)
    for p0 in range(0, N, bmax):
        n = min(bmax, N - p0)
        for i in range(n):
            for j in range(d0):
                WS[i * d0 + j] = X[p0 + i, j]
        _forward_rows(layi, layf, P, WS, offs, region, n, False, U, 0, XS, soffs, IS)
        for i in range(n):
            for j in range(kout):
                out[p0 + i, j] = WS[oL + i * kout + j]


# -- one set of kernels per mix of row kinds ------------------------------------------------------
@dataclass(frozen=True)
class Kernels:
    """The training and prediction kernels compiled for one mix of row kinds."""

    tag: str
    train: CPUDispatcher
    predict: CPUDispatcher


def _copy(fn: CPUDispatcher, tag: str, glob: dict, **opts: str) -> CPUDispatcher:
    """Kernel `fn` compiled with the module globals `glob`, as a function of its own name
    (`fn`'s name and `tag`), so Numba caches it in its own file beside the other copies."""
    py = fn.py_func
    name = f"{py.__name__}_{tag}"
    code = py.__code__.replace(co_name=name, co_qualname=name)
    copy = types.FunctionType(code, glob, name, py.__defaults__, py.__closure__)
    copy.__qualname__, copy.__module__, copy.__doc__ = name, py.__module__, py.__doc__
    return njit(**opts, **JIT)(copy)


@lru_cache(maxsize=None)
def variant(cnn: bool, rnn: bool, threads: bool) -> Kernels:
    """The kernels for networks with conv or pool rows (`cnn`), recurrent rows (`rnn`), both
    or neither (dense and flatten rows only, e.g. trained with clipping); with `threads`, the
    large conv and pool rows run their two halves on two threads, else never (no parallel
    code is compiled). Each variant compiles on first use and Numba caches it on disk under
    its own name: a lesson's CNN compiles no recurrent or two-thread code (about 35 s on a
    2-core machine instead of 80 s for all of it; docs/benchmarks.md), a recurrent network no
    conv or pool code."""
    tag = "_".join(k for k, on in (("cnn", cnn), ("rnn", rnn), ("threads", threads)) if on) or "plain"
    glob = dict(globals(), HAS_CNN=cnn, HAS_RNN=rnn)
    if not threads:
        glob.update(forward_rows=forward_rows_serial, backward_rows=backward_rows_serial,
                    pool_halves=pool_halves_serial)
    # the functions that reach a kind's code or the threads, each in this variant's copy
    glob["_direct_backward"] = _copy(_direct_backward, tag, glob, inline="always")
    glob["_conv_forward"] = _copy(_conv_forward, tag, glob)
    glob["_conv_backward"] = _copy(_conv_backward, tag, glob)
    # inlined: one optimisation of the forward code less (~6 s of LLVM), and no slower
    glob["_forward_rows"] = _copy(_forward_rows, tag, glob, inline="always")
    made = Kernels(tag, _copy(_train_batches, tag, glob), _copy(_predict, tag, glob))
    _made.append(made)
    return made


_made: list[Kernels] = []


def compiled_variants() -> list[Kernels]:
    """The variants made so far in this process."""
    return list(_made)


def threads_pay(layi: np.ndarray, n: int) -> bool:
    """Whether a mini-batch of n has a row large enough for the two-thread kernels (the
    kernels' own tests: `cpu_conv.threads_pay` for a direct conv row, `cpu_pool.threads_pay`)."""
    for r in range(1, layi.shape[0]):
        kind = layi[r, KIND]
        if kind == CONV2D and wide(layi, r) and cpu_conv.threads_pay(layi, r, n):
            return True
        if kind in (MAXPOOL2D, AVGPOOL2D) and cpu_pool.threads_pay(layi, r, n):
            return True
    return False


@lru_cache(maxsize=256)
def _kernels_for(table: bytes, rows: int, n: int) -> Kernels:
    layi = np.frombuffer(table, dtype=np.int64).reshape(rows, -1)
    kinds = set(layi[1:, KIND].tolist())
    return variant(bool(kinds & {CONV2D, MAXPOOL2D, AVGPOOL2D}), bool(kinds & {SIMPLE_RNN, LSTM}),
                   threads_pay(layi, n))


def kernels_for(layi: np.ndarray, n: int) -> Kernels:
    """The variant for the layer table `layi` and mini-batches of up to n rows."""
    return _kernels_for(layi.tobytes(), layi.shape[0], int(n))


def train_batches_layered(X, Y, order, P, G, S1, S2, hp, cfg, layi, layf, offs, U, WS, out_loss,
                          out_gn, XS, soffs, IS) -> int:
    """`_train_batches` in the variant for the network and its batch size (same contract)."""
    return kernels_for(layi, cfg[CFG_BMAX]).train(X, Y, order, P, G, S1, S2, hp, cfg, layi, layf,
                                                  offs, U, WS, out_loss, out_gn, XS, soffs, IS)


def predict_layered(X, P, layi, layf, offs, bmax, out, XS, soffs, IS) -> None:
    """`_predict` in the variant for the network and bmax (same contract)."""
    kernels_for(layi, bmax).predict(X, P, layi, layf, offs, bmax, out, XS, soffs, IS)
