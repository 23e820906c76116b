"""The cuda backend: numba.cuda kernels (`cuda_dense`, and `cuda_layers` for conv, pool and
flatten rows) behind the cpu backend's interface.

`bind(...)` puts one trainer's data set, parameters, gradients, optimizer state and workspace
on the device and returns a `DeviceTrainer`: its `train_batches` runs a chunk of mini-batches
there (one launch per layer and phase, the host never waiting inside the chunk) and copies back
only the chunk's batch losses, gradient norms, status and ‖P‖². Everything else stays on the
device until the host asks: `pull()` (parameters, gradients, optimizer state; a dirty flag
makes it free when nothing changed), `pull_workspace()` (a traced step), `predict()` (only the
outputs come back). `push_params()` sends host-side changes of P the other way.

The module-level `train_batches`, `predict`, `optimizer_update` (and `train_batches_layered`,
`predict_layered` for networks that are not all dense) have the cpu backends' signatures over
host arrays (each call binds, runs and copies everything back): the backend
interface, and what the tests compare with `cpu`. `act_forward`, `act_backward`,
`loss_and_delta`, `matmul`, `matmul_tn`, `matmul_nt_act`, `bias_grad`, `grad_norms` and
`gather` launch one kernel each on host arrays (tests).
"""

from __future__ import annotations

import numpy as np
from numba import cuda, from_dtype

from . import cuda_dense as K
from . import cuda_layers as CL
from . import cuda_rnn as CR
from .catalogue import (
    ACT,
    ADAM,
    ADAM_FLUSH,
    ALPHA,
    AVGPOOL2D,
    BOFF,
    C_IN,
    C_OUT,
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
    CONV2D,
    DENSE,
    DROP,
    FAN_IN,
    H_IN,
    H_OUT,
    HASB,
    HP_B1,
    HP_B2,
    HP_CLIP,
    HP_EPS,
    HP_LR,
    HP_MU,
    HP_REG,
    HP_RHO,
    KH,
    KIND,
    KW,
    LSTM,
    MAXPOOL2D,
    PH,
    PW,
    RACT,
    SH,
    SIMPLE_RNN,
    SOFTMAX,
    SW,
    UCOL,
    UNITS,
    W_IN,
    W_OUT,
    WOFF,
    fused_output,
    loss_norm,
)
from .layout import recurrent_dims, recurrent_parts, region_offsets, scratch_offsets

NAME = "cuda"
PREDICT_ROWS = 4096          # rows per block of the device predict's workspace
PREDICT_ROWS_LAYERED = 512   # the same with conv rows (their im2col scratch grows with it)

_PRODUCTS: dict[tuple[np.dtype, int], tuple] = {}


def products(dtype: np.dtype) -> tuple:
    """(mm, mm_tn, mm_nt_act, mm_nt) for parameters of `dtype` and the current `cuda_dense.TILE`
    (their shared tiles are typed and sized at compile time)."""
    key = (np.dtype(dtype), int(K.TILE))
    if key not in _PRODUCTS:
        _PRODUCTS[key] = K.products(from_dtype(key[0]), key[1])
    return _PRODUCTS[key]


def kernels(dtype: np.dtype) -> dict:
    """Every kernel a training run, a prediction or an update launches, by name."""
    mm, mm_tn, mm_nt_act, mm_nt = products(dtype)
    names = ("gather", "copy_rows", "copy_out", "act_fwd", "act_bwd", "loss_rows", "loss_reduce",
             "bias_grad", "grad_norms", "check_grads", "opt_update", "sum_squares")
    layer_names = ("im2col", "col2im", "conv_out", "conv_dz", "conv_bias_grad", "pool_fwd",
                   "pool_bwd", "copy_block")
    rnn_names = ("seq_to_steps", "steps_to_seq", "fill", "step_fwd", "step_bwd", "dh_back",
                 "clip_grads")
    return {**{name: getattr(K, name) for name in names},
            **{name: getattr(CL, name) for name in layer_names},
            **{name: getattr(CR, name) for name in rnn_names},
            "mm": mm, "mm_tn": mm_tn, "mm_nt_act": mm_nt_act, "mm_nt": mm_nt}


def signatures(dtype: np.dtype) -> dict[str, tuple]:
    """The argument types every launch uses for parameters of `dtype`, by kernel name: what
    `tests/test_cuda_ptx.py` compiles to PTX, and what the simulator tests check the launches
    against (so a launch whose types drift is caught on both sides)."""
    from numba import types as T
    f, i, d, b = from_dtype(np.dtype(dtype)), T.int64, T.float64, T.boolean
    v, m2 = T.Array(f, 1, "C"), T.Array(f, 2, "C")
    vi, mi, vd, md = T.Array(i, 1, "C"), T.Array(i, 2, "C"), T.Array(d, 1, "C"), T.Array(d, 2, "C")
    st = vi
    return {
        "gather": (st, m2, vi, m2, v, i, i, i, f, i),
        "copy_rows": (m2, i, i, i, v, i),
        "copy_out": (v, i, i, i, m2, i),
        "act_fwd": (st, i, f, v, i, v, i, i, i, f, m2, i, i),
        "act_bwd": (st, i, f, v, i, v, i, v, i, v, i, i, i, f, m2, i, i),
        "loss_rows": (st, i, b, b, v, i, v, i, v, i, v, i, i, i, md, vi, i, d, vd),
        "loss_reduce": (st, vd, i, d, vd, i, i),
        "bias_grad": (st, v, i, i, i, v, i, i),
        "grad_norms": (st, v, mi, md, i),
        "check_grads": (st, md, i, i),
        "opt_update": (st, i, v, v, v, v, i) + (f,) * 11,
        "sum_squares": (v, i, vd, i),
        "mm": (st, v, i, v, i, v, i, i, v, i, i, i, i),
        "mm_tn": (st, v, i, v, i, v, i, i, i, i, i, f, v),
        "mm_nt_act": (st, v, i, v, i, v, i, i, i, i, i, f, v, i, v, i, v, i, f, m2, i, i),
        "mm_nt": (st, v, i, v, i, v, i, i, i, i, i, f, v),
        "im2col": (st, v, i, v, i) + (i,) * 12,
        "col2im": (st, v, i, v, i) + (i,) * 12,
        "conv_out": (st, v, i, v, i, i, v, i, i, i, i),
        "conv_dz": (st, v, i, v, i, i, i, i),
        "conv_bias_grad": (st, v, i, i, i, i, v, i, i),
        "pool_fwd": (st, i, v, i, v, i, vi, i) + (i,) * 10,
        "pool_bwd": (st, i, v, i, v, i, vi, i) + (i,) * 10,
        "copy_block": (st, v, i, v, i, i),
        "seq_to_steps": (st, v, i, v, i, i, i, i),
        "steps_to_seq": (st, v, i, v, i, i, i, i),
        "fill": (st, v, i, i, f),
        "step_fwd": (st, i, i, f, v) + (i,) * 7 + (v, i, i, i, b),
        "step_bwd": (st, i, i, f, v) + (i,) * 10 + (i, i, b, b),
        "dh_back": (st, v, i, i, v, i, i, i, i),
        "clip_grads": (st, md, i, i, f, v, i),
    }


def _dev(a: np.ndarray):
    """A device copy of a host array (a 1 × 1 stand-in for an empty one)."""
    a = np.ascontiguousarray(a)
    if a.size == 0:
        a = np.zeros((1,) * max(a.ndim, 1), dtype=a.dtype)
    return cuda.to_device(a)


def _layer_table(layi: np.ndarray) -> np.ndarray:
    """int64 (L, 4): W offset, W size, b offset, b size of every row (the norms kernel; pool
    and flatten rows hold no parameters)."""
    L = layi.shape[0] - 1
    lw = np.zeros((L, 4), dtype=np.int64)
    for l in range(L):
        r = layi[l + 1]
        if r[KIND] == DENSE:
            dout = _dense_out(r)[1]
            lw[l] = (r[WOFF], r[FAN_IN] * dout, r[BOFF], dout)
        elif r[KIND] == CONV2D:
            lw[l] = (r[WOFF], r[C_OUT] * r[FAN_IN], r[BOFF], r[C_OUT])
        elif r[KIND] == SIMPLE_RNN or r[KIND] == LSTM:   # W and U together, then b
            k, _, F, H = recurrent_dims(layi, l + 1)
            lw[l] = (r[WOFF], (F + H) * k * H, r[BOFF], k * H)
    return lw


def _dense_out(r: np.ndarray) -> tuple[int, int]:
    """(steps, units per step) of a dense row: (1, units), or on a sequence (H_OUT, C_OUT) (a
    table without the shape columns is read as a plain dense row)."""
    steps = max(1, int(r[H_OUT]))
    return steps, (int(r[C_OUT]) or int(r[UNITS])) if steps > 1 else int(r[UNITS])


def _geometry(r: np.ndarray, n: int) -> tuple[int, ...]:
    """(n, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo) of a conv or pool row for n images."""
    return (n,) + tuple(int(r[c]) for c in (C_IN, H_IN, W_IN, KH, KW, SH, SW, PH, PW, H_OUT,
                                            W_OUT))


class _Rows:
    """The launches of the forward and backward pass over every row, for one network and
    dtype (shared by training and prediction)."""

    def __init__(self, layi: np.ndarray, layf: np.ndarray, dtype: np.dtype) -> None:
        self.layi, self.layf, self.L = layi, layf, layi.shape[0] - 1
        self.mm, self.mm_tn, self.mm_nt_act, self.mm_nt = products(dtype)
        self.zero = np.dtype(dtype).type(0.0)
        self.layered = bool(np.any(layi[1:, KIND] != DENSE))   # conv, pool, recurrent: scratch

    def forward(self, st, WS, P, offs, ZO, n, training, U, p0, XS, IS, soffs) -> None:
        """Rows 1..L of n samples already in WS's block 0 (A region at 0, Z region at ZO)."""
        layi, layf, L, tpb = self.layi, self.layf, self.L, K.TPB
        for rr in range(1, L + 1):
            r = layi[rr]
            kind, units = int(r[KIND]), int(r[UNITS])
            ai, ao = int(offs[rr - 1]), int(offs[rr])
            zo = ZO + ao
            if kind == DENSE:   # on a sequence: every step, n·H_OUT rows of C_OUT units
                steps, dout = _dense_out(r)
                rows = n * steps
                grid, block = K.tiles(rows, dout)
                self.mm[grid, block](st, WS, ai, P, int(r[WOFF]), P, int(r[BOFF]), int(r[HASB]),
                                     WS, zo, rows, int(r[FAN_IN]), dout)
            elif kind == SIMPLE_RNN or kind == LSTM:
                self._recurrent_forward(st, rr, WS, P, ai, zo, n, XS, int(soffs[rr, 0]))
            elif kind == CONV2D:
                geo = _geometry(r, n)
                F, Kt = int(r[C_OUT]), int(r[FAN_IN])
                NP = n * int(r[H_OUT]) * int(r[W_OUT])
                xo, to = int(soffs[rr, 0]), int(soffs[L + 1, 0])
                CL.im2col[K.blocks(Kt * NP), tpb](st, WS, ai, XS, xo, *geo)
                grid, block = K.tiles(F, NP)
                self.mm[grid, block](st, P, int(r[WOFF]), XS, xo, P, 0, 0, XS, to, F, Kt, NP)
                CL.conv_out[K.blocks(n * units), tpb](st, XS, to, P, int(r[BOFF]), int(r[HASB]),
                                                      WS, zo, n, F, NP // n)
            elif kind == MAXPOOL2D or kind == AVGPOOL2D:
                geo = _geometry(r, n)
                CL.pool_fwd[K.blocks(n * units), tpb](st, kind, WS, ai, WS, zo, IS,
                                                      int(soffs[rr, 1]), *geo[:8], *geo[10:])
            else:  # flatten: the block already is the flat image
                CL.copy_block[K.blocks(n * units), tpb](st, WS, ai, WS, zo, n * units)
            code = int(r[ACT])
            rate = layf[rr, DROP] if (training and rr < L) else self.zero
            K.act_fwd[K.blocks(n if code == SOFTMAX else n * units), tpb](
                st, code, layf[rr, ALPHA], WS, zo, WS, ao, n, units, rate, U, p0, int(r[UCOL]))

    def backward(self, st, WS, P, G, offs, ZO, DAO, DZO, n, U, p0, XS, IS, soffs,
                 reg_code, reg) -> None:
        """Rows L..1: dL/dW, dL/db into G; dL/da and dL/dz of the row below."""
        layi, layf, L, tpb = self.layi, self.layf, self.L, K.TPB
        for rr in range(L, 0, -1):
            r = layi[rr]
            kind, units = int(r[KIND]), int(r[UNITS])
            dzo = DZO + int(offs[rr])
            below = rr - 1
            ol = int(offs[below])
            w0 = int(r[WOFF])
            fused_below = False
            if kind == DENSE:   # on a sequence: n·H_OUT rows
                steps, dout = _dense_out(r)
                din, rows = int(r[FAN_IN]), n * steps
                grid, block = K.tiles(din, dout)
                self.mm_tn[grid, block](st, WS, ol, WS, dzo, G, w0, rows, din, dout, reg_code,
                                        reg, P)
                K.bias_grad[K.blocks(dout), tpb](st, WS, dzo, rows, dout, G, int(r[BOFF]),
                                                 int(r[HASB]))
                if below > 0:       # dL/da below and, in the same threads, its dL/dz
                    grid, block = K.tiles(rows, din)
                    self.mm_nt_act[grid, block](
                        st, WS, dzo, P, w0, WS, DAO + ol, rows, dout, din, int(layi[below, ACT]),
                        layf[below, ALPHA], WS, ZO + ol, WS, ol, WS, DZO + ol,
                        layf[below, DROP], U, p0, int(layi[below, UCOL]))
                    fused_below = True
            elif kind == SIMPLE_RNN or kind == LSTM:
                self._recurrent_backward(st, rr, WS, P, G, dzo, DAO + ol if below > 0 else -1, n,
                                         XS, int(soffs[rr, 0]), reg_code, reg)
            elif kind == CONV2D:
                geo = _geometry(r, n)
                F, Kt = int(r[C_OUT]), int(r[FAN_IN])
                Pn = int(r[H_OUT]) * int(r[W_OUT])
                NP = n * Pn
                xo, to, do = int(soffs[rr, 0]), int(soffs[L + 1, 0]), int(soffs[L + 1, 1])
                CL.conv_dz[K.blocks(n * units), tpb](st, WS, dzo, XS, to, n, F, Pn)
                CL.conv_bias_grad[K.blocks(F), tpb](st, WS, dzo, n, F, Pn, G, int(r[BOFF]),
                                                    int(r[HASB]))
                grid, block = K.tiles(F, Kt)
                self.mm_nt[grid, block](st, XS, to, XS, xo, G, w0, F, NP, Kt, reg_code, reg, P)
                if below > 0:
                    grid, block = K.tiles(Kt, NP)
                    self.mm_tn[grid, block](st, P, w0, XS, to, XS, do, F, Kt, NP, 0, reg, P)
                    CL.col2im[K.blocks(n * int(layi[below, UNITS])), tpb](st, XS, do, WS,
                                                                         DAO + ol, *geo)
            elif below > 0 and (kind == MAXPOOL2D or kind == AVGPOOL2D):
                geo = _geometry(r, n)
                CL.pool_bwd[K.blocks(n * int(layi[below, UNITS])), tpb](
                    st, kind, WS, dzo, WS, DAO + ol, IS, int(soffs[rr, 1]), *geo[:8], *geo[10:])
            elif below > 0:  # flatten
                CL.copy_block[K.blocks(n * units), tpb](st, WS, dzo, WS, DAO + ol, n * units)
            if below > 0 and not fused_below:
                m = int(layi[below, UNITS])
                K.act_bwd[K.blocks(n * m), tpb](
                    st, int(layi[below, ACT]), layf[below, ALPHA], WS, ZO + ol, WS, ol, WS,
                    DAO + ol, WS, DZO + ol, n, m, layf[below, DROP], U, p0,
                    int(layi[below, UCOL]))


    # -- recurrent rows: the time loop on the host, one launch per step (see cuda_rnn) ----------
    def _recurrent_forward(self, st, rr, WS, P, ai, zo, n, S, so) -> None:
        r, tpb = self.layi[rr], K.TPB
        k, T, F, H = recurrent_dims(self.layi, rr)
        Kk, nH = k * H, n * H
        xt, z, a, h, c, tc, *_ = recurrent_parts(k, T, F, H, n, so)
        w0, u0 = int(r[WOFF]), int(r[WOFF]) + F * Kk
        CR.seq_to_steps[K.blocks(n * T * F), tpb](st, WS, ai, S, xt, n, T, F)
        grid, block = K.tiles(T * n, Kk)
        self.mm[grid, block](st, S, xt, P, w0, P, int(r[BOFF]), int(r[HASB]), S, z, T * n, F, Kk)
        act, alpha = int(r[RACT]), self.layf[rr, ALPHA]
        for t in range(T):
            CR.step_fwd[K.blocks(nH), tpb](st, k, act, alpha, S, z + t * n * Kk, a + t * n * Kk,
                                           h + (t - 1) * nH, c + (t - 1) * nH, c + t * nH,
                                           tc + t * nH, h + t * nH, P, u0, n, H, t == 0)
        if int(r[H_OUT]) == T and T > 1:     # return_sequences
            CR.steps_to_seq[K.blocks(n * T * H), tpb](st, S, h, WS, zo, n, T, H)
        else:
            CL.copy_block[K.blocks(nH), tpb](st, S, h + (T - 1) * nH, WS, zo, nH)

    def _recurrent_backward(self, st, rr, WS, P, G, dzo, dai, n, S, so, reg_code, reg) -> None:
        r, tpb = self.layi[rr], K.TPB
        k, T, F, H = recurrent_dims(self.layi, rr)
        Kk, nH = k * H, n * H
        xt, z, a, h, c, tc, dg, dh, dc, _, dx, *_ = recurrent_parts(k, T, F, H, n, so)
        w0, u0, b0 = int(r[WOFF]), int(r[WOFF]) + F * Kk, int(r[BOFF])
        if int(r[H_OUT]) == T and T > 1:     # what arrives from above, at every step
            CR.seq_to_steps[K.blocks(n * T * H), tpb](st, WS, dzo, S, dh, n, T, H)
        else:
            CR.fill[K.blocks(T * nH), tpb](st, S, dh, T * nH, self.zero)
            CL.copy_block[K.blocks(nH), tpb](st, WS, dzo, S, dh + (T - 1) * nH, nH)
        act, alpha = int(r[RACT]), self.layf[rr, ALPHA]
        for t in range(T - 1, -1, -1):
            nxt = min(t + 1, T - 1)
            CR.step_bwd[K.blocks(nH), tpb](st, k, act, alpha, S, z + t * n * Kk, a + t * n * Kk,
                                           h + t * nH, c + (t - 1) * nH, tc + t * nH,
                                           dh + t * nH, dc + nxt * nH, a + nxt * n * Kk,
                                           dc + t * nH, dg + t * n * Kk, n, H, t == 0,
                                           t == T - 1)
            if t > 0:
                CR.dh_back[K.blocks(nH), tpb](st, S, dg + t * n * Kk, dh + (t - 1) * nH, P, u0,
                                              n, H, Kk)
        grid, block = K.tiles(F, Kk)               # dW = Xᵀ·dG (+ penalty)
        self.mm_tn[grid, block](st, S, xt, S, dg, G, w0, T * n, F, Kk, reg_code, reg, P)
        grid, block = K.tiles(H, Kk)               # dU = H_{0..T−2}ᵀ·dG_{1..T−1} (+ penalty)
        if T > 1:
            self.mm_tn[grid, block](st, S, h, S, dg + n * Kk, G, u0, (T - 1) * n, H, Kk,
                                    reg_code, reg, P)
        else:
            CR.fill[K.blocks(H * Kk), tpb](st, G, u0, H * Kk, self.zero)
        K.bias_grad[K.blocks(Kk), tpb](st, S, dg, T * n, Kk, G, b0, int(r[HASB]))
        if dai >= 0:                               # dX = dG·Wᵀ, then sample-major
            grid, block = K.tiles(T * n, F)
            self.mm_nt[grid, block](st, S, dg, P, w0, S, dx, T * n, Kk, F, 0, reg, P)
            CR.steps_to_seq[K.blocks(n * T * F), tpb](st, S, dx, WS, dai, n, T, F)


class DeviceTrainer:
    """One trainer's arrays on the device.

    `P`, `G`, `S1`, `S2` are the host arrays it mirrors (the network's parameters and
    gradients, the optimizer's state); after a training call the device copies are the newer
    ones until `pull()`.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, P: np.ndarray, G: np.ndarray,
                 S1: np.ndarray, S2: np.ndarray, layi: np.ndarray, layf: np.ndarray,
                 X_test: np.ndarray | None = None) -> None:
        self.host = {"P": P, "G": G, "S1": S1, "S2": S2}
        self.dtype = P.dtype
        self.layi = np.array(layi, dtype=np.int64)
        self.layf = np.array(layf, dtype=P.dtype)
        self.L = self.layi.shape[0] - 1
        self.X, self.Y = _dev(X), _dev(Y)
        self._host_x = {id(X): self.X}
        if X_test is not None and len(X_test):
            self._host_x[id(X_test)] = _dev(X_test)
        self._x_refs = (X, X_test)        # keep the ids above meaning these arrays
        self.dev = {k: _dev(v) for k, v in self.host.items()}
        self.lw = _dev(_layer_table(self.layi))
        self.status = cuda.to_device(np.zeros(3, dtype=np.int64))
        self.rows = _Rows(self.layi, self.layf, P.dtype)
        self.mm = self.rows.mm
        self.XS = self.IS = self.soffs = None
        self._scratch_rows = -1
        self.dirty: set[str] = set()
        self._plan_ref: np.ndarray | None = None
        self.order = self.U = None
        self.WS = None
        self._ws_size = 0
        self._cap = 0
        self.params_sq = 0.0          # ‖P‖² after the last chunk that updated (float64)
        self._sq = cuda.to_device(np.zeros(1))

    # -- host <-> device ---------------------------------------------------------------------
    def pull(self, names: str = "P G S1 S2") -> None:
        """Copy the named arrays back into their host arrays if training changed them."""
        for name in names.split():
            if name in self.dirty:
                self.dev[name].copy_to_host(self.host[name])
                self.dirty.discard(name)

    def push_params(self) -> None:
        """The host's P is the newer one (initialize, set_weights): send it over, with G (which
        initialize zeroes; otherwise only ever read after a backward pass rewrote it)."""
        for name in ("P", "G"):
            self.dev[name].copy_to_device(np.ascontiguousarray(self.host[name]))
            self.dirty.discard(name)

    def pull_workspace(self, ws: np.ndarray) -> None:
        """The workspace of the last mini-batch (A, Z, dL/dA, dL/dZ) into `ws` (a trace)."""
        if self.WS is not None:
            self.WS[:ws.size].copy_to_host(ws)

    def _ensure_plan(self, order: np.ndarray, U: np.ndarray) -> None:
        if order is not self._plan_ref:          # a new epoch's order and dropout uniforms
            self.order = _dev(order.astype(np.int64, copy=False))
            self.U = _dev(U)
            self._plan_ref = order

    def _ensure_workspace(self, size: int, count: int, bmax: int) -> None:
        if self.WS is None or self._ws_size < size:
            self.WS = cuda.to_device(np.zeros(size, dtype=self.dtype))   # as the host's
            self._ws_size = size
            self.rowloss = cuda.device_array(max(bmax, 1), dtype=np.float64)
        if self.rowloss.shape[0] < bmax:
            self.rowloss = cuda.device_array(bmax, dtype=np.float64)
        if self.rows.layered and self._scratch_rows != bmax:   # conv / pool scratch
            self.soffs, fsize, isize = scratch_offsets(self.layi, bmax)
            self.XS = cuda.device_array(max(int(fsize), 1), dtype=self.dtype)
            self.IS = cuda.device_array(max(int(isize), 1), dtype=np.int64)
            self._scratch_rows = bmax
        if self._cap < count:
            self._cap = count
            self.loss_d = cuda.device_array(count, dtype=np.float64)
            self.gn_d = cuda.device_array((count, self.L), dtype=np.float64)

    # -- training ----------------------------------------------------------------------------
    def train_batches(self, order: np.ndarray, U: np.ndarray, hp: np.ndarray, cfg: np.ndarray,
                      offs: np.ndarray, out_loss: np.ndarray, out_gn: np.ndarray) -> int:
        """`cpu.train_batches` on the device arrays (same cfg contract, same results up to
        rounding): returns the batches done, sets cfg[ERR], cfg[ERR_LAYER] and cfg[T]."""
        self._ensure_plan(order, U)
        layi, L = self.layi, self.L
        B, bmax = int(cfg[CFG_BATCH]), int(cfg[CFG_BMAX])
        N, start = order.shape[0], int(cfg[CFG_START])
        count = int(cfg[CFG_COUNT])
        avail = max(0, min(count, -(-(N - start) // B)))
        region = int(offs[L] + layi[L, UNITS] * bmax)
        self._ensure_workspace(4 * region, max(count, 1), bmax)
        cfg[CFG_ERR] = 0
        cfg[CFG_ERR_LAYER] = 0
        if avail == 0:
            return 0
        self.status.copy_to_device(np.array([0, 0, avail], dtype=np.int64))
        apply = bool(cfg[CFG_APPLY])
        t0 = int(cfg[CFG_T])
        for k in range(avail):
            p0 = start + k * B
            self._batch(k, p0, min(B, N - p0), hp, cfg, offs, region, apply, t0 + k + 1)
        P = self.dev["P"]
        if apply:
            K.sum_squares[1, K.TPB](P, P.shape[0], self._sq, 0)
        status = self.status.copy_to_host()
        self.loss_d[:avail].copy_to_host(out_loss[:avail])
        self.gn_d[:avail].copy_to_host(out_gn[:avail])
        done = int(status[2])
        cfg[CFG_ERR], cfg[CFG_ERR_LAYER] = int(status[0]), int(status[1])
        self.dirty.add("G")
        if apply:
            self.params_sq = float(self._sq.copy_to_host()[0])
            if done:
                cfg[CFG_T] = t0 + done
                self.dirty.update(("P", "S1", "S2"))
        return done

    def _batch(self, k: int, p0: int, n: int, hp: np.ndarray, cfg: np.ndarray,
               offs: np.ndarray, region: int, apply: bool, t: int) -> None:
        """Launch one mini-batch: gather, forward, loss, backward, norms, check, update."""
        layi, layf, L = self.layi, self.layf, self.L
        st, WS, P, G = self.status, self.WS, self.dev["P"], self.dev["G"]
        ZO, DAO, DZO = region, 2 * region, 3 * region
        tpb = K.TPB
        d0 = int(layi[0, UNITS])
        K.gather[K.blocks(n * d0), tpb](st, self.X, self.order, self.U, WS, p0, n, d0,
                                        layf[0, DROP], int(layi[0, UCOL]))
        self.rows.forward(st, WS, P, offs, ZO, n, True, self.U, p0, self.XS, self.IS, self.soffs)
        oL = int(offs[L])
        kout = int(layi[L, UNITS])
        loss_code, logits = int(cfg[CFG_LOSS]), bool(cfg[CFG_LOGITS])
        fused = fused_output(loss_code, logits, int(layi[L, ACT]))
        norm = loss_norm(loss_code, n, kout)
        K.loss_rows[K.blocks(n), tpb](st, loss_code, logits, fused, WS, ZO + oL, WS, oL, WS,
                                      DAO + oL, WS, DZO + oL, n, kout, self.Y, self.order, p0,
                                      norm, self.rowloss)
        K.loss_reduce[1, tpb](st, self.rowloss, n, norm, self.loss_d, k, L - 1)
        if not fused:
            code = int(layi[L, ACT])
            K.act_bwd[K.blocks(n if code == SOFTMAX else n * kout), tpb](
                st, code, layf[L, ALPHA], WS, ZO + oL, WS, oL, WS, DAO + oL, WS, DZO + oL, n,
                kout, self.dtype.type(0.0), self.U, 0, 0)
        self.rows.backward(st, WS, P, G, offs, ZO, DAO, DZO, n, self.U, p0, self.XS, self.IS,
                           self.soffs, int(cfg[CFG_REG]), hp[HP_REG])
        K.grad_norms[L, tpb](st, G, self.lw, self.gn_d, k)
        K.check_grads[1, 1](st, self.gn_d, k, L)
        if hp[HP_CLIP] > 0:     # clipping by global norm (the norms above stay those before)
            CR.clip_grads[K.blocks(G.shape[0]), tpb](st, self.gn_d, k, L, hp[HP_CLIP], G,
                                                     G.shape[0])
        if apply:
            self._update(int(cfg[CFG_OPT]), hp, t)

    def _update(self, code: int, hp: np.ndarray, t: int) -> None:
        d = self.dev
        _launch_update(self.status, code, hp, t, d["P"], d["G"], d["S1"], d["S2"])

    def optimizer_update(self, code: int, hp: np.ndarray, t: int) -> int:
        """Apply one update from the device's G (the stepper's last phase); the new count."""
        self.status.copy_to_device(np.zeros(3, dtype=np.int64))
        self._update(code, hp, t + 1)
        self.dirty.update(("P", "S1", "S2"))
        return t + 1

    # -- inference ---------------------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Eval-mode outputs for every row of x with the device's P (x_train and x_test are
        already there; other inputs are copied over). Only the outputs come back."""
        X = self._host_x.get(id(x))
        if X is None:
            X = _dev(np.ascontiguousarray(x, dtype=self.dtype))
        return _predict_device(X, x.shape[0], self.dev["P"], self.rows, self.dtype)


def _launch_update(status, code: int, hp: np.ndarray, t: int, P, G, S1, S2) -> None:
    """One optimizer launch over device arrays; t is this update's count (Adam's bias
    corrections, computed here in float64 as the cpu kernel does)."""
    dt = P.dtype.type
    b1, b2 = hp[HP_B1], hp[HP_B2]
    step = ic2 = dt(1.0)
    if code == ADAM:
        c1 = 1.0 - float(b1) ** t
        c2 = 1.0 - float(b2) ** t
        step, ic2 = dt(float(hp[HP_LR]) / c1), dt(1.0 / c2)
    n = P.shape[0]
    K.opt_update[K.blocks(n), K.TPB](status, code, P, G, S1, S2, n, hp[HP_LR], hp[HP_MU],
                                     hp[HP_EPS], hp[HP_RHO], b1, b2, dt(1.0) - b1, dt(1.0) - b2,
                                     step, ic2, dt(ADAM_FLUSH))


def _predict_device(X, N: int, P, rows: _Rows, dtype) -> np.ndarray:
    """Eval-mode outputs of the N rows of the device array X with the device's P."""
    layi, L = rows.layi, rows.L
    d0, kout = int(layi[0, UNITS]), int(layi[L, UNITS])
    out = cuda.device_array((max(N, 1), kout), dtype=dtype)
    bmax = max(1, min(N, PREDICT_ROWS if not rows.layered else PREDICT_ROWS_LAYERED))
    offs, region = region_offsets(layi, bmax)
    region = int(region)
    WS = cuda.device_array(2 * region, dtype=dtype)
    XS = IS = soffs = None
    if rows.layered:
        soffs, fsize, isize = scratch_offsets(layi, bmax)
        XS = cuda.device_array(max(int(fsize), 1), dtype=dtype)
        IS = cuda.device_array(max(int(isize), 1), dtype=np.int64)
    st = cuda.to_device(np.zeros(3, dtype=np.int64))
    U = cuda.to_device(np.zeros((1, 1), dtype=dtype))
    for p0 in range(0, N, bmax):
        n = min(bmax, N - p0)
        K.copy_rows[K.blocks(n * d0), K.TPB](X, p0, n, d0, WS, 0)
        rows.forward(st, WS, P, offs, region, n, False, U, 0, XS, IS, soffs)
        K.copy_out[K.blocks(n * kout), K.TPB](WS, int(offs[L]), n, kout, out, p0)
    return out.copy_to_host()[:N]


def bind(X: np.ndarray, Y: np.ndarray, P: np.ndarray, G: np.ndarray, S1: np.ndarray,
         S2: np.ndarray, layi: np.ndarray, layf: np.ndarray,
         X_test: np.ndarray | None = None) -> DeviceTrainer:
    """Put a trainer's arrays on the device (see `DeviceTrainer`)."""
    return DeviceTrainer(X, Y, P, G, S1, S2, layi, layf, X_test)


# -- the backend interface over host arrays --------------------------------------------------------
def train_batches(X, Y, order, P, G, S1, S2, hp, cfg, layi, layf, offs, U, WS, out_loss, out_gn) -> int:
    """`cpu.train_batches` with the same arguments: binds, runs on the device, and copies P,
    G, S1, S2 and the workspace back into the host arrays."""
    dev = DeviceTrainer(X, Y, P, G, S1, S2, layi, layf)
    done = dev.train_batches(order, U, hp, cfg, offs, out_loss, out_gn)
    dev.pull()
    dev.pull_workspace(WS)
    return done


def predict(X, P, layi, layf, offs, bmax, out) -> None:
    """`cpu.predict` with the same arguments (offs and bmax are the host's; the device uses
    its own row blocks)."""
    rows = _Rows(np.asarray(layi, dtype=np.int64), np.asarray(layf, dtype=P.dtype), P.dtype)
    out[:] = _predict_device(_dev(np.ascontiguousarray(X, dtype=P.dtype)), X.shape[0], _dev(P),
                             rows, P.dtype)


def train_batches_layered(X, Y, order, P, G, S1, S2, hp, cfg, layi, layf, offs, U, WS, out_loss,
                          out_gn, XS, soffs, IS) -> int:
    """`cpu_layers.train_batches_layered` with the same arguments (the device keeps its own
    scratch; XS, soffs and IS are the host's and stay untouched)."""
    return train_batches(X, Y, order, P, G, S1, S2, hp, cfg, layi, layf, offs, U, WS, out_loss,
                         out_gn)


def predict_layered(X, P, layi, layf, offs, bmax, out, XS, soffs, IS) -> None:
    """`cpu_layers.predict_layered` with the same arguments (the device's own scratch)."""
    predict(X, P, layi, layf, offs, bmax, out)


def optimizer_update(code, hp, t, P, G, S1, S2) -> int:
    """`cpu.optimizer_update` with the same arguments (host arrays updated in place)."""
    arrays = [_dev(a) for a in (P, G, S1, S2)]
    _launch_update(_status(), int(code), hp, int(t) + 1, *arrays)
    arrays[0].copy_to_host(P)
    arrays[2].copy_to_host(S1)
    arrays[3].copy_to_host(S2)
    return int(t) + 1


# -- one kernel on host arrays (tests) -------------------------------------------------------------
def _status():
    return cuda.to_device(np.zeros(3, dtype=np.int64))


def act_forward(code, alpha, z, a, rate=0.0, u=None, ucol=0) -> None:
    """a = f(z) for a (rows, units) block (dropout with the uniforms u when rate > 0)."""
    n, m = z.shape
    dt = z.dtype.type
    U = _dev(u if u is not None else np.zeros((1, 1), z.dtype))
    Z, A = _dev(z.ravel()), cuda.device_array(n * m, dtype=z.dtype)
    K.act_fwd[K.blocks(n if code == SOFTMAX else n * m), K.TPB](_status(), int(code), dt(alpha), Z, 0,
                                                          A, 0, n, m, dt(rate), U, 0, int(ucol))
    a[...] = A.copy_to_host().reshape(n, m)


def act_backward(code, alpha, z, a, da, mask_rate, u, ucol, dz) -> None:
    """`cpu.act_backward`: dz = dL/da ⊙ f′(z) for (rows, units) blocks."""
    n, m = z.shape
    dt = z.dtype.type
    D = cuda.device_array(n * m, dtype=z.dtype)
    K.act_bwd[K.blocks(n if code == SOFTMAX else n * m), K.TPB](
        _status(), int(code), dt(alpha), _dev(z.ravel()), 0, _dev(a.ravel()), 0, _dev(da.ravel()),
        0, D, 0, n, m, dt(mask_rate), _dev(u), 0, int(ucol))
    dz[...] = D.copy_to_host().reshape(n, m)


def loss_and_delta(loss_code, from_logits, out_act, z, a, Y, order, p0, da, dz):
    """`cpu.loss_and_delta`: (batch loss, fused) and dL/da, dL/dz (fused) for (rows, k)."""
    n, k = a.shape
    fused = fused_output(int(loss_code), bool(from_logits), int(out_act))
    norm = loss_norm(int(loss_code), n, k)
    st = _status()
    DA, DZ = _dev(da.ravel()), _dev(dz.ravel())
    rows = cuda.device_array(n, dtype=np.float64)
    out = cuda.device_array(1, dtype=np.float64)
    K.loss_rows[K.blocks(n), K.TPB](st, int(loss_code), bool(from_logits), fused, _dev(z.ravel()),
                                    0, _dev(a.ravel()), 0, DA, 0, DZ, 0, n, k, _dev(Y),
                                    _dev(np.asarray(order, dtype=np.int64)), int(p0), norm, rows)
    K.loss_reduce[1, K.TPB](st, rows, n, norm, out, 0, 0)
    da[...] = DA.copy_to_host().reshape(n, k)
    dz[...] = DZ.copy_to_host().reshape(n, k)
    return float(out.copy_to_host()[0]), fused


def matmul(a, w, b=None) -> np.ndarray:
    """a @ w (+ b) through the forward product kernel."""
    n, k = a.shape
    m = w.shape[1]
    P = np.concatenate([w.ravel(), b if b is not None else np.zeros(m, w.dtype)]).astype(w.dtype)
    Z = cuda.device_array(n * m, dtype=w.dtype)
    grid, block = K.tiles(n, m)
    products(w.dtype)[0][grid, block](_status(), _dev(a.ravel()), 0, _dev(P), 0, _dev(P), k * m,
                                      int(b is not None), Z, 0, n, k, m)
    return Z.copy_to_host().reshape(n, m)


def matmul_tn(a, d, reg_code=0, reg=0.0, w=None) -> np.ndarray:
    """aᵀ @ d plus the penalty gradient of the weights w (dL/dW)."""
    n, k = a.shape
    m = d.shape[1]
    W = w if w is not None else np.zeros((k, m), d.dtype)
    G = cuda.device_array(k * m, dtype=d.dtype)
    grid, block = K.tiles(k, m)
    products(d.dtype)[1][grid, block](_status(), _dev(a.ravel()), 0, _dev(d.ravel()), 0, G, 0,
                                      n, k, m, int(reg_code), d.dtype.type(reg), _dev(W.ravel()))
    return G.copy_to_host().reshape(k, m)


def matmul_nt_act(d, w, code, alpha, z, a, mask_rate=0.0, u=None, ucol=0):
    """(dA, dZ): dA = d @ wᵀ, then dZ = dA ⊙ f′(z) with the dropout mask of u."""
    n, m = d.shape
    k = w.shape[0]
    dt = d.dtype.type
    DA = cuda.device_array(n * k, dtype=d.dtype)
    DZ = cuda.device_array(n * k, dtype=d.dtype)
    U = _dev(u if u is not None else np.zeros((1, 1), d.dtype))
    grid, block = K.tiles(n, k)
    products(d.dtype)[2][grid, block](_status(), _dev(d.ravel()), 0, _dev(w.ravel()), 0, DA, 0,
                                      n, m, k, int(code), dt(alpha), _dev(z.ravel()), 0,
                                      _dev(a.ravel()), 0, DZ, 0, dt(mask_rate), U, 0, int(ucol))
    return DA.copy_to_host().reshape(n, k), DZ.copy_to_host().reshape(n, k)


def bias_grad(d, hasb=True) -> np.ndarray:
    """Σ over rows of d (dL/db)."""
    n, m = d.shape
    G = cuda.device_array(m, dtype=d.dtype)
    K.bias_grad[K.blocks(m), K.TPB](_status(), _dev(d.ravel()), 0, n, m, G, 0, int(hasb))
    return G.copy_to_host()


def grad_norms(G, layi) -> np.ndarray:
    """Per-layer ‖(dW, db)‖ of the flat gradient G."""
    L = layi.shape[0] - 1
    out = cuda.device_array((1, L), dtype=np.float64)
    K.grad_norms[L, K.TPB](_status(), _dev(G), _dev(_layer_table(layi)), out, 0)
    return out.copy_to_host()[0]


def gather(X, order, U, p0, n, rate0, c0) -> np.ndarray:
    """The gathered (and input-dropped) block of n rows."""
    d0 = X.shape[1]
    WS = cuda.device_array(n * d0, dtype=X.dtype)
    K.gather[K.blocks(n * d0), K.TPB](_status(), _dev(X), _dev(np.asarray(order, np.int64)),
                                      _dev(U), WS, int(p0), n, d0, X.dtype.type(rate0), int(c0))
    return WS.copy_to_host().reshape(n, d0)
