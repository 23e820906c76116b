"""The flat memory layout shared by every backend (column names and codes: `catalogue`).

A network of L rows (every layer but dropout) is described by two small tables:

``layi`` int64 (L+1, LAYI_COLS), row 0 the input, row r the r-th layer that is not a dropout:
    [fan_in, units, W offset, b offset, activation code, has bias, dropout column in U, kind,
     input shape C, H, W, output shape C, H, W, window KH, KW, stride SH, SW, padding PH, PW]
``layf`` float (L+1, LAYF_COLS): [activation alpha, dropout rate applied to this row's output]
    (row 0: the dropout rate on the inputs).

Parameters live in one flat vector P: a dense row's W (fan_in × units, row-major) at
``W offset``, a conv row's W (filters × channels × KH × KW, PyTorch's order) there, and the bias
(units, or filters) at ``b offset``; pool and flatten rows hold none. Gradients G and optimizer
state S1, S2 share that layout. A workspace WS holds four regions (A, Z, dL/dA, dL/dZ) each of
``bmax · Σ units`` values, so a traced step is a copy away: a sample's block of an image row is
its C × H × W values, channel by channel, row by row. Row r's block starts at ``offs[r]`` inside
each region (`region_offsets`); the caller computes the offsets once and passes them to the
kernels.

Networks with conv or pool rows also need scratch (`scratch_offsets`): for each conv row its
im2col columns (kept from the forward pass for dL/dW), for each max-pool row the index of each
output's winning input, and two buffers the conv rows share (transposed blocks, dL/dcolumns).
A recurrent row keeps every step's state, gates and gradients there (`recurrent_parts`).

``cfg`` int64: see the CFG_* indices. ``hp`` (the parameters' dtype): see the HP_* indices.
"""

from __future__ import annotations

import numpy as np

from .catalogue import (
    C_IN,
    C_OUT,
    CONV2D,
    FAN_IN,
    H_IN,
    H_OUT,
    KH,
    KIND,
    KW,
    LSTM,
    MAXPOOL2D,
    PH,
    PW,
    SH,
    SIMPLE_RNN,
    SW,
    UNITS,
    W_IN,
    W_OUT,
)


def region_offsets(layi: np.ndarray, bmax: int) -> tuple[np.ndarray, int]:
    """Offsets of each row's block inside one workspace region, and the region size."""
    dims = layi[:, UNITS]
    offs = np.zeros(len(dims), dtype=np.int64)
    offs[1:] = np.cumsum(dims[:-1]) * bmax
    return offs, int(dims.sum() * bmax)


def scratch_offsets(layi: np.ndarray, bmax: int) -> tuple[np.ndarray, int, int]:
    """Where each row's scratch starts, for mini-batches of up to `bmax` rows.

    Returns (soffs, float size, int size). soffs is int64 (L+2, 2): row r holds [offset of its
    im2col columns in the float scratch (conv rows), offset of its argmax indices in the int
    scratch (max-pool rows)]; the extra last row holds the offsets of the two shared float
    buffers: T (filters × bmax·H_OUT·W_OUT: a conv row's z or dL/dz with the filter first) and
    D (the largest column block: dL/dcolumns before they are summed back into dL/da)."""
    rows = layi.shape[0]
    soffs = np.zeros((rows + 1, 2), dtype=np.int64)
    fsize = isize = tmax = dmax = 0
    for r in range(1, rows):
        kind = int(layi[r, KIND])
        pix = int(layi[r, H_OUT] * layi[r, W_OUT]) * bmax
        if kind == CONV2D:
            pix = conv_columns(layi, r) * bmax
            soffs[r, 0] = fsize
            cols = int(layi[r, FAN_IN]) * pix
            fsize += max(cols, direct_scratch(layi, r)[1])
            tmax = max(tmax, int(layi[r, C_OUT]) * pix)
            dmax = max(dmax, cols)
        elif kind == MAXPOOL2D:
            soffs[r, 1] = isize
            isize += int(layi[r, UNITS]) * bmax
        elif kind == SIMPLE_RNN or kind == LSTM:
            soffs[r, 0] = fsize
            fsize += recurrent_parts(*recurrent_dims(layi, r), bmax)[-1]
    soffs[rows, 0] = fsize
    soffs[rows, 1] = fsize + tmax
    return soffs, fsize + tmax + dmax, isize


def wide(layi: np.ndarray, r: int) -> bool:
    """Conv row r has stride 1 and no padding at all ("valid", not even "same"'s odd row or
    column at the bottom or right): its im2col columns are "wide" (`conv_columns`) and the CPU
    runs it with the direct kernels (`cpu_conv`)."""
    return (layi[r, SH] == 1 and layi[r, SW] == 1 and layi[r, PH] == 0 and layi[r, PW] == 0
            and layi[r, H_OUT] == layi[r, H_IN] - layi[r, KH] + 1
            and layi[r, W_OUT] == layi[r, W_IN] - layi[r, KW] + 1)


def conv_columns(layi: np.ndarray, r: int) -> int:
    """Columns per sample of conv row r's im2col matrix. When `wide` they are H_OUT·W_IN: the
    window row of each output row is one run of the input row (one copy per kernel entry and
    sample), and the last KW − 1 columns of every output row are computed and dropped.
    Otherwise H_OUT·W_OUT."""
    return int(layi[r, H_OUT] * (layi[r, W_IN] if wide(layi, r) else layi[r, W_OUT]))


def direct_scratch(layi: np.ndarray, r: int, threads: int = 2) -> tuple[int, int]:
    """(per-thread part, total) of conv row r's scratch in the direct kernels (`cpu_conv`):
    each thread's part holds an H_OUT·W_IN accumulator and one sample's F padded dL/dz blocks of
    (KH − 1)·W_IN + KW − 1 + H_IN·W_IN; then every thread but the first has an F·K dL/dW
    partial. (The im2col columns that other paths keep there are larger but for tiny rows.)"""
    h, w, f = int(layi[r, H_IN]), int(layi[r, W_IN]), int(layi[r, C_OUT])
    block = (int(layi[r, KH]) - 1) * w + int(layi[r, KW]) - 1 + h * w
    part = int(layi[r, H_OUT]) * w + f * block
    return part, threads * part + (threads - 1) * f * int(layi[r, FAN_IN])


def recurrent_dims(layi: np.ndarray, r: int) -> tuple[int, int, int, int]:
    """(k, T, F, H) of recurrent row r: gates (1 SimpleRNN, 4 LSTM), steps, input features,
    units."""
    k = 4 if int(layi[r, KIND]) == LSTM else 1
    return k, int(layi[r, H_IN]), int(layi[r, C_IN]), int(layi[r, C_OUT])


def recurrent_parts(k: int, T: int, F: int, H: int, n: int, so: int = 0) -> tuple[int, ...]:
    """Offsets of a recurrent row's scratch for n sequences, starting at `so` (plain integer
    arithmetic: `cpu_rnn` compiles this same function). Every part is step-major, step t's
    n × m block at part + t·n·m:

    (X (T, n, F) the input, z (T, n, k·H) pre-activations, gates (T, n, 4H) [i f g o] after σ
    and tanh (LSTM), h (T, n, H), c (T, n, H) and tanh c (T, n, H) (LSTM), dG (T, n, k·H) =
    dL/dz, dL/dh (T, n, H), dL/dc (T, n, H) (LSTM), one step's product (n, k·H), dL/dX
    (T, n, F), the gate scale (n, 4H) (LSTM), Uᵀ (k·H, H), one step's dL/dU (H, k·H), end).
    SimpleRNN's LSTM-only parts are empty."""
    K = k * H
    lstm = k == 4
    cell = T * n * H if lstm else 0
    xt = so
    z = xt + T * n * F
    a = z + T * n * K
    h = a + (T * n * K if lstm else 0)
    c = h + T * n * H
    tc = c + cell
    dg = tc + cell
    dh = dg + T * n * K
    dc = dh + T * n * H
    tmp = dc + cell
    dx = tmp + n * K
    gm = dx + T * n * F
    ut = gm + (n * K if lstm else 0)
    tu = ut + K * H
    end = tu + H * K
    return xt, z, a, h, c, tc, dg, dh, dc, tmp, dx, gm, ut, tu, end
