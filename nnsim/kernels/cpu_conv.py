"""Direct convolution for "wide" conv rows (stride 1, no padding): no im2col, no transposes.

For sample s, filter f and input channel c, with the image rows laid end to end (row width
W = W_IN), output pixel q = y·W + x of the "wide" output (x < W_OUT kept, the last KW − 1 of
each row dropped) is a sum over the kernel taps t = (ki, kj) of w[f, c, t] · x[q + ki·W + kj]:
one long loop over q per (f, c), vectorised along q, with all KH·KW taps in its body for 3×3
kernels (one load and store of the accumulator per nine multiply-adds). The backward pass puts
dL/dz of each (s, f) into a zero-padded wide block g (row width W, O = (KH − 1)·W + KW − 1
leading zeros, the dropped columns and KH − 1 rows below zero), so that

    dL/dW[f, c, t] = Σ_s Σ_q g[O + q] · x[q + ki·W + kj]          (reductions along q)
    dL/dx[c, q]    = Σ_f Σ_t w[f, c, t] · g[O + q − ki·W − kj]      (every q < H·W; the
                     wrapped reads land in the zero columns)

The scratch of a wide row (`layout.direct_scratch`): per thread an accumulator (H_OUT·W), the
g blocks of one sample (F blocks of O + H·W) and a dL/dW partial (F·K).

`forward_rows` and `backward_rows` split the mini-batch into two fixed halves (`half`), one per
Numba thread (parallel=True, OpenMP with a passive wait); the second half's dL/dW and dL/db
are summed apart and added to the first's last, so the results are the same with one thread
or two, whatever the timing. BLAS is not called here, so its threads never compete.
"""

from __future__ import annotations

import os

import numba
from numba import njit, prange

from .catalogue import BOFF, C_IN, C_OUT, FAN_IN, H_IN, H_OUT, HASB, KH, KW, UNITS, W_IN, W_OUT, WOFF
from .cpu import _U0, _U1, _U2, _U3, _U4, _U5, _U6, _U7, _U8, JIT, JIT_MM, _u


def _start_threads() -> None:
    """Start Numba's thread pool now: the parallel kernels below run inside kernels loaded from
    Numba's cache, which start no threads themselves (the first call would segfault). Its
    threads sleep as soon as they are idle (OpenMP's passive wait, unless OMP_WAIT_POLICY says
    otherwise), so they never spin on a core that the app's UI thread, OpenBLAS or another
    process wants; the variable is restored after the OpenMP runtime has read it."""
    old = os.environ.get("OMP_WAIT_POLICY")
    os.environ["OMP_WAIT_POLICY"] = old or "PASSIVE"
    try:
        numba.get_num_threads()
    finally:
        if old is None:
            del os.environ["OMP_WAIT_POLICY"]


_start_threads()

# dL/dW's sums along q may be reordered (vectorised partial sums; the order is fixed by the
# compiled code, so the same on every run of one machine)
JIT_RED = dict(JIT, fastmath={"contract", "reassoc"})


@njit(inline="always", **JIT)
def geometry(layi, r):
    """(C, H, W, F, KH, KW, H_OUT, W_OUT, O, block) of wide conv row r; block = O + H·W is a
    padded dL/dz block's length."""
    C, H, W, F = layi[r, C_IN], layi[r, H_IN], layi[r, W_IN], layi[r, C_OUT]
    kh, kw = layi[r, KH], layi[r, KW]
    O = (kh - 1) * W + kw - 1
    return C, H, W, F, kh, kw, layi[r, H_OUT], layi[r, W_OUT], O, O + H * W


@njit(**JIT_MM)
def _taps_acc(acc, m, X, xb, P, wb, W, kh, kw, first, bias):
    """acc[q] (+)= Σ_t P[wb + t] · X[xb + q + ki·W + kj] for q < m (t = ki·KW + kj); with
    `first` acc[q] = bias + that sum instead."""
    m, xb = _u(m), _u(xb)
    if kh == 3 and kw == 3:
        w0, w1, w2 = P[wb], P[wb + 1], P[wb + 2]
        w3, w4, w5 = P[wb + 3], P[wb + 4], P[wb + 5]
        w6, w7, w8 = P[wb + 6], P[wb + 7], P[wb + 8]
        b1, b2 = xb + _u(W), xb + _u(2 * W)
        if first:
            for q in range(_U0, m):
                acc[q] = bias + (w0 * X[xb + q] + w1 * X[xb + q + _U1] + w2 * X[xb + q + _U2]
                                 + w3 * X[b1 + q] + w4 * X[b1 + q + _U1] + w5 * X[b1 + q + _U2]
                                 + w6 * X[b2 + q] + w7 * X[b2 + q + _U1] + w8 * X[b2 + q + _U2])
            return
        for q in range(_U0, m):
            acc[q] += (w0 * X[xb + q] + w1 * X[xb + q + _U1] + w2 * X[xb + q + _U2]
                       + w3 * X[b1 + q] + w4 * X[b1 + q + _U1] + w5 * X[b1 + q + _U2]
                       + w6 * X[b2 + q] + w7 * X[b2 + q + _U1] + w8 * X[b2 + q + _U2])
        return
    if first:
        for q in range(_U0, m):
            acc[q] = bias
    for ki in range(kh):
        for kj in range(kw):
            w = P[wb + ki * kw + kj]
            o = xb + _u(ki * W + kj)
            for q in range(_U0, m):
                acc[q] += w * X[o + q]


@njit(**JIT)
def _copy_rows(src, so, sw, dst, do, dw, rows, m):
    """dst[do + i·dw + j] = src[so + i·sw + j] for i < rows, j < m: blocks of eight (one vector
    move each; a plain loop of a short row would run scalar)."""
    so, sw, do, dw, m = _u(so), _u(sw), _u(do), _u(dw), _u(m)
    m8 = m - m % _U8
    for i in range(_U0, _u(rows)):
        a, b = so + i * sw, do + i * dw
        for j in range(_U0, m8, _U8):
            v0, v1, v2, v3 = src[a + j], src[a + j + _U1], src[a + j + _U2], src[a + j + _U3]
            v4, v5, v6, v7 = src[a + j + _U4], src[a + j + _U5], src[a + j + _U6], src[a + j + _U7]
            dst[b + j], dst[b + j + _U1], dst[b + j + _U2], dst[b + j + _U3] = v0, v1, v2, v3
            dst[b + j + _U4], dst[b + j + _U5], dst[b + j + _U6], dst[b + j + _U7] = v4, v5, v6, v7
        for j in range(m8, m):
            dst[b + j] = src[a + j]


@njit(**JIT_MM)
def forward_sample(layi, r, P, WS, ai, zo, s, XS, acc):
    """z of sample s (F images at WS[zo + s·F·P_OUT:]) from its input at WS[ai:]; acc is the
    offset of an H_OUT·W accumulator in XS."""
    C, H, W, F, kh, kw, Ho, Wo, _, _ = geometry(layi, r)
    m = Ho * W - (kw - 1)
    w0, b0 = layi[r, WOFF], layi[r, BOFF]
    hasb = layi[r, HASB] != 0
    A = XS[acc:acc + m]
    for f in range(F):
        bias = P[b0 + f] if hasb else P.dtype.type(0.0)
        for c in range(C):
            _taps_acc(A, m, WS, ai + (s * C + c) * H * W, P, w0 + (f * C + c) * kh * kw, W, kh, kw,
                      c == 0, bias)
        _copy_rows(XS, acc, W, WS, zo + (s * F + f) * Ho * Wo, Wo, Ho, Wo)


@njit(**JIT)
def pad_sample(layi, r, WS, dzo, s, XS, go, db):
    """The padded wide blocks g of sample s's dL/dz (F of them at XS[go:]); db[f] += Σ dL/dz."""
    _, H, W, F, _, _, Ho, Wo, O, blk = geometry(layi, r)
    zero = XS.dtype.type(0.0)
    for f in range(F):
        g = go + f * blk
        src = dzo + (s * F + f) * Ho * Wo
        for q in range(g, g + O):
            XS[q] = zero
        acc = 0.0
        for i in range(Ho):
            d = g + O + i * W
            for j in range(Wo):
                v = WS[src + i * Wo + j]
                XS[d + j] = v
                acc += v
            for j in range(Wo, W):
                XS[d + j] = zero
        for q in range(g + O + Ho * W, g + blk):
            XS[q] = zero
        db[f] += acc


@njit(**JIT_RED)
def _dw_taps(XS, gb, m, X, xb, W, kh, kw, D, db):
    """D[db + t] += Σ_{q<m} XS[gb + q] · X[xb + q + ki·W + kj] (t = ki·KW + kj)."""
    if kh == 3 and kw == 3:
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = D.dtype.type(0.0)
        gb, m, xb = _u(gb), _u(m), _u(xb)
        b1, b2 = xb + _u(W), xb + _u(2 * W)
        for q in range(_U0, m):
            g = XS[gb + q]
            s0 += g * X[xb + q]
            s1 += g * X[xb + q + _U1]
            s2 += g * X[xb + q + _U2]
            s3 += g * X[b1 + q]
            s4 += g * X[b1 + q + _U1]
            s5 += g * X[b1 + q + _U2]
            s6 += g * X[b2 + q]
            s7 += g * X[b2 + q + _U1]
            s8 += g * X[b2 + q + _U2]
        D[db] += s0
        D[db + 1] += s1
        D[db + 2] += s2
        D[db + 3] += s3
        D[db + 4] += s4
        D[db + 5] += s5
        D[db + 6] += s6
        D[db + 7] += s7
        D[db + 8] += s8
        return
    for ki in range(kh):
        for kj in range(kw):
            o = _u(xb + ki * W + kj)
            acc = D.dtype.type(0.0)
            for q in range(_U0, _u(m)):
                acc += XS[_u(gb) + q] * X[o + q]
            D[db + ki * kw + kj] += acc


@njit(**JIT)
def dw_sample(layi, r, WS, ai, s, XS, go, D, do):
    """D[do:do + F·K] += sample s's dL/dW (its g blocks at XS[go:], its input at WS[ai:])."""
    C, H, W, F, kh, kw, Ho, _, O, blk = geometry(layi, r)
    m = Ho * W - (kw - 1)
    K = layi[r, FAN_IN]
    for f in range(F):
        for c in range(C):
            _dw_taps(XS, go + f * blk + O, m, WS, ai + (s * C + c) * H * W, W, kh, kw, D,
                     do + f * K + c * kh * kw)


@njit(**JIT_MM)
def _taps_back(out, ob, n, XS, gb, P, wb, W, kh, kw):
    """out[ob + q] += Σ_t P[wb + t] · XS[gb + q − ki·W − kj] for q < n."""
    if kh == 3 and kw == 3:
        w0, w1, w2 = P[wb], P[wb + 1], P[wb + 2]
        w3, w4, w5 = P[wb + 3], P[wb + 4], P[wb + 5]
        w6, w7, w8 = P[wb + 6], P[wb + 7], P[wb + 8]
        g0, g1, g2 = _u(gb - 2), _u(gb - W - 2), _u(gb - 2 * W - 2)
        ob, n = _u(ob), _u(n)
        for q in range(_U0, n):
            out[ob + q] += (w8 * XS[g2 + q] + w7 * XS[g2 + q + _U1] + w6 * XS[g2 + q + _U2]
                            + w5 * XS[g1 + q] + w4 * XS[g1 + q + _U1] + w3 * XS[g1 + q + _U2]
                            + w2 * XS[g0 + q] + w1 * XS[g0 + q + _U1] + w0 * XS[g0 + q + _U2])
        return
    for ki in range(kh):
        for kj in range(kw):
            w = P[wb + ki * kw + kj]
            o = _u(gb - ki * W - kj)
            for q in range(_U0, _u(n)):
                out[_u(ob) + q] += w * XS[o + q]


@njit(**JIT)
def dx_sample(layi, r, P, WS, dai, s, XS, go):
    """dL/dx of sample s (its C images at WS[dai + s·C·H·W:]) from its g blocks at XS[go:]."""
    C, H, W, F, kh, kw, _, _, O, blk = geometry(layi, r)
    w0 = layi[r, WOFF]
    for c in range(C):
        ob = dai + (s * C + c) * H * W
        for q in range(ob, ob + H * W):
            WS[q] = 0.0
        for f in range(F):
            _taps_back(WS, ob, H * W, XS, go + f * blk + O, P, w0 + (f * C + c) * kh * kw,
                       W, kh, kw)


# -- whole rows, the mini-batch split in two halves -------------------------------------------
# Below this many multiply-adds per mini-batch a conv row runs both halves on the calling
# thread (same halves, same sums): waking a second thread costs tens of µs.
PARALLEL_MACS = 1 << 20


def threads_pay(layi, r, n):
    """Whether wide conv row r with a mini-batch of n has PARALLEL_MACS multiply-adds or more
    (plain Python for `cpu_layers.threads_pay`, compiled below for the kernels)."""
    return n * layi[r, FAN_IN] * layi[r, UNITS] >= PARALLEL_MACS


_threads_pay = njit(inline="always", **JIT)(threads_pay)


@njit(inline="always", **JIT)
def half(n, t):
    """Samples [s0, s1) of half t of a mini-batch of n (the split never depends on threads)."""
    h = (n + 1) // 2
    return (0, h) if t == 0 else (h, n)


@njit(inline="always", **JIT)
def _forward_half(layi, r, P, WS, ai, zo, n, XS, xo, t):
    _, _, W, F, _, _, Ho, _, _, blk = geometry(layi, r)
    s0, s1 = half(n, t)
    for s in range(s0, s1):
        forward_sample(layi, r, P, WS, ai, zo, s, XS, xo + t * (Ho * W + F * blk))


@njit(parallel=True, **JIT)
def _forward_parallel(layi, r, P, WS, ai, zo, n, XS, xo):
    for t in prange(2):
        _forward_half(layi, r, P, WS, ai, zo, n, XS, xo, t)


@njit(inline="always", **JIT)
def forward_rows_serial(layi, r, P, WS, ai, zo, n, XS, xo):
    """z of wide conv row r for n samples, both halves of the mini-batch on this thread (each
    its own accumulator in the scratch at XS[xo:])."""
    for t in range(2):
        _forward_half(layi, r, P, WS, ai, zo, n, XS, xo, t)


@njit(inline="always", **JIT)
def forward_rows(layi, r, P, WS, ai, zo, n, XS, xo):
    """`forward_rows_serial`, with each half on its own thread (Numba's) when the row has
    PARALLEL_MACS multiply-adds or more."""
    if not _threads_pay(layi, r, n):
        forward_rows_serial(layi, r, P, WS, ai, zo, n, XS, xo)
    else:
        _forward_parallel(layi, r, P, WS, ai, zo, n, XS, xo)


@njit(inline="always", **JIT)
def _backward_half(layi, r, P, G, WS, ai, dzo, dai, n, XS, xo, db, t):
    _, _, W, F, _, _, Ho, _, _, blk = geometry(layi, r)
    w0 = layi[r, WOFF]
    part = Ho * W + F * blk
    po = xo + 2 * part               # the second half's dL/dW partial
    s0, s1 = half(n, t)
    go = xo + t * part + Ho * W
    for s in range(s0, s1):
        pad_sample(layi, r, WS, dzo, s, XS, go, db[t])
        if t == 0:
            dw_sample(layi, r, WS, ai, s, XS, go, G, w0)
        else:
            dw_sample(layi, r, WS, ai, s, XS, go, XS, po)
        if dai >= 0:
            dx_sample(layi, r, P, WS, dai, s, XS, go)


@njit(parallel=True, **JIT)
def _backward_parallel(layi, r, P, G, WS, ai, dzo, dai, n, XS, xo, db):
    for t in prange(2):
        _backward_half(layi, r, P, G, WS, ai, dzo, dai, n, XS, xo, db, t)


@njit(inline="always", **JIT)
def _zero_sums(layi, r, G, XS, xo, db):
    """Zero dL/dW in G, the second half's partial and db; returns the partial's offset."""
    _, _, W, F, _, _, Ho, _, _, blk = geometry(layi, r)
    K, w0 = layi[r, FAN_IN], layi[r, WOFF]
    po = xo + 2 * (Ho * W + F * blk)
    for q in range(F * K):
        G[w0 + q] = 0.0
        XS[po + q] = 0.0
    for f in range(F):
        db[0, f] = 0.0
        db[1, f] = 0.0
    return po


@njit(inline="always", **JIT)
def _add_partial(layi, r, G, XS, po):
    """The second half's dL/dW, added to the first's last (a fixed order)."""
    w0 = layi[r, WOFF]
    for q in range(layi[r, C_OUT] * layi[r, FAN_IN]):
        G[w0 + q] += XS[po + q]


@njit(inline="always", **JIT)
def backward_rows_serial(layi, r, P, G, WS, ai, dzo, dai, n, XS, xo, db):
    """dL/dW into G (zeroed here), Σ dL/dz per filter into db (2 × F, float64: one row per
    half) and, unless dai < 0, dL/dx into WS[dai:], for wide conv row r; both halves of the
    mini-batch on this thread, the second half's dL/dW summed in its own partial and added
    last (as `backward_rows` does on two threads: the same sums)."""
    po = _zero_sums(layi, r, G, XS, xo, db)
    for t in range(2):
        _backward_half(layi, r, P, G, WS, ai, dzo, dai, n, XS, xo, db, t)
    _add_partial(layi, r, G, XS, po)


@njit(inline="always", **JIT)
def backward_rows(layi, r, P, G, WS, ai, dzo, dai, n, XS, xo, db):
    """`backward_rows_serial` with each half on its own thread for a row of PARALLEL_MACS
    multiply-adds or more."""
    if not _threads_pay(layi, r, n):
        backward_rows_serial(layi, r, P, G, WS, ai, dzo, dai, n, XS, xo, db)
        return
    po = _zero_sums(layi, r, G, XS, xo, db)
    _backward_parallel(layi, r, P, G, WS, ai, dzo, dai, n, XS, xo, db)
    _add_partial(layi, r, G, XS, po)
