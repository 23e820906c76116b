"""numba.cuda kernels for dense networks: the device twins of the loops in `cpu.py`.

Each kernel computes what one loop of `cpu.train_batches` computes, over the same flat buffers
and offsets (`layout`), written with the same expressions so that Numba types them the same
(float64 where the CPU code mixes in a float64 literal, the parameters' dtype where it does
not). Launch shapes are module settings: `TPB` threads per block for the one-dimensional
kernels and the reductions (a power of two), `TILE` × `TILE` threads for the shared-memory
matrix products. Both size shared arrays, so on a GPU they are frozen when a kernel is first
compiled; the tests set them small (the simulator reads them at every launch) so that several
blocks and a partial last block run.

Every training kernel takes `status` (int64: [error code, error layer, batches done]) first and
returns at once when an earlier kernel recorded an error: a chunk of mini-batches is launched
without the host waiting, and the batch that went non-finite, and every one after it, changes
nothing (as the CPU loop stops there). No kernel uses atomics: each output is written by one
thread, contraction sums run in index order, reductions sum per thread in index order and then
through a fixed shared-memory tree, so a run repeats bit for bit.
"""

from __future__ import annotations

import math

from numba import cuda, float64

from .catalogue import (
    ADAGRAD,
    ADAM,
    BCE,
    ELU,
    EPS_P,
    ERR_GRAD,
    ERR_LOSS,
    LEAKY_RELU,
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

TPB = 128    # threads per block of the 1-D kernels and the reductions (a power of two)
TILE = 16    # the products run TILE × TILE thread blocks over TILE × TILE shared tiles


def blocks(n: int) -> int:
    """Blocks of TPB threads covering n items (at least one)."""
    return max(1, -(-int(n) // TPB))


def tiles(rows: int, cols: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(grid, block) of a product with a rows × cols output; x runs over the columns."""
    return (max(1, -(-int(cols) // TILE)), max(1, -(-int(rows) // TILE))), (TILE, TILE)


# -- element rules (device functions with the CPU's expressions) -------------------------------
@cuda.jit(device=True)
def _act(code, alpha, Z, v):
    """f(v) for an elementwise activation (softmax is row-wise, in `act_fwd`); `Z` gives the
    dtype. The expressions of `cpu._act_fwd`."""
    one = Z.dtype.type(1.0)
    zero = Z.dtype.type(0.0)
    if code == SIGMOID:
        e = math.exp(-abs(v))          # never overflows
        r = one / (one + e)
        return r if v >= zero else e * r
    if code == TANH and Z.itemsize == 4:
        # float32: Eigen's rational minimax tanh, as the CPU kernel (within 8 ulp of tanh)
        c = Z.dtype.type(7.90531110763549805)
        tiny = Z.dtype.type(0.0004)
        a1, a3 = Z.dtype.type(4.89352455891786e-03), Z.dtype.type(6.37261928875436e-04)
        a5, a7 = Z.dtype.type(1.48572235717979e-05), Z.dtype.type(5.12229709037114e-08)
        a9, a11 = Z.dtype.type(-8.60467152213735e-11), Z.dtype.type(2.00018790482477e-13)
        a13 = Z.dtype.type(-2.76076847742355e-16)
        b0, b2 = Z.dtype.type(4.89352518554385e-03), Z.dtype.type(2.26843463243900e-03)
        b4, b6 = Z.dtype.type(1.18534705686654e-04), Z.dtype.type(1.19825839466702e-06)
        x = min(max(v, -c), c)
        x2 = x * x
        p = x * (a1 + x2 * (a3 + x2 * (a5 + x2 * (a7 + x2 * (a9 + x2 * (a11 + x2 * a13))))))
        q = b0 + x2 * (b2 + x2 * (b4 + x2 * b6))
        return v if (abs(v) < tiny or v != v) else p / q
    if code == TANH:
        # float64: (1 − e)/(1 + e), e = exp(−2|x|); a Taylor polynomial below |x| = 0.05
        thr = Z.dtype.type(0.05)
        m2 = Z.dtype.type(-2.0)
        c3 = Z.dtype.type(-1.0 / 3.0)
        c5 = Z.dtype.type(2.0 / 15.0)
        c7 = Z.dtype.type(-17.0 / 315.0)
        c9 = Z.dtype.type(62.0 / 2835.0)
        x = abs(v)
        e = math.exp(m2 * x)
        r = (one - e) / (one + e)
        x2 = x * x
        p = x * (one + x2 * (c3 + x2 * (c5 + x2 * (c7 + x2 * c9))))
        r = p if x < thr else r
        return r if v >= zero else -r
    if code == RELU:
        return v if v > zero else zero
    if code == LEAKY_RELU:
        return v if v > zero else Z.dtype.type(alpha) * v
    if code == ELU:
        return v if v > zero else Z.dtype.type(alpha) * math.expm1(v)
    return v   # LINEAR


@cuda.jit(device=True)
def _dact(code, alpha, Z, zv, av, da, mask_rate, u):
    """dL/dz = dL/da · f′(z) for one element, as `cpu._act_bwd` computes it (its float32 fast
    paths for tanh and relu without dropout included); `u` is the element's dropout uniform."""
    one = Z.dtype.type(1.0)
    zero = Z.dtype.type(0.0)
    if mask_rate == 0.0 and code == TANH:
        return da * (one - av * av)
    if mask_rate == 0.0 and code == RELU:
        return da if zv > zero else zero
    keep = 1.0 - mask_rate
    g = float64(da)
    a = float64(av)
    if mask_rate > 0.0:
        if u < mask_rate:
            return 0.0
        g = g / keep       # d(a·m)/da = m = 1/keep for kept units
        a = a * keep       # undo the inverted-dropout scaling
    if code == SIGMOID:
        d = a * (1.0 - a)
    elif code == TANH:
        d = 1.0 - a * a
    elif code == RELU:
        d = 1.0 if zv > 0 else 0.0
    elif code == LEAKY_RELU:
        d = 1.0 if zv > 0 else float64(alpha)
    elif code == ELU:
        d = 1.0 if zv > 0 else float64(alpha * math.exp(zv))
    else:  # LINEAR
        d = 1.0
    return g * d


@cuda.jit(device=True)
def _block_sum(buf, t):
    """Σ buf[0:TPB] through a shared-memory tree (every thread of the block calls it)."""
    s = TPB // 2
    while s > 0:
        cuda.syncthreads()
        if t < s:
            buf[t] += buf[t + s]
        s //= 2
    cuda.syncthreads()
    return buf[0]


# -- data ------------------------------------------------------------------------------------
@cuda.jit
def gather(status, X, order, U, WS, p0, n, d0, rate0, c0):
    """Rows order[p0:p0+n] of X into WS's first block (inverted dropout on the inputs)."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= n * d0:
        return
    i = t // d0
    j = t - i * d0
    v = X[order[p0 + i], j]
    if rate0 > 0.0:
        v = 0.0 if U[p0 + i, c0 + j] < rate0 else v / (1.0 - rate0)
    WS[t] = v


@cuda.jit
def copy_rows(X, p0, n, d, WS, wo):
    """WS[wo + i·d + j] = X[p0 + i, j]: rows of X into a workspace block (predict)."""
    t = cuda.grid(1)
    if t >= n * d:
        return
    i = t // d
    WS[wo + t] = X[p0 + i, t - i * d]


@cuda.jit
def copy_out(WS, wo, n, d, out, p0):
    """out[p0 + i, j] = WS[wo + i·d + j]."""
    t = cuda.grid(1)
    if t >= n * d:
        return
    i = t // d
    out[p0 + i, t - i * d] = WS[wo + t]


# -- activations -----------------------------------------------------------------------------
@cuda.jit
def act_fwd(status, code, alpha, Z, zo, A, ao, n, m, rate, U, p0, ucol):
    """a = f(z) over an n × m block, then (rate > 0) inverted dropout with the mask
    U[p0 + i, ucol + j] < rate. Elementwise codes: one thread per element; softmax: one
    thread per row (shifted by the row's max, summed in float64 as on the CPU)."""
    t = cuda.grid(1)
    if status[0] != 0:
        return
    if code == SOFTMAX:
        if t >= n:
            return
        zr = zo + t * m
        ar = ao + t * m
        mx = Z[zr]
        for j in range(1, m):
            mx = max(mx, Z[zr + j])
        s = 0.0
        for j in range(m):
            e = math.exp(Z[zr + j] - mx)
            A[ar + j] = e
            s += e
        for j in range(m):
            A[ar + j] /= s
        return
    if t >= n * m:
        return
    r = _act(code, alpha, Z, Z[zo + t])
    if rate > 0.0:
        i = t // m
        if U[p0 + i, ucol + t - i * m] < rate:
            A[ao + t] = 0.0
        else:
            A[ao + t] = r * (1.0 / (1.0 - rate))
    else:
        A[ao + t] = r


@cuda.jit
def act_bwd(status, code, alpha, Z, zo, A, ao, DA, dao, DZ, dzo, n, m, mask_rate, U, p0, ucol):
    """dz = dL/da ⊙ f′(z) over an n × m block (the output layer when the loss is not fused;
    the 2-D test entry point). Softmax: a ⊙ (da − Σ da·a), one thread per row."""
    t = cuda.grid(1)
    if status[0] != 0:
        return
    if code == SOFTMAX:
        if t >= n:
            return
        r = t * m
        s = 0.0
        for j in range(m):
            s += DA[dao + r + j] * A[ao + r + j]
        for j in range(m):
            DZ[dzo + r + j] = A[ao + r + j] * (DA[dao + r + j] - s)
        return
    if t >= n * m:
        return
    u = 1.0
    if mask_rate > 0.0:
        i = t // m
        u = U[p0 + i, ucol + t - i * m]
    DZ[dzo + t] = _dact(code, alpha, Z, Z[zo + t], A[ao + t], DA[dao + t], mask_rate, u)


# -- loss ------------------------------------------------------------------------------------
@cuda.jit
def loss_rows(status, loss_code, from_logits, fused, Z, zo, A, ao, DA, dao, DZ, dzo, n, k,
              Y, order, p0, norm, rowloss):
    """One thread per batch row: the row's share of the loss (float64, not yet divided by
    `norm`), dL/da, and (fused) dL/dz = (p − y)/norm; the expressions of `cpu._loss_delta`."""
    i = cuda.grid(1)
    if status[0] != 0 or i >= n:
        return
    ce = loss_code != BCE and loss_code != MSE and loss_code != SSE and loss_code != MAE
    row = order[p0 + i]
    zr, ar, dar, dzr = zo + i * k, ao + i * k, dao + i * k, dzo + i * k
    total = 0.0
    lse = 0.0
    if ce and from_logits:
        mx = Z[zr]
        for j in range(1, k):
            mx = max(mx, Z[zr + j])
        s = 0.0
        for j in range(k):
            s += math.exp(Z[zr + j] - mx)
        lse = mx + math.log(s)
    for j in range(k):
        if loss_code == SPARSE_CCE:
            y = 1.0 if int(Y[row, 0]) == j else 0.0
        else:
            y = Y[row, j]
        o = A[ar + j]
        pr = 0.0
        if loss_code == MSE or loss_code == SSE:
            diff = o - y
            total += diff * diff * (1.0 if loss_code == MSE else 0.5)
            DA[dar + j] = (2.0 * diff if loss_code == MSE else diff) / norm
        elif loss_code == MAE:
            diff = o - y
            total += abs(diff)
            DA[dar + j] = (1.0 if diff > 0 else (-1.0 if diff < 0 else 0.0)) / norm
        elif loss_code == BCE:
            if from_logits:
                zv = Z[zr + j]
                total += max(zv, 0.0) - zv * y + math.log1p(math.exp(-abs(zv)))
                pr = 1.0 / (1.0 + math.exp(-zv)) if zv >= 0 else math.exp(zv) / (1.0 + math.exp(zv))
                DA[dar + j] = (pr - y) / norm
            else:
                pc = min(max(o, EPS_P), 1.0 - EPS_P)
                total -= y * math.log(pc) + (1.0 - y) * math.log(1.0 - pc)
                inside = 1.0 if (o > EPS_P and o < 1.0 - EPS_P) else 0.0
                DA[dar + j] = inside * (pc - y) / (pc * (1.0 - pc)) / norm
                pr = o
            if fused:
                DZ[dzr + j] = (pr - y) / norm
        else:  # categorical CE (one-hot or sparse labels)
            if from_logits:
                logp = Z[zr + j] - lse
                total -= y * logp
                pr = math.exp(logp)
                DA[dar + j] = (pr - y) / norm
            else:
                pc = min(max(o, EPS_P), 1.0 - EPS_P)
                if y != 0.0:
                    total -= y * math.log(pc)
                inside = 1.0 if (o > EPS_P and o < 1.0 - EPS_P) else 0.0
                DA[dar + j] = -inside * y / pc / norm
                pr = o
            if fused:
                DZ[dzr + j] = (pr - y) / norm
    rowloss[i] = total


@cuda.jit
def loss_reduce(status, rowloss, n, norm, out_loss, b, last_layer):
    """One block: out_loss[b] = Σ rowloss[0:n] / norm; a non-finite loss records ERR_LOSS."""
    if status[0] != 0:
        return
    t = cuda.threadIdx.x
    buf = cuda.shared.array(TPB, float64)
    s = 0.0
    for i in range(t, n, TPB):
        s += rowloss[i]
    buf[t] = s
    total = _block_sum(buf, t)
    if t == 0:
        loss = total / norm
        out_loss[b] = loss
        if not math.isfinite(loss):
            status[0] = ERR_LOSS
            status[1] = last_layer
            status[2] = b


# -- products --------------------------------------------------------------------------------
# Each thread owns one output element and sums its contraction index in ascending order, a
# TILE-wide slice at a time through shared memory (the tiles are padded by one column so that a
# warp reading a tile's column hits 32 different banks).
def products(dt, tile: int):
    """The products for parameters of numba type `dt` over `tile` × `tile` blocks
    (shared arrays need their dtype and shape as compile-time constants: closure values)."""
    T = int(tile)
    T1 = T + 1

    @cuda.jit
    def mm(status, A, ao, W, wo, P, bo, hasb, Z, zo, n, k, m):
        """Z[n×m] = A[n×k] · W[k×m] (+ b): the forward product of a dense layer."""
        if status[0] != 0:
            return
        ta = cuda.shared.array((T, T1), dt)
        tw = cuda.shared.array((T, T1), dt)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        i = cuda.blockIdx.y * T + ty
        j = cuda.blockIdx.x * T + tx
        zero = Z.dtype.type(0.0)
        acc = zero
        for t0 in range(0, k, T):
            p = t0 + tx
            ta[ty, tx] = A[ao + i * k + p] if (i < n and p < k) else zero
            p = t0 + ty
            tw[ty, tx] = W[wo + p * m + j] if (p < k and j < m) else zero
            cuda.syncthreads()
            for q in range(min(T, k - t0)):
                acc += ta[ty, q] * tw[q, tx]
            cuda.syncthreads()
        if i < n and j < m:
            if hasb:
                Z[zo + i * m + j] = acc + P[bo + j]
            else:
                Z[zo + i * m + j] = acc

    @cuda.jit
    def mm_tn(status, A, ao, D, do, G, go, n, k, m, reg_code, reg, P):
        """G[k×m] = A[n×k]ᵀ · D[n×m] (dL/dW = a_{l−1}ᵀ · dL/dz_l), plus the weight penalty's
        gradient: rate·sign(w) (l1) or rate·w (l2)."""
        if status[0] != 0:
            return
        ta = cuda.shared.array((T, T1), dt)
        td = cuda.shared.array((T, T1), dt)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        p = cuda.blockIdx.y * T + ty
        j = cuda.blockIdx.x * T + tx
        pb = cuda.blockIdx.y * T
        zero = G.dtype.type(0.0)
        acc = zero
        for t0 in range(0, n, T):
            i = t0 + ty
            c = pb + tx
            ta[ty, tx] = A[ao + i * k + c] if (i < n and c < k) else zero
            td[ty, tx] = D[do + i * m + j] if (i < n and j < m) else zero
            cuda.syncthreads()
            for q in range(min(T, n - t0)):
                acc += ta[q, ty] * td[q, tx]
            cuda.syncthreads()
        if p < k and j < m:
            o = go + p * m + j
            if reg_code == REG_L1:
                w = P[o]
                G[o] = acc + reg * (1.0 if w > 0 else (-1.0 if w < 0 else 0.0))
            elif reg_code == REG_L2:
                G[o] = acc + reg * P[o]
            else:
                G[o] = acc

    @cuda.jit
    def mm_nt_act(status, D, do, W, wo, DA, dao, n, m, k, code, alpha, Z, zo, A, ao, DZ, dzo,
                  mask_rate, U, p0, ucol):
        """DA[n×k] = D[n×m] · W[k×m]ᵀ (dL/da_{l−1} = dL/dz_l · W_lᵀ), then the layer below's
        dL/dz = dL/da ⊙ f′(z) (with its dropout mask) in the same thread."""
        if status[0] != 0:
            return
        td = cuda.shared.array((T, T1), dt)
        tw = cuda.shared.array((T, T1), dt)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        i = cuda.blockIdx.y * T + ty
        p = cuda.blockIdx.x * T + tx
        pb = cuda.blockIdx.x * T
        zero = DA.dtype.type(0.0)
        acc = zero
        for t0 in range(0, m, T):
            c = t0 + tx
            td[ty, tx] = D[do + i * m + c] if (i < n and c < m) else zero
            r = pb + ty
            tw[ty, tx] = W[wo + r * m + c] if (r < k and c < m) else zero
            cuda.syncthreads()
            for q in range(min(T, m - t0)):
                acc += td[ty, q] * tw[tx, q]
            cuda.syncthreads()
        if i < n and p < k:
            e = i * k + p
            DA[dao + e] = acc
            u = 1.0
            if mask_rate > 0.0:
                u = U[p0 + i, ucol + p]
            DZ[dzo + e] = _dact(code, alpha, Z, Z[zo + e], A[ao + e], acc, mask_rate, u)

    @cuda.jit
    def mm_nt(status, D, do, W, wo, out, oo, n, m, k, reg_code, reg, P):
        """out[n×k] = D[n×m] · W[k×m]ᵀ plus the weight penalty's gradient of the weights P[oo:]
        (a conv row's dL/dW = dL/dz · colsTᵀ)."""
        if status[0] != 0:
            return
        td = cuda.shared.array((T, T1), dt)
        tw = cuda.shared.array((T, T1), dt)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        i = cuda.blockIdx.y * T + ty
        p = cuda.blockIdx.x * T + tx
        pb = cuda.blockIdx.x * T
        zero = out.dtype.type(0.0)
        acc = zero
        for t0 in range(0, m, T):
            c = t0 + tx
            td[ty, tx] = D[do + i * m + c] if (i < n and c < m) else zero
            r = pb + ty
            tw[ty, tx] = W[wo + r * m + c] if (r < k and c < m) else zero
            cuda.syncthreads()
            for q in range(min(T, m - t0)):
                acc += td[ty, q] * tw[tx, q]
            cuda.syncthreads()
        if i < n and p < k:
            o = oo + i * k + p
            if reg_code == REG_L1:
                w = P[o]
                out[o] = acc + reg * (1.0 if w > 0 else (-1.0 if w < 0 else 0.0))
            elif reg_code == REG_L2:
                out[o] = acc + reg * P[o]
            else:
                out[o] = acc

    return mm, mm_tn, mm_nt_act, mm_nt


# -- gradients of the bias, norms, checks --------------------------------------------------------
@cuda.jit
def bias_grad(status, D, do, n, m, G, bo, hasb):
    """G[bo + j] = Σᵢ D[i, j] (dL/db), summed in the parameters' dtype in row order; 0 without
    a bias."""
    j = cuda.grid(1)
    if status[0] != 0 or j >= m:
        return
    acc = G.dtype.type(0.0)
    if hasb:
        for i in range(n):
            acc += D[do + i * m + j]
    G[bo + j] = acc


@cuda.jit
def grad_norms(status, G, lw, out_gn, b):
    """Block l: out_gn[b, l] = ‖(dW_l, db_l)‖ in float64 (lw[l] = W offset, W size, b offset,
    b size)."""
    if status[0] != 0:
        return
    layer = cuda.blockIdx.x
    t = cuda.threadIdx.x
    buf = cuda.shared.array(TPB, float64)
    w0, nw, b0, nb = lw[layer, 0], lw[layer, 1], lw[layer, 2], lw[layer, 3]
    s = 0.0
    for i in range(t, nw, TPB):
        s += float64(G[w0 + i]) * G[w0 + i]
    for i in range(t, nb, TPB):
        s += float64(G[b0 + i]) * G[b0 + i]
    buf[t] = s
    total = _block_sum(buf, t)
    if t == 0:
        out_gn[b, layer] = math.sqrt(total)


@cuda.jit
def check_grads(status, out_gn, b, L):
    """One thread: the first non-finite gradient norm from the last layer down records
    ERR_GRAD (the layer the CPU loop would have stopped at)."""
    if status[0] != 0 or cuda.grid(1) != 0:
        return
    for layer in range(L - 1, -1, -1):
        if not math.isfinite(out_gn[b, layer]):
            status[0] = ERR_GRAD
            status[1] = layer
            status[2] = b
            return


# -- optimizer -------------------------------------------------------------------------------
@cuda.jit
def opt_update(status, code, P, G, S1, S2, n, lr, mu, eps, rho, b1, b2, ob1, ob2, step, ic2,
               tiny):
    """One optimizer step per parameter, as `cpu.optimizer_update` (scalars in the parameters'
    dtype; Adam's step = lr/(1 − β₁ᵗ) and ic2 = 1/(1 − β₂ᵗ) come from the host)."""
    i = cuda.grid(1)
    if status[0] != 0 or i >= n:
        return
    if code == SGD:
        P[i] -= lr * G[i]
    elif code == MOMENTUM or code == NESTEROV:
        v = mu * S1[i] - lr * G[i]
        S1[i] = v
        if code == MOMENTUM:
            P[i] += v
        else:
            P[i] += mu * v - lr * G[i]
    elif code == ADAGRAD:
        g = G[i]
        S1[i] += g * g
        P[i] -= lr * g / (math.sqrt(S1[i]) + eps)
    elif code == RMSPROP:
        g = G[i]
        S1[i] = rho * S1[i] + (1.0 - rho) * g * g
        P[i] -= lr * g / (math.sqrt(S1[i]) + eps)
    elif code == ADAM:
        g = G[i]
        zero = P.dtype.type(0.0)
        m1 = b1 * S1[i] + ob1 * g
        m1 = m1 if abs(m1) >= tiny else zero
        S1[i] = m1
        v = b2 * S2[i] + ob2 * g * g
        S2[i] = v
        P[i] -= step * m1 / (math.sqrt(v * ic2) + eps)


# -- evaluation ------------------------------------------------------------------------------
@cuda.jit
def sum_squares(X, n, out, slot):
    """One block: out[slot] = Σ X[0:n]² in float64 (‖P‖² for the finiteness check)."""
    t = cuda.threadIdx.x
    buf = cuda.shared.array(TPB, float64)
    s = 0.0
    for i in range(t, n, TPB):
        s += float64(X[i]) * X[i]
    buf[t] = s
    total = _block_sum(buf, t)
    if t == 0:
        out[slot] = total

