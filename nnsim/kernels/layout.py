"""The flat memory layout shared by every backend (column names and codes: `catalogue`).

A multilayer perceptron of L dense layers is described by two small tables:

``layi`` int64 (L+1, LAYI_COLS), row 0 the input, row l+1 dense layer l:
    [fan_in, units, W offset, b offset, activation code, has bias, dropout column in U, kind]
``layf`` float (L+1, LAYF_COLS): [activation alpha, dropout rate applied to this row's output]
    (row 0: the dropout rate on the inputs).

Parameters live in one flat vector P: W_l (fan_in × units, row-major) at ``W offset``, b_l at
``b offset``; gradients G and optimizer state S1, S2 share that layout. A workspace WS holds four
regions (A, Z, dL/dA, dL/dZ) each of ``bmax · Σ units`` values, so a traced step is a copy away.
Row r's block starts at ``offs[r]`` inside each region (`region_offsets`); the caller computes
the offsets once and passes them to the kernels.

``cfg`` int64: see the CFG_* indices. ``hp`` (the parameters' dtype): see the HP_* indices.
"""

from __future__ import annotations

import numpy as np

from .catalogue import UNITS


def region_offsets(layi: np.ndarray, bmax: int) -> tuple[np.ndarray, int]:
    """Offsets of each row's block inside one workspace region, and the region size."""
    dims = layi[:, UNITS]
    offs = np.zeros(len(dims), dtype=np.int64)
    offs[1:] = np.cumsum(dims[:-1]) * bmax
    return offs, int(dims.sum() * bmax)
