"""Numba CPU kernels: one fused routine trains `count` mini-batches in a single call.

`step_batch` calls it with count = 1 and the play path with many, so both run the same math.
The kernels work on the flat buffers of `layout` with explicit offsets: element (i, j) of a
row-major n × m block starting at offset o is ``buf[o + i*m + j]``. No array views are made
per mini-batch (a slice + reshape costs ~40 ns of reference counting and a C call, a fifth of
a playground-sized step); views exist only around the np.dot (BLAS) calls of big layers.
All kernels: cache=True, nogil=True, error_model="numpy". `act_forward`, `act_backward` and
`loss_and_delta` are 2-D entry points over the same flat code, for tests.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import jitcache
from .catalogue import (
    ACT,
    ADAGRAD,
    ADAM,
    ADAM_FLUSH,
    ALPHA,
    BCE,
    BOFF,
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
    DROP,
    ELU,
    EPS_P,
    ERR_GRAD,
    ERR_LOSS,
    FAN_IN,
    HASB,
    HP_B1,
    HP_B2,
    HP_EPS,
    HP_LR,
    HP_MU,
    HP_REG,
    HP_RHO,
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
    UCOL,
    UNITS,
    WOFF,
    fused_output,
    loss_norm,
)

jitcache.install()   # cached kernels are keyed on every kernel source file, catalogue included
JIT = dict(cache=True, nogil=True, error_model="numpy")
# products may fuse a·b + c into one FMA (one rounding instead of two); nothing else of fastmath
JIT_MM = dict(JIT, fastmath={"contract"})
BLAS_MIN = 4096   # use np.dot when rows·fan_in·units reaches this


# -- matrix products (flat blocks) -----------------------------------------------------------
# Small products (playground layers of 1 to a few dozen units) run as register-blocked loops:
# eight outputs are summed at once in eight scalar registers (eight independent FMA chains), so
# no output goes back to memory between multiply-adds. Leftover outputs (fewer than eight) are
# plain dot products. Indices are unsigned: Numba then emits no negative-index wraparound test
# per access (a compare, a cmov and a lea on every load). uint64 mixed with int64 gives float64
# in Numba, hence the _Un constants.
_U0, _U1, _U2, _U3, _U4, _U5, _U6, _U7, _U8 = (np.uint64(v) for v in range(9))


@njit(**JIT)
def _u(v):
    """v as an unsigned index."""
    return np.uint64(v)


@njit(inline="always", **JIT_MM)
def _axpy8(s, c, x, q, step):
    """The 8 accumulators s plus c·x[q + t·step], t = 0..7."""
    return (s[0] + c * x[q], s[1] + c * x[q + step], s[2] + c * x[q + _U2 * step],
            s[3] + c * x[q + _U3 * step], s[4] + c * x[q + _U4 * step],
            s[5] + c * x[q + _U5 * step], s[6] + c * x[q + _U6 * step],
            s[7] + c * x[q + _U7 * step])


@njit(inline="always", **JIT)
def _store8(out, q, step, s):
    """out[q + t·step] = s[t], t = 0..7."""
    out[q] = s[0]
    out[q + step] = s[1]
    out[q + _U2 * step] = s[2]
    out[q + _U3 * step] = s[3]
    out[q + _U4 * step] = s[4]
    out[q + _U5 * step] = s[5]
    out[q + _U6 * step] = s[6]
    out[q + _U7 * step] = s[7]


@njit(**JIT_MM)
def _mm(a, ao, w, wo, out, oo, n, k, m):
    """out[n×m] = a[n×k] @ w[k×m]; blocks of 8 output columns."""
    if n * k * m >= BLAS_MIN:
        np.dot(a[ao:ao + n * k].reshape(n, k), w[wo:wo + k * m].reshape(k, m),
               out[oo:oo + n * m].reshape(n, m))
        return
    zero = out.dtype.type(0.0)
    ao, wo, oo, n, k, m = _u(ao), _u(wo), _u(oo), _u(n), _u(k), _u(m)
    m8 = m - m % _U8
    for i in range(n):
        ar = ao + i * k
        r = oo + i * m
        for j0 in range(_U0, m8, _U8):
            s = (zero, zero, zero, zero, zero, zero, zero, zero)
            for p in range(k):
                s = _axpy8(s, a[ar + p], w, wo + p * m + j0, _U1)
            _store8(out, r + j0, _U1, s)
        for j in range(m8, m):
            t = zero
            for p in range(k):
                t += a[ar + p] * w[wo + p * m + j]
            out[r + j] = t


@njit(**JIT_MM)
def _mm_tn(a, ao, d, do, out, oo, n, k, m):
    """out[k×m] = a[n×k]ᵀ @ d[n×m]  (dW = a_{l-1}ᵀ · dZ_l); blocks of 8 columns of out, or
    of 8 rows when out has fewer than 8 columns."""
    if n * k * m >= BLAS_MIN:
        np.dot(a[ao:ao + n * k].reshape(n, k).T, d[do:do + n * m].reshape(n, m),
               out[oo:oo + k * m].reshape(k, m))
        return
    zero = out.dtype.type(0.0)
    ao, do, oo, n, k, m = _u(ao), _u(do), _u(oo), _u(n), _u(k), _u(m)
    if m >= _U8:
        m8 = m - m % _U8
        for p in range(k):
            r = oo + p * m
            for j0 in range(_U0, m8, _U8):
                s = (zero, zero, zero, zero, zero, zero, zero, zero)
                for i in range(n):
                    s = _axpy8(s, a[ao + i * k + p], d, do + i * m + j0, _U1)
                _store8(out, r + j0, _U1, s)
            for j in range(m8, m):
                t = zero
                for i in range(n):
                    t += a[ao + i * k + p] * d[do + i * m + j]
                out[r + j] = t
        return
    k8 = k - k % _U8
    for j in range(m):
        for p0 in range(_U0, k8, _U8):
            s = (zero, zero, zero, zero, zero, zero, zero, zero)
            for i in range(n):
                s = _axpy8(s, d[do + i * m + j], a, ao + i * k + p0, _U1)
            _store8(out, oo + p0 * m + j, m, s)
        for p in range(k8, k):
            t = zero
            for i in range(n):
                t += a[ao + i * k + p] * d[do + i * m + j]
            out[oo + p * m + j] = t


@njit(**JIT_MM)
def _mm_nt(d, do, w, wo, out, oo, n, m, k):
    """out[n×k] = d[n×m] @ w[k×m]ᵀ  (dA_{l-1} = dZ_l · W_lᵀ); blocks of 8 output columns."""
    if n * k * m >= BLAS_MIN:
        np.dot(d[do:do + n * m].reshape(n, m), w[wo:wo + k * m].reshape(k, m).T,
               out[oo:oo + n * k].reshape(n, k))
        return
    zero = out.dtype.type(0.0)
    do, wo, oo, n, k, m = _u(do), _u(wo), _u(oo), _u(n), _u(k), _u(m)
    k8 = k - k % _U8
    for i in range(n):
        dr = do + i * m
        r = oo + i * k
        for p0 in range(_U0, k8, _U8):
            s = (zero, zero, zero, zero, zero, zero, zero, zero)
            for j in range(m):
                s = _axpy8(s, d[dr + j], w, wo + p0 * m + j, m)
            _store8(out, r + p0, _U1, s)
        for p in range(k8, k):
            t = zero
            for j in range(m):
                t += d[dr + j] * w[wo + p * m + j]
            out[r + p] = t


# -- activations -----------------------------------------------------------------------------
@njit(**JIT)
def _act_fwd(code, alpha, z, zo, a, ao, n, m):
    """a = f(z) over an n × m block (activation codes: catalogue)."""
    one = z.dtype.type(1.0)
    zero = z.dtype.type(0.0)
    if code == SOFTMAX:  # row-wise, shifted by the max
        for i in range(n):
            zr = zo + i * m
            ar = ao + i * m
            mx = z[zr]
            for j in range(1, m):
                mx = max(mx, z[zr + j])
            s = 0.0
            for j in range(m):
                e = math.exp(z[zr + j] - mx)
                a[ar + j] = e
                s += e
            for j in range(m):
                a[ar + j] /= s
        return
    zo, ao, cnt = _u(zo), _u(ao), _u(n * m)
    if code == LINEAR:
        for t in range(cnt):
            a[ao + t] = z[zo + t]
    elif code == SIGMOID:
        for t in range(cnt):
            v = z[zo + t]
            e = math.exp(-abs(v))          # never overflows
            r = one / (one + e)
            a[ao + t] = r if v >= zero else e * r
    elif code == TANH and z.itemsize == 4:
        # float32: Eigen's rational minimax tanh (odd degree-13 over even degree-6 polynomial,
        # input clamped to ±7.905): within 8 ulp of tanh (checked over [-10, 10] in
        # tests), and only multiplies, adds and one divide, so the loop vectorises.
        c = z.dtype.type(7.90531110763549805)
        tiny = z.dtype.type(0.0004)
        a1, a3 = z.dtype.type(4.89352455891786e-03), z.dtype.type(6.37261928875436e-04)
        a5, a7 = z.dtype.type(1.48572235717979e-05), z.dtype.type(5.12229709037114e-08)
        a9, a11 = z.dtype.type(-8.60467152213735e-11), z.dtype.type(2.00018790482477e-13)
        a13 = z.dtype.type(-2.76076847742355e-16)
        b0, b2 = z.dtype.type(4.89352518554385e-03), z.dtype.type(2.26843463243900e-03)
        b4, b6 = z.dtype.type(1.18534705686654e-04), z.dtype.type(1.19825839466702e-06)
        for t in range(cnt):
            v = z[zo + t]
            x = min(max(v, -c), c)
            x2 = x * x
            p = x * (a1 + x2 * (a3 + x2 * (a5 + x2 * (a7 + x2 * (a9 + x2 * (a11 + x2 * a13))))))
            q = b0 + x2 * (b2 + x2 * (b4 + x2 * b6))
            a[ao + t] = v if (abs(v) < tiny or v != v) else p / q   # v != v: NaN stays NaN
    elif code == TANH:
        # float64: tanh(x) = (1 − e)/(1 + e), e = exp(−2|x|), one exp instead of libm's slow
        # scalar tanh; a Taylor polynomial where that form cancels (|x| < 0.05).
        thr = z.dtype.type(0.05)
        m2 = z.dtype.type(-2.0)
        c3 = z.dtype.type(-1.0 / 3.0)
        c5 = z.dtype.type(2.0 / 15.0)
        c7 = z.dtype.type(-17.0 / 315.0)
        c9 = z.dtype.type(62.0 / 2835.0)
        for t in range(cnt):
            v = z[zo + t]
            x = abs(v)
            e = math.exp(m2 * x)
            r = (one - e) / (one + e)
            x2 = x * x
            p = x * (one + x2 * (c3 + x2 * (c5 + x2 * (c7 + x2 * c9))))
            r = p if x < thr else r
            a[ao + t] = r if v >= zero else -r
    elif code == RELU:
        for t in range(cnt):
            v = z[zo + t]
            a[ao + t] = v if v > zero else zero
    elif code == LEAKY_RELU:
        al = z.dtype.type(alpha)
        for t in range(cnt):
            v = z[zo + t]
            a[ao + t] = v if v > zero else al * v
    elif code == ELU:
        al = z.dtype.type(alpha)
        for t in range(cnt):
            v = z[zo + t]
            a[ao + t] = v if v > zero else al * math.expm1(v)


@njit(**JIT)
def _act_bwd(code, alpha, z, zo, a, ao, da, dao, dz, dzo, n, m, mask_rate, U, p0, ucol):
    """dz = dL/da ⊙ f′(z) over an n × m block. `a` may have had dropout applied: the mask of
    batch row i is U[p0 + i, ucol + j] < mask_rate."""
    keep = 1.0 - mask_rate
    one = z.dtype.type(1.0)
    zero = z.dtype.type(0.0)
    cnt = n * m
    if mask_rate == 0.0 and code == TANH:
        for t in range(cnt):
            av = a[ao + t]
            dz[dzo + t] = da[dao + t] * (one - av * av)
        return
    if mask_rate == 0.0 and code == LINEAR:
        for t in range(_U0, _u(cnt)):
            dz[_u(dzo) + t] = da[_u(dao) + t]
        return
    if mask_rate == 0.0 and code == RELU:   # unsigned indices: a vectorised select, no jumps
        zu, du, dzu = _u(zo), _u(dao), _u(dzo)
        for t in range(_U0, _u(cnt)):
            dz[dzu + t] = da[du + t] if z[zu + t] > zero else zero
        return
    for i in range(n):
        r = i * m
        if code == SOFTMAX:
            s = 0.0
            for j in range(m):
                s += da[dao + r + j] * a[ao + r + j]
            for j in range(m):
                dz[dzo + r + j] = a[ao + r + j] * (da[dao + r + j] - s)
            continue
        for j in range(m):
            g = da[dao + r + j]
            av = a[ao + r + j]
            if mask_rate > 0.0:
                if U[p0 + i, ucol + j] < mask_rate:
                    dz[dzo + r + j] = 0.0
                    continue
                g = g / keep       # d(a·m)/da = m = 1/keep for kept units
                av = av * keep     # undo the inverted-dropout scaling
            v = z[zo + r + j]
            if code == SIGMOID:
                d = av * (1.0 - av)
            elif code == TANH:
                d = 1.0 - av * av
            elif code == RELU:
                d = 1.0 if v > 0 else 0.0
            elif code == LEAKY_RELU:
                d = 1.0 if v > 0 else alpha
            elif code == ELU:
                d = 1.0 if v > 0 else alpha * math.exp(v)
            else:  # LINEAR
                d = 1.0
            dz[dzo + r + j] = g * d


# -- loss ------------------------------------------------------------------------------------
_fused_output = njit(inline="always", **JIT)(fused_output)
_loss_norm = njit(inline="always", **JIT)(loss_norm)


@njit(**JIT)
def _loss_delta(loss_code, from_logits, out_act, z, zo, a, ao, da, dao, dz, dzo, n, k,
                Y, order, p0):
    """The batch loss (reduced as `catalogue.loss_norm` says), dL/da (shown in traces) and
    dL/dz at the output (n × k blocks).

    Cross-entropy with its matching output (`catalogue.fused_output`) gets the fused gradient
    dz = (p − y)/norm here; other pairs go through dz = da ⊙ f′(z) outside this kernel.
    Returns (loss, fused).
    """
    norm = _loss_norm(loss_code, n, k)
    total = 0.0
    lse = 0.0
    fused = _fused_output(loss_code, from_logits, out_act)
    ce = loss_code != BCE and loss_code != MSE and loss_code != SSE and loss_code != MAE
    for i in range(n):
        row = order[p0 + i]
        zr, ar, dar, dzr = zo + i * k, ao + i * k, dao + i * k, dzo + i * k
        if ce and from_logits:
            mx = z[zr]
            for j in range(1, k):
                mx = max(mx, z[zr + j])
            s = 0.0
            for j in range(k):
                s += math.exp(z[zr + j] - mx)
            lse = mx + math.log(s)
        for j in range(k):
            if loss_code == SPARSE_CCE:
                y = 1.0 if int(Y[row, 0]) == j else 0.0
            else:
                y = Y[row, j]
            o = a[ar + j]
            if loss_code == MSE or loss_code == SSE:
                diff = o - y
                total += diff * diff * (1.0 if loss_code == MSE else 0.5)
                da[dar + j] = (2.0 * diff if loss_code == MSE else diff) / norm
            elif loss_code == MAE:
                diff = o - y
                total += abs(diff)
                da[dar + j] = (1.0 if diff > 0 else (-1.0 if diff < 0 else 0.0)) / norm
            elif loss_code == BCE:
                if from_logits:
                    zv = z[zr + j]
                    total += max(zv, 0.0) - zv * y + math.log1p(math.exp(-abs(zv)))
                    pr = 1.0 / (1.0 + math.exp(-zv)) if zv >= 0 else math.exp(zv) / (1.0 + math.exp(zv))
                    da[dar + j] = (pr - y) / norm
                else:
                    pc = min(max(o, EPS_P), 1.0 - EPS_P)
                    total -= y * math.log(pc) + (1.0 - y) * math.log(1.0 - pc)
                    inside = 1.0 if (o > EPS_P and o < 1.0 - EPS_P) else 0.0
                    da[dar + j] = inside * (pc - y) / (pc * (1.0 - pc)) / norm
                    pr = o
                if fused:
                    dz[dzr + j] = (pr - y) / norm
            else:  # categorical CE (one-hot or sparse labels)
                if from_logits:
                    logp = z[zr + j] - lse
                    total -= y * logp
                    pr = math.exp(logp)
                    da[dar + j] = (pr - y) / norm
                else:
                    pc = min(max(o, EPS_P), 1.0 - EPS_P)
                    if y != 0.0:
                        total -= y * math.log(pc)
                    inside = 1.0 if (o > EPS_P and o < 1.0 - EPS_P) else 0.0
                    da[dar + j] = -inside * y / pc / norm
                    pr = o
                if fused:
                    dz[dzr + j] = (pr - y) / norm
    return total / norm, fused


# -- 2-D entry points over the flat code (tests) ----------------------------------------------
@njit(**JIT)
def act_forward(code, alpha, z, a):
    """a = f(z) for a C-contiguous (rows, units) block."""
    n, m = z.shape
    _act_fwd(code, alpha, z.reshape(n * m), 0, a.reshape(n * m), 0, n, m)


@njit(**JIT)
def act_backward(code, alpha, z, a, da, mask_rate, u, ucol, dz):
    """dz = dL/da ⊙ f′(z) for C-contiguous (rows, units) blocks; u holds the batch's uniforms."""
    n, m = z.shape
    _act_bwd(code, alpha, z.reshape(n * m), 0, a.reshape(n * m), 0, da.reshape(n * m), 0,
             dz.reshape(n * m), 0, n, m, mask_rate, u, 0, ucol)


@njit(**JIT)
def loss_and_delta(loss_code, from_logits, out_act, z, a, Y, order, p0, da, dz):
    """`_loss_delta` for C-contiguous (rows, outputs) blocks; returns (loss, fused)."""
    n, k = a.shape
    return _loss_delta(loss_code, from_logits, out_act, z.reshape(n * k), 0, a.reshape(n * k),
                       0, da.reshape(n * k), 0, dz.reshape(n * k), 0, n, k, Y, order, p0)


# -- optimizer and norms ---------------------------------------------------------------------
@njit(**JIT)
def optimizer_update(code, hp, t, P, G, S1, S2):
    """Apply one optimizer step to the flat parameters in place (formulas in engine.optimizers).

    Returns the new update count t."""
    lr = hp[HP_LR]
    n = P.shape[0]
    if code == SGD:
        for i in range(n):
            P[i] -= lr * G[i]
    elif code == MOMENTUM or code == NESTEROV:
        mu = hp[HP_MU]
        for i in range(n):
            v = mu * S1[i] - lr * G[i]
            S1[i] = v
            if code == MOMENTUM:
                P[i] += v
            else:
                P[i] += mu * v - lr * G[i]
    elif code == ADAGRAD:
        eps = hp[HP_EPS]
        for i in range(n):
            g = G[i]
            S1[i] += g * g
            P[i] -= lr * g / (math.sqrt(S1[i]) + eps)
    elif code == RMSPROP:
        rho = hp[HP_RHO]
        eps = hp[HP_EPS]
        for i in range(n):
            g = G[i]
            S1[i] = rho * S1[i] + (1.0 - rho) * g * g
            P[i] -= lr * g / (math.sqrt(S1[i]) + eps)
    elif code == ADAM:
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
        tiny = P.dtype.type(ADAM_FLUSH)
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
def _sumsq(x, o, n):
    """Σ x[o:o+n]² in float64 with 8 independent partial sums (one running sum is
    latency-bound)."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    n8 = n - n % 8
    for i in range(o, o + n8, 8):
        s0 += np.float64(x[i]) * np.float64(x[i])
        s1 += np.float64(x[i + 1]) * np.float64(x[i + 1])
        s2 += np.float64(x[i + 2]) * np.float64(x[i + 2])
        s3 += np.float64(x[i + 3]) * np.float64(x[i + 3])
        s4 += np.float64(x[i + 4]) * np.float64(x[i + 4])
        s5 += np.float64(x[i + 5]) * np.float64(x[i + 5])
        s6 += np.float64(x[i + 6]) * np.float64(x[i + 6])
        s7 += np.float64(x[i + 7]) * np.float64(x[i + 7])
    s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    for i in range(o + n8, o + n):
        s += np.float64(x[i]) * np.float64(x[i])
    return s


# -- forward and the fused training loop -----------------------------------------------------
@njit(**JIT)
def forward_block(layi, layf, P, WS, offs, zoff, n, training, U, p0):
    """Forward pass of n rows already in WS's block 0 (A region at 0, Z region at zoff; row r's
    block at offs[r]); inverted dropout on hidden outputs when training."""
    L = layi.shape[0] - 1
    for l in range(L):
        din = layi[l + 1, FAN_IN]
        dout = layi[l + 1, UNITS]
        ai = offs[l]
        ao = offs[l + 1]
        zo = zoff + ao
        _mm(WS, ai, P, layi[l + 1, WOFF], WS, zo, n, din, dout)
        if layi[l + 1, HASB]:
            b0 = layi[l + 1, BOFF]
            for i in range(n):
                r = zo + i * dout
                for j in range(dout):
                    WS[r + j] += P[b0 + j]
        _act_fwd(layi[l + 1, ACT], layf[l + 1, ALPHA], WS, zo, WS, ao, n, dout)
        rate = layf[l + 1, DROP]
        if training and rate > 0.0 and l < L - 1:
            c = layi[l + 1, UCOL]
            inv = 1.0 / (1.0 - rate)
            for i in range(n):
                r = ao + i * dout
                for j in range(dout):
                    WS[r + j] = 0.0 if U[p0 + i, c + j] < rate else WS[r + j] * inv


@njit(**JIT)
def train_batches(X, Y, order, P, G, S1, S2, hp, cfg, layi, layf, offs, U, WS, out_loss, out_gn):
    """Train cfg[COUNT] mini-batches starting at sample cfg[START] of the epoch's `order`.

    `offs` are the workspace block offsets of `layout.region_offsets(layi, cfg[BMAX])`.

    Per batch: gather, forward, loss, backward (gradients into G, regularization on weights),
    a finiteness check, then (if cfg[APPLY]) the optimizer update. Returns the number of
    batches completed; on a non-finite loss or gradient it stops before updating and sets
    cfg[ERR] (and cfg[ERR_LAYER]).
    """
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
    cfg[CFG_ERR] = 0
    for k in range(cfg[CFG_COUNT]):
        p0 = cfg[CFG_START] + k * B
        n = min(B, N - p0)
        if n <= 0:
            return k
        for i in range(n):
            r = order[p0 + i]
            for j in range(d0):
                v = X[r, j]
                if rate0 > 0.0:
                    v = 0.0 if U[p0 + i, c0 + j] < rate0 else v / (1.0 - rate0)
                WS[i * d0 + j] = v
        forward_block(layi, layf, P, WS, offs, ZO, n, True, U, p0)
        # loss and output delta
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
        # backward, last layer first
        for l in range(L - 1, -1, -1):
            din = layi[l + 1, FAN_IN]
            dout = layi[l + 1, UNITS]
            dzo = DZO + offs[l + 1]
            w0 = layi[l + 1, WOFF]
            nw = din * dout
            _mm_tn(WS, offs[l], WS, dzo, G, w0, n, din, dout)
            if reg_code == REG_L1:
                for i in range(w0, w0 + nw):
                    w = P[i]
                    G[i] += reg * (1.0 if w > 0 else (-1.0 if w < 0 else 0.0))
            elif reg_code == REG_L2:
                for i in range(w0, w0 + nw):
                    G[i] += reg * P[i]
            ss = _sumsq(G, w0, nw)
            b0 = layi[l + 1, BOFF]
            for j in range(b0, b0 + dout):
                G[j] = 0.0
            if layi[l + 1, HASB]:
                for i in range(n):
                    r = dzo + i * dout
                    for j in range(dout):
                        G[b0 + j] += WS[r + j]
                ss += _sumsq(G, b0, dout)
            out_gn[k, l] = math.sqrt(ss)
            if not math.isfinite(ss):
                cfg[CFG_ERR] = ERR_GRAD
                cfg[CFG_ERR_LAYER] = l
                return k
            if l > 0:
                ol = offs[l]
                _mm_nt(WS, dzo, P, w0, WS, DAO + ol, n, dout, din)
                _act_bwd(layi[l, ACT], layf[l, ALPHA], WS, ZO + ol, WS, ol, WS, DAO + ol,
                         WS, DZO + ol, n, din, layf[l, DROP], U, p0, layi[l, UCOL])
        if cfg[CFG_APPLY]:
            cfg[CFG_T] = optimizer_update(cfg[CFG_OPT], hp, cfg[CFG_T], P, G, S1, S2)
    return cfg[CFG_COUNT]


@njit(**JIT)
def predict(X, P, layi, layf, offs, bmax, out):
    """Eval-mode forward (no dropout) of all rows of X into out, bmax rows at a time (`offs`:
    `layout.region_offsets(layi, bmax)`)."""
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
        forward_block(layi, layf, P, WS, offs, region, n, False, U, 0)
        for i in range(n):
            for j in range(kout):
                out[p0 + i, j] = WS[oL + i * kout + j]
