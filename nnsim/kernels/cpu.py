"""Numba CPU kernels: one fused routine trains `count` mini-batches in a single call.

`step_batch` calls it with count = 1 and the play path with many, so both run the same math.
Matrix products go through BLAS (np.dot) when they are big enough to pay for the call, and
through explicit loops otherwise. All kernels: cache=True, nogil=True, error_model="numpy".
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .layout import (ACT, BOFF, CFG_APPLY, CFG_BATCH, CFG_BMAX, CFG_COUNT, CFG_ERR,
                     CFG_ERR_LAYER, CFG_LOGITS, CFG_LOSS, CFG_OPT, CFG_REG, CFG_START, CFG_T,
                     ERR_GRAD, ERR_LOSS, FAN_IN, HASB, HP_B1, HP_B2, HP_EPS, HP_LR, HP_MU,
                     HP_REG, HP_RHO, UCOL, UNITS, WOFF)

JIT = dict(cache=True, nogil=True, error_model="numpy")
BLAS_MIN = 4096   # use np.dot when rows·fan_in·units reaches this
EPS_P = 1e-7      # probability clipping, as in losses.EPS


@njit(**JIT)
def _matmul(a, w, out, use_blas):
    """out = a @ w."""
    if use_blas:
        np.dot(a, w, out)
        return
    n, k = a.shape
    m = w.shape[1]
    for i in range(n):
        for j in range(m):
            out[i, j] = 0.0
        for p in range(k):
            av = a[i, p]
            if av != 0.0:
                for j in range(m):
                    out[i, j] += av * w[p, j]


@njit(**JIT)
def _matmul_tn(a, d, out, use_blas):
    """out = aᵀ @ d (dW = a_{l-1}ᵀ · dZ_l)."""
    if use_blas:
        np.dot(a.T, d, out)
        return
    n, k = a.shape
    m = d.shape[1]
    out[:, :] = 0.0
    for i in range(n):
        for p in range(k):
            av = a[i, p]
            if av != 0.0:
                for j in range(m):
                    out[p, j] += av * d[i, j]


@njit(**JIT)
def _matmul_nt(d, w, out, use_blas):
    """out = d @ wᵀ (dA_{l-1} = dZ_l · W_lᵀ)."""
    if use_blas:
        np.dot(d, w.T, out)
        return
    n, m = d.shape
    k = w.shape[0]
    for i in range(n):
        for p in range(k):
            s = 0.0
            for j in range(m):
                s += d[i, j] * w[p, j]
            out[i, p] = s


@njit(**JIT)
def act_forward(code, alpha, z, a):
    """a = f(z) for a whole (rows, units) block; codes as in engine.activations."""
    n, m = z.shape
    one = z.dtype.type(1.0)
    zero = z.dtype.type(0.0)
    if code == 6:  # softmax, row-wise, shifted by the max
        for i in range(n):
            mx = z[i, 0]
            for j in range(1, m):
                mx = max(mx, z[i, j])
            s = 0.0
            for j in range(m):
                e = math.exp(z[i, j] - mx)
                a[i, j] = e
                s += e
            for j in range(m):
                a[i, j] /= s
    elif code == 0:
        for i in range(n):
            for j in range(m):
                a[i, j] = z[i, j]
    elif code == 1:
        for i in range(n):
            for j in range(m):
                v = z[i, j]
                e = math.exp(-abs(v))          # never overflows
                r = one / (one + e)
                a[i, j] = r if v >= zero else e * r
    elif code == 2:
        # tanh(x) = (1 − e)/(1 + e), e = exp(−2|x|): one exp instead of libm's slow scalar tanh;
        # a Taylor polynomial where that form cancels (|x| < 0.25 in float32, 0.05 in float64).
        thr = z.dtype.type(0.25) if z.itemsize == 4 else z.dtype.type(0.05)
        m2 = z.dtype.type(-2.0)
        c3 = z.dtype.type(-1.0 / 3.0)
        c5 = z.dtype.type(2.0 / 15.0)
        c7 = z.dtype.type(-17.0 / 315.0)
        c9 = z.dtype.type(62.0 / 2835.0)
        for i in range(n):
            for j in range(m):
                v = z[i, j]
                x = abs(v)
                e = math.exp(m2 * x)
                r = (one - e) / (one + e)
                x2 = x * x
                p = x * (one + x2 * (c3 + x2 * (c5 + x2 * (c7 + x2 * c9))))
                r = p if x < thr else r
                a[i, j] = r if v >= zero else -r
    elif code == 3:
        for i in range(n):
            for j in range(m):
                v = z[i, j]
                a[i, j] = v if v > zero else zero
    elif code == 4:
        al = z.dtype.type(alpha)
        for i in range(n):
            for j in range(m):
                v = z[i, j]
                a[i, j] = v if v > zero else al * v
    else:
        al = z.dtype.type(alpha)
        for i in range(n):
            for j in range(m):
                v = z[i, j]
                a[i, j] = v if v > zero else al * math.expm1(v)


@njit(**JIT)
def act_backward(code, alpha, z, a, da, mask_rate, u, ucol, dz):
    """dz = dL/da ⊙ f′(z). `a` may have had dropout applied; the mask comes from u and the rate."""
    n, m = z.shape
    keep = 1.0 - mask_rate
    one = z.dtype.type(1.0)
    zero = z.dtype.type(0.0)
    if mask_rate == 0.0 and code == 2:
        for i in range(n):
            for j in range(m):
                av = a[i, j]
                dz[i, j] = da[i, j] * (one - av * av)
        return
    if mask_rate == 0.0 and code == 3:
        for i in range(n):
            for j in range(m):
                dz[i, j] = da[i, j] if z[i, j] > zero else zero
        return
    for i in range(n):
        if code == 6:
            s = 0.0
            for j in range(m):
                s += da[i, j] * a[i, j]
            for j in range(m):
                dz[i, j] = a[i, j] * (da[i, j] - s)
            continue
        for j in range(m):
            g = da[i, j]
            av = a[i, j]
            if mask_rate > 0.0:
                if u[i, ucol + j] < mask_rate:
                    dz[i, j] = 0.0
                    continue
                g = g / keep       # d(a·m)/da = m = 1/keep for kept units
                av = av * keep     # undo the inverted-dropout scaling
            v = z[i, j]
            if code == 0:
                d = 1.0
            elif code == 1:
                d = av * (1.0 - av)
            elif code == 2:
                d = 1.0 - av * av
            elif code == 3:
                d = 1.0 if v > 0 else 0.0
            elif code == 4:
                d = 1.0 if v > 0 else alpha
            else:
                d = 1.0 if v > 0 else alpha * math.exp(v)
            dz[i, j] = g * d


@njit(**JIT)
def loss_and_delta(loss_code, from_logits, out_act, z, a, Y, order, p0, da, dz):
    """Mean-over-batch loss, dL/da (shown in traces) and dL/dz at the output.

    Cross-entropy with its matching output (sigmoid/softmax, or logits) uses the fused
    gradient dz = (p − y)/norm; other pairs go through dz = da ⊙ f′(z) outside this kernel.
    Returns (loss, fused).
    """
    n, k = a.shape
    norm = float(n * k) if loss_code in (0, 2, 3) else (1.0 if loss_code == 1 else float(n))
    total = 0.0
    lse = 0.0
    fused = loss_code >= 3 and (from_logits or (loss_code == 3 and out_act == 1)
                                or (loss_code >= 4 and out_act == 6))
    for i in range(n):
        r = order[p0 + i]
        if loss_code >= 4 and from_logits:
            mx = z[i, 0]
            for j in range(1, k):
                mx = max(mx, z[i, j])
            s = 0.0
            for j in range(k):
                s += math.exp(z[i, j] - mx)
            lse = mx + math.log(s)
        for j in range(k):
            if loss_code == 5:
                y = 1.0 if int(Y[r, 0]) == j else 0.0
            else:
                y = Y[r, j]
            o = a[i, j]
            if loss_code == 0 or loss_code == 1:
                diff = o - y
                total += diff * diff * (1.0 if loss_code == 0 else 0.5)
                da[i, j] = (2.0 * diff if loss_code == 0 else diff) / norm
            elif loss_code == 2:
                diff = o - y
                total += abs(diff)
                da[i, j] = (1.0 if diff > 0 else (-1.0 if diff < 0 else 0.0)) / norm
            elif loss_code == 3:
                if from_logits:
                    zv = z[i, j]
                    total += max(zv, 0.0) - zv * y + math.log1p(math.exp(-abs(zv)))
                    pr = 1.0 / (1.0 + math.exp(-zv)) if zv >= 0 else math.exp(zv) / (1.0 + math.exp(zv))
                    da[i, j] = (pr - y) / norm
                else:
                    pc = min(max(o, EPS_P), 1.0 - EPS_P)
                    total -= y * math.log(pc) + (1.0 - y) * math.log(1.0 - pc)
                    inside = 1.0 if (o > EPS_P and o < 1.0 - EPS_P) else 0.0
                    da[i, j] = inside * (pc - y) / (pc * (1.0 - pc)) / norm
                    pr = o
                if fused:
                    dz[i, j] = (pr - y) / norm
            else:
                if from_logits:
                    logp = z[i, j] - lse
                    total -= y * logp
                    pr = math.exp(logp)
                    da[i, j] = (pr - y) / norm
                else:
                    pc = min(max(o, EPS_P), 1.0 - EPS_P)
                    if y != 0.0:
                        total -= y * math.log(pc)
                    inside = 1.0 if (o > EPS_P and o < 1.0 - EPS_P) else 0.0
                    da[i, j] = -inside * y / pc / norm
                    pr = o
                if fused:
                    dz[i, j] = (pr - y) / norm
    return total / norm, fused


@njit(**JIT)
def optimizer_update(code, hp, t, P, G, S1, S2):
    """Apply one optimizer step to the flat parameters in place (formulas in engine.optimizers).

    Returns the new update count t."""
    lr = hp[HP_LR]
    n = P.shape[0]
    if code == 0:
        for i in range(n):
            P[i] -= lr * G[i]
    elif code == 1 or code == 2:
        mu = hp[HP_MU]
        for i in range(n):
            v = mu * S1[i] - lr * G[i]
            S1[i] = v
            if code == 1:
                P[i] += v
            else:
                P[i] += mu * v - lr * G[i]
    elif code == 3:
        eps = hp[HP_EPS]
        for i in range(n):
            g = G[i]
            S1[i] += g * g
            P[i] -= lr * g / (math.sqrt(S1[i]) + eps)
    elif code == 4:
        rho = hp[HP_RHO]
        eps = hp[HP_EPS]
        for i in range(n):
            g = G[i]
            S1[i] = rho * S1[i] + (1.0 - rho) * g * g
            P[i] -= lr * g / (math.sqrt(S1[i]) + eps)
    else:
        t += 1
        b1 = hp[HP_B1]
        b2 = hp[HP_B2]
        eps = hp[HP_EPS]
        c1 = 1.0 - float(b1) ** t           # bias corrections in float64, once per step
        c2 = 1.0 - float(b2) ** t
        # every per-element constant in the parameters' dtype: float64 literals would promote
        # the whole loop to float64 (4-5x slower in float32)
        step = P.dtype.type(float(lr) / c1)
        ic2 = P.dtype.type(1.0 / c2)
        one = P.dtype.type(1.0)
        ob1 = one - b1
        ob2 = one - b2
        tiny = P.dtype.type(1e-30)
        zero = P.dtype.type(0.0)
        for i in range(n):
            g = G[i]
            m = b1 * S1[i] + ob1 * g
            m = m if abs(m) >= tiny else zero
            S1[i] = m
            v = b2 * S2[i] + ob2 * g * g
            S2[i] = v
            P[i] -= step * m / (math.sqrt(v * ic2) + eps)
        return t
    return t + 1


@njit(**JIT)
def _sumsq(x):
    """Σ x² in float64 with 8 independent partial sums (a single running sum is latency-bound)."""
    n = x.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    n8 = n - n % 8
    for i in range(0, n8, 8):
        s0 += float(x[i]) * x[i]
        s1 += float(x[i + 1]) * x[i + 1]
        s2 += float(x[i + 2]) * x[i + 2]
        s3 += float(x[i + 3]) * x[i + 3]
        s4 += float(x[i + 4]) * x[i + 4]
        s5 += float(x[i + 5]) * x[i + 5]
        s6 += float(x[i + 6]) * x[i + 6]
        s7 += float(x[i + 7]) * x[i + 7]
    s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    for i in range(n8, n):
        s += float(x[i]) * x[i]
    return s


@njit(**JIT)
def forward_block(layi, layf, P, A, Z, offs, zoff, n, training, U, p0):
    """Forward pass of n rows already gathered into block 0 of A; dropout when training."""
    L = layi.shape[0] - 1
    for l in range(L):
        din = layi[l + 1, FAN_IN]
        dout = layi[l + 1, UNITS]
        a_in = A[offs[l]:offs[l] + n * din].reshape(n, din)
        z = Z[zoff + offs[l + 1]:zoff + offs[l + 1] + n * dout].reshape(n, dout)
        a = A[offs[l + 1]:offs[l + 1] + n * dout].reshape(n, dout)
        w0 = layi[l + 1, WOFF]
        W = P[w0:w0 + din * dout].reshape(din, dout)
        _matmul(a_in, W, z, n * din * dout >= BLAS_MIN)
        if layi[l + 1, HASB]:
            b0 = layi[l + 1, BOFF]
            for i in range(n):
                for j in range(dout):
                    z[i, j] += P[b0 + j]
        act_forward(layi[l + 1, ACT], layf[l + 1, 0], z, a)
        rate = layf[l + 1, 1]
        if training and rate > 0.0 and l < L - 1:
            c = layi[l + 1, UCOL]
            inv = 1.0 / (1.0 - rate)
            for i in range(n):
                for j in range(dout):
                    a[i, j] = 0.0 if U[p0 + i, c + j] < rate else a[i, j] * inv


@njit(**JIT)
def train_batches(X, Y, order, P, G, S1, S2, hp, cfg, layi, layf, U, WS, out_loss, out_gn):
    """Train cfg[COUNT] mini-batches starting at batch cfg[START] of the epoch's `order`.

    Per batch: gather, forward, loss, backward (gradients into G, regularization on weights),
    a finiteness check, then (if cfg[APPLY]) the optimizer update. Returns the number of
    batches completed; on a non-finite loss or gradient it stops before updating and sets
    cfg[ERR] (and cfg[ERR_LAYER]).
    """
    L = layi.shape[0] - 1
    B = cfg[CFG_BATCH]
    bmax = cfg[CFG_BMAX]
    N = order.shape[0]
    dims_total = 0
    for s in range(L + 1):
        dims_total += layi[s, UNITS]
    region = bmax * dims_total
    offs = np.zeros(L + 1, dtype=np.int64)
    for s in range(1, L + 1):
        offs[s] = offs[s - 1] + bmax * layi[s - 1, UNITS]
    A = WS[0:region]
    ZOFF, DAOFF, DZOFF = region, 2 * region, 3 * region
    reg_code = cfg[CFG_REG]
    reg = hp[HP_REG]
    cfg[CFG_ERR] = 0
    for k in range(cfg[CFG_COUNT]):
        p0 = cfg[CFG_START] + k * B
        n = min(B, N - p0)
        if n <= 0:
            return k
        d0 = layi[0, UNITS]
        a0 = A[0:n * d0].reshape(n, d0)
        rate0 = layf[0, 1]
        for i in range(n):
            r = order[p0 + i]
            for j in range(d0):
                v = X[r, j]
                if rate0 > 0.0:
                    v = 0.0 if U[p0 + i, layi[0, UCOL] + j] < rate0 else v / (1.0 - rate0)
                a0[i, j] = v
        forward_block(layi, layf, P, A, WS, offs, ZOFF, n, True, U, p0)
        # loss and output delta
        kout = layi[L, UNITS]
        zL = WS[ZOFF + offs[L]:ZOFF + offs[L] + n * kout].reshape(n, kout)
        aL = A[offs[L]:offs[L] + n * kout].reshape(n, kout)
        daL = WS[DAOFF + offs[L]:DAOFF + offs[L] + n * kout].reshape(n, kout)
        dzL = WS[DZOFF + offs[L]:DZOFF + offs[L] + n * kout].reshape(n, kout)
        loss, fused = loss_and_delta(cfg[CFG_LOSS], cfg[CFG_LOGITS] != 0, layi[L, ACT],
                                     zL, aL, Y, order, p0, daL, dzL)
        out_loss[k] = loss
        if not math.isfinite(loss):
            cfg[CFG_ERR] = ERR_LOSS
            cfg[CFG_ERR_LAYER] = L - 1
            return k
        if not fused:
            act_backward(layi[L, ACT], layf[L, 0], zL, aL, daL, 0.0, U, 0, dzL)
        # backward, last layer first
        for l in range(L - 1, -1, -1):
            din = layi[l + 1, FAN_IN]
            dout = layi[l + 1, UNITS]
            big = n * din * dout >= BLAS_MIN
            a_in = A[offs[l]:offs[l] + n * din].reshape(n, din)
            dz = WS[DZOFF + offs[l + 1]:DZOFF + offs[l + 1] + n * dout].reshape(n, dout)
            w0 = layi[l + 1, WOFF]
            W = P[w0:w0 + din * dout].reshape(din, dout)
            dW = G[w0:w0 + din * dout].reshape(din, dout)
            _matmul_tn(a_in, dz, dW, big)
            if reg_code == 1:
                for i in range(din * dout):
                    w = P[w0 + i]
                    G[w0 + i] += reg * (1.0 if w > 0 else (-1.0 if w < 0 else 0.0))
            elif reg_code == 2:
                for i in range(din * dout):
                    G[w0 + i] += reg * P[w0 + i]
            ss = _sumsq(G[w0:w0 + din * dout])
            b0 = layi[l + 1, BOFF]
            hb = layi[l + 1, HASB]
            for j in range(dout):
                G[b0 + j] = 0.0
            if hb:
                for i in range(n):
                    for j in range(dout):
                        G[b0 + j] += dz[i, j]
                for j in range(dout):
                    ss += G[b0 + j] * G[b0 + j]
            out_gn[k, l] = math.sqrt(ss)
            if not math.isfinite(ss):
                cfg[CFG_ERR] = ERR_GRAD
                cfg[CFG_ERR_LAYER] = l
                return k
            if l > 0:
                da = WS[DAOFF + offs[l]:DAOFF + offs[l] + n * din].reshape(n, din)
                _matmul_nt(dz, W, da, big)
                z = WS[ZOFF + offs[l]:ZOFF + offs[l] + n * din].reshape(n, din)
                a = A[offs[l]:offs[l] + n * din].reshape(n, din)
                dzp = WS[DZOFF + offs[l]:DZOFF + offs[l] + n * din].reshape(n, din)
                act_backward(layi[l, ACT], layf[l, 0], z, a, da, layf[l, 1],
                             U[p0:p0 + n], layi[l, UCOL], dzp)
        if cfg[CFG_APPLY]:
            cfg[CFG_T] = optimizer_update(cfg[CFG_OPT], hp, cfg[CFG_T], P, G, S1, S2)
    return cfg[CFG_COUNT]


@njit(**JIT)
def predict(X, P, layi, layf, bmax, out):
    """Eval-mode forward (no dropout) of all rows of X into out, bmax rows at a time."""
    L = layi.shape[0] - 1
    N = X.shape[0]
    total = 0
    for s in range(L + 1):
        total += layi[s, UNITS]
    A = np.empty(bmax * total, dtype=P.dtype)
    Z = np.empty(bmax * total, dtype=P.dtype)
    offs = np.zeros(L + 1, dtype=np.int64)
    for s in range(1, L + 1):
        offs[s] = offs[s - 1] + bmax * layi[s - 1, UNITS]
    d0 = layi[0, UNITS]
    kout = layi[L, UNITS]
    U = np.empty((0, 0), dtype=P.dtype)
    for p0 in range(0, N, bmax):
        n = min(bmax, N - p0)
        a0 = A[0:n * d0].reshape(n, d0)
        for i in range(n):
            for j in range(d0):
                a0[i, j] = X[p0 + i, j]
        forward_block(layi, layf, P, A, Z, offs, 0, n, False, U, 0)
        aL = A[offs[L]:offs[L] + n * kout].reshape(n, kout)
        for i in range(n):
            for j in range(kout):
                out[p0 + i, j] = aL[i, j]
