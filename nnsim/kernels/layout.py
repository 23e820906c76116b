"""The flat memory layout shared by every backend (no numba, no numpy maths here).

A multilayer perceptron of L dense layers is described by two small tables:

``layi`` int64 (L+1, 7), row 0 the input, row l+1 dense layer l:
    [fan_in, units, W offset, b offset, activation code, has bias, dropout column in U]
``layf`` float (L+1, 2): [activation alpha, dropout rate applied to this row's output]
    (row 0: the dropout rate on the inputs).

Parameters live in one flat vector P: W_l (fan_in × units, row-major) at ``W offset``, b_l at
``b offset``; gradients G and optimizer state S1, S2 share that layout. A workspace WS holds four
regions (A, Z, dL/dA, dL/dZ) each of ``bmax · Σ units`` values, so a traced step is a copy away.

``cfg`` int64: see the CFG_* indices (CFG_START is a sample position in the epoch's order). ``hp`` (the parameters' dtype):
    [lr, momentum, beta1, beta2, epsilon, rho, initial_accumulator, regularization_rate].
"""

from __future__ import annotations

import numpy as np

# layi columns
FAN_IN, UNITS, WOFF, BOFF, ACT, HASB, UCOL = range(7)
# cfg entries
(CFG_START, CFG_COUNT, CFG_BATCH, CFG_OPT, CFG_LOSS, CFG_LOGITS, CFG_REG, CFG_APPLY,
 CFG_T, CFG_BMAX, CFG_ERR, CFG_ERR_LAYER) = range(12)
CFG_SIZE = 12
# errors reported in cfg[CFG_ERR]
ERR_NONE, ERR_LOSS, ERR_GRAD, ERR_OUTPUT = 0, 1, 2, 3
# hp entries
HP_LR, HP_MU, HP_B1, HP_B2, HP_EPS, HP_RHO, HP_INITACC, HP_REG = range(8)
HP_SIZE = 8


def region_offsets(layi: np.ndarray, bmax: int) -> tuple[np.ndarray, int]:
    """Offsets of each row's block inside one workspace region, and the region size.

    The cpu backend compiles this very function with njit: keep it to what Numba supports."""
    dims = layi[:, UNITS]
    offs = np.zeros(len(dims), dtype=np.int64)
    offs[1:] = np.cumsum(dims[:-1]) * bmax
    return offs, int(dims.sum() * bmax)
