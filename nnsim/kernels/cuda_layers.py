"""numba.cuda kernels for conv, pool and flatten rows: the device twins of `cpu_layers.py`.

A convolution runs as in the cpu kernels, over the whole mini-batch: `im2col` writes colsT
(K × n·P: K = C·KH·KW taps, P = H_OUT·W_OUT pixels, zeros where a window reaches into the
padding), the products of `cuda_dense.products` do Z = W·colsT, dL/dW = dZ·colsTᵀ (plus the
penalty) and dL/dcolsT = Wᵀ·dZ, and `col2im` sums the columns back onto the input pixels.
The adjoint kernels gather instead of scatter: one thread per input pixel sums, in the cpu
loop's order, what every window covering it sends back (col2im, pool backward), so no two
threads write one value and no atomics are needed. Max pooling keeps the first largest input
of each window (row by row, as the cpu) and records its index for the backward pass.

Launch shapes: one thread per output element, `cuda_dense.blocks(count)` × `cuda_dense.TPB`.
Every kernel takes the status word first and returns when an earlier kernel recorded an error.
"""

from __future__ import annotations

from numba import cuda, float64

from .catalogue import MAXPOOL2D


@cuda.jit
def im2col(status, A, ao, X, xo, n, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo):
    """colsT at X[xo:]: entry (tap (c, ki, kj), column (s, i, j)) is input pixel
    (s, c, i·sh + ki − ph, j·sw + kj − pw) of the images at A[ao:], 0 in the padding."""
    t = cuda.grid(1)
    P = Ho * Wo
    NP = n * P
    if status[0] != 0 or t >= C * kh * kw * NP:
        return
    tap = t // NP
    col = t - tap * NP
    c = tap // (kh * kw)
    ki = (tap // kw) % kh
    kj = tap % kw
    s = col // P
    i = (col // Wo) % Ho
    j = col % Wo
    y = i * sh + ki - ph
    x = j * sw + kj - pw
    if y >= 0 and y < H and x >= 0 and x < W:
        X[xo + t] = A[ao + ((s * C + c) * H + y) * W + x]
    else:
        X[xo + t] = 0.0


@cuda.jit
def col2im(status, D, do, A, ao, n, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo):
    """A[ao:] (n images) = each pixel's sum of the column entries of D that read it, over the
    taps in the cpu's order (ki, then kj)."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= n * C * H * W:
        return
    x = t % W
    y = (t // W) % H
    c = (t // (H * W)) % C
    s = t // (C * H * W)
    NP = n * Ho * Wo
    acc = A.dtype.type(0.0)
    for ki in range(kh):
        yi = y + ph - ki                      # = i·sh for the output row i that reads y
        if yi < 0 or yi % sh != 0 or yi // sh >= Ho:
            continue
        i = yi // sh
        for kj in range(kw):
            xj = x + pw - kj
            if xj < 0 or xj % sw != 0 or xj // sw >= Wo:
                continue
            j = xj // sw
            acc += D[do + ((c * kh + ki) * kw + kj) * NP + (s * Ho + i) * Wo + j]
    A[ao + t] = acc


@cuda.jit
def conv_out(status, T, to, P, bo, hasb, Z, zo, n, F, Pn):
    """Z (n, F, P) at Z[zo:] from the product T (F, n·P) at T[to:], plus the bias."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= n * F * Pn:
        return
    p = t % Pn
    f = (t // Pn) % F
    s = t // (F * Pn)
    v = T[to + f * n * Pn + s * Pn + p]
    Z[zo + t] = v + P[bo + f] if hasb else v


@cuda.jit
def conv_dz(status, DZ, dzo, T, to, n, F, Pn):
    """T (F, n·P) at T[to:] from dL/dz (n, F, P) at DZ[dzo:]."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= n * F * Pn:
        return
    col = t % (n * Pn)
    f = t // (n * Pn)
    s = col // Pn
    T[to + t] = DZ[dzo + (s * F + f) * Pn + col - s * Pn]


@cuda.jit
def conv_bias_grad(status, DZ, dzo, n, F, Pn, G, bo, hasb):
    """G[bo + f] = Σ over samples and pixels of dL/dz[:, f] (float64, samples in order)."""
    f = cuda.grid(1)
    if status[0] != 0 or f >= F:
        return
    acc = 0.0
    if hasb:
        for s in range(n):
            q = dzo + (s * F + f) * Pn
            for p in range(Pn):
                acc += float64(DZ[q + p])
    G[bo + f] = acc


@cuda.jit
def pool_fwd(status, kind, A, ai, Z, zo, IS, io, n, C, H, W, kh, kw, sh, sw, Ho, Wo):
    """A max or average pool row's z; a max pool writes each winner's index (counted from the
    input block's start) to IS[io:]."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= n * C * Ho * Wo:
        return
    j = t % Wo
    i = (t // Wo) % Ho
    sc = t // (Ho * Wo)
    first = sc * H * W + i * sh * W + j * sw
    if kind == MAXPOOL2D:
        best = first
        v = A[ai + first]
        for ki in range(kh):
            for kj in range(kw):
                q = first + ki * W + kj
                if A[ai + q] > v:
                    v = A[ai + q]
                    best = q
        Z[zo + t] = v
        IS[io + t] = best
        return
    acc = A.dtype.type(0.0)
    for ki in range(kh):
        for kj in range(kw):
            acc += A[ai + first + ki * W + kj]
    Z[zo + t] = acc * A.dtype.type(1.0 / (kh * kw))


@cuda.jit
def pool_bwd(status, kind, DZ, dzo, DA, dai, IS, io, n, C, H, W, kh, kw, sh, sw, Ho, Wo):
    """dL/da below a pool row, one thread per input pixel: the gradients of the windows that
    cover it (max: only those it won; average: 1/(KH·KW) of each), in output order."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= n * C * H * W:
        return
    x = t % W
    y = (t // W) % H
    sc = t // (H * W)                        # t is also the pixel's index in the block (IS)
    inv = DA.dtype.type(1.0 / (kh * kw))
    acc = DA.dtype.type(0.0)
    i_lo = 0 if y < kh else (y - kh) // sh + 1
    j_lo = 0 if x < kw else (x - kw) // sw + 1
    for i in range(i_lo, min(Ho, y // sh + 1)):
        if y - i * sh >= kh:
            continue
        for j in range(j_lo, min(Wo, x // sw + 1)):
            if x - j * sw >= kw:
                continue
            o = (sc * Ho + i) * Wo + j
            if kind == MAXPOOL2D:
                if IS[io + o] == t:
                    acc += DZ[dzo + o]
            else:
                acc += DZ[dzo + o] * inv
    DA[dai + t] = acc


@cuda.jit
def copy_block(status, S, so, D, do, count):
    """D[do:do+count] = S[so:so+count] (flatten, both ways)."""
    t = cuda.grid(1)
    if status[0] != 0 or t >= count:
        return
    D[do + t] = S[so + t]
