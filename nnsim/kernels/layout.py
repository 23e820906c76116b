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

``cfg`` int64: see the CFG_* indices. ``hp`` (the parameters' dtype): see the HP_* indices.
"""

from __future__ import annotations

import numpy as np

from .catalogue import C_OUT, CONV2D, FAN_IN, H_OUT, KIND, MAXPOOL2D, UNITS, W_OUT


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
            soffs[r, 0] = fsize
            cols = int(layi[r, FAN_IN]) * pix
            fsize += cols
            tmax = max(tmax, int(layi[r, C_OUT]) * pix)
            dmax = max(dmax, cols)
        elif kind == MAXPOOL2D:
            soffs[r, 1] = isize
            isize += int(layi[r, UNITS]) * bmax
    soffs[rows, 0] = fsize
    soffs[rows, 1] = fsize + tmax
    return soffs, fsize + tmax + dmax, isize
