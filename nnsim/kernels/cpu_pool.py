"""Max and average pooling rows for the layered CPU kernels (`cpu_layers`).

Max pooling records which input won each window (the first of equal ones, row by row; 2×2
windows branch-free, `max2x2_row`) and routes the gradient to it alone; average pooling spreads
each gradient equally over its window. `pool_halves` runs each half of the mini-batch (the
halves of `cpu_conv`) on its own Numba thread when the row is large enough.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .catalogue import C_IN, H_IN, H_OUT, KH, KIND, KW, MAXPOOL2D, SH, SW, UNITS, W_IN, W_OUT
from .cpu import _U0, _U1, JIT, _u
from .cpu_conv import half

POOL_PARALLEL = 1 << 16   # a pool row's inputs per mini-batch from which its halves run on two threads


def threads_pay(layi, r, n):
    """Whether pool row r with a mini-batch of n has POOL_PARALLEL inputs or more (plain
    Python for `cpu_layers.threads_pay`, compiled below for the kernels)."""
    return n * layi[r, C_IN] * layi[r, H_IN] * layi[r, W_IN] >= POOL_PARALLEL


_threads_pay = njit(inline="always", **JIT)(threads_pay)


@njit(**JIT)
def max2x2_row(WS, a0, W, sw, m, z0, IS, i0, q0):
    """One output row of a 2×2 max pool: WS[z0 + j] = the largest of the window whose top left
    is WS[a0 + j·sw] (rows W apart), IS[i0 + j] = q0 + j·sw + its offset (the first of equal ones,
    row by row). Branch-free (selects, not jumps: random winners defeat branch prediction)."""
    a0, W, sw, m, z0, i0 = _u(a0), _u(W), _u(sw), _u(m), _u(z0), _u(i0)
    for j in range(_U0, m):
        p = a0 + j * sw
        a, b = WS[p], WS[p + _U1]
        c, d = WS[p + W], WS[p + W + _U1]
        hb = b > a
        ab = b if hb else a
        hd = d > c
        cd = d if hd else c
        low = cd > ab
        WS[z0 + j] = cd if low else ab
        IS[i0 + j] = q0 + np.int64(j * sw) + (np.int64(W) + np.int64(hd) if low else np.int64(hb))


@njit(**JIT)
def _pool_forward(layi, r, WS, ai, zo, n, IS, io):
    """z of a max or average pool row; a max pool writes each winner's input index to IS[io:]
    (counted from the start of the input block)."""
    C, H, W = layi[r, C_IN], layi[r, H_IN], layi[r, W_IN]
    kh, kw, sh, sw = layi[r, KH], layi[r, KW], layi[r, SH], layi[r, SW]
    Ho, Wo = layi[r, H_OUT], layi[r, W_OUT]
    if layi[r, KIND] != MAXPOOL2D:
        inv = WS.dtype.type(1.0 / (kh * kw))
        for sc in range(n * C):
            for i in range(Ho):
                t = zo + (sc * Ho + i) * Wo
                first = ai + sc * H * W + i * sh * W
                for j in range(Wo):
                    acc = WS.dtype.type(0.0)
                    for ki in range(kh):
                        q = first + ki * W + j * sw
                        for kj in range(kw):
                            acc += WS[q + kj]
                    WS[t + j] = acc * inv
        return
    for sc in range(n * C):
        for i in range(Ho):
            t = (sc * Ho + i) * Wo
            first = sc * H * W + i * sh * W
            if kh == 2 and kw == 2:      # the common window, unrolled
                max2x2_row(WS, ai + first, W, sw, Wo, zo + t, IS, io + t, first)
                continue
            for j in range(Wo):
                q0 = first + j * sw
                best = q0
                v = WS[ai + q0]
                for ki in range(kh):
                    for kj in range(kw):
                        q = q0 + ki * W + kj
                        if WS[ai + q] > v:
                            v = WS[ai + q]
                            best = q
                WS[zo + t + j] = v
                IS[io + t + j] = best


@njit(**JIT)
def _pool_backward(layi, r, WS, dzo, dai, n, IS, io):
    """dL/da of the row below a pool row: each output's gradient to the input that won (max),
    or 1/(KH·KW) of it to every input of its window (average)."""
    C, H, W = layi[r, C_IN], layi[r, H_IN], layi[r, W_IN]
    kh, kw, sh, sw = layi[r, KH], layi[r, KW], layi[r, SH], layi[r, SW]
    Ho, Wo = layi[r, H_OUT], layi[r, W_OUT]
    for q in range(dai, dai + n * C * H * W):
        WS[q] = 0.0
    m = n * C * Ho * Wo
    if layi[r, KIND] == MAXPOOL2D:
        for t in range(m):
            WS[dai + IS[io + t]] += WS[dzo + t]
        return
    inv = WS.dtype.type(1.0 / (kh * kw))
    t = 0
    for sc in range(n * C):
        base = dai + sc * H * W
        for i in range(Ho):
            for j in range(Wo):
                g = WS[dzo + t] * inv
                first = base + i * sh * W + j * sw
                for ki in range(kh):
                    for kj in range(kw):
                        WS[first + ki * W + kj] += g
                t += 1


@njit(inline="always", **JIT)
def _pool_half(layi, r, WS, src, dst, n, IS, io, forward, t):
    isz, osz = layi[r, C_IN] * layi[r, H_IN] * layi[r, W_IN], layi[r, UNITS]
    s0, s1 = half(n, t)
    if s1 <= s0:
        return
    if forward:
        _pool_forward(layi, r, WS, src + s0 * isz, dst + s0 * osz, s1 - s0, IS, io + s0 * osz)
    else:
        _pool_backward(layi, r, WS, src + s0 * osz, dst + s0 * isz, s1 - s0, IS, io + s0 * osz)


@njit(parallel=True, **JIT)
def _pool_parallel(layi, r, WS, src, dst, n, IS, io, forward):
    for t in prange(2):
        _pool_half(layi, r, WS, src, dst, n, IS, io, forward, t)


@njit(inline="always", **JIT)
def pool_halves_serial(layi, r, WS, src, dst, n, IS, io, forward):
    """`_pool_forward` (forward) or `_pool_backward` of each half of the mini-batch (the halves
    of `cpu_conv.forward_rows`) on this thread; the winners' indices count from the start of
    their half's input."""
    for t in range(2):
        _pool_half(layi, r, WS, src, dst, n, IS, io, forward, t)


@njit(inline="always", **JIT)
def pool_halves(layi, r, WS, src, dst, n, IS, io, forward):
    """`pool_halves_serial` with each half on its own thread when the row has POOL_PARALLEL
    inputs or more per mini-batch."""
    if not _threads_pay(layi, r, n):
        pool_halves_serial(layi, r, WS, src, dst, n, IS, io, forward)
    else:
        _pool_parallel(layi, r, WS, src, dst, n, IS, io, forward)
