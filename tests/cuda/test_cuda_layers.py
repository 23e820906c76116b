"""Conv, pool and flatten on the cuda backend (simulator) against `cpu_layers`: im2col, col2im,
pool forward and backward kernel by kernel, then whole CNN runs (a tiny one with dropout, one
with strides and average pooling, and the LeNet digits lesson for a few batches)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import cuda as nb_cuda
from test_cuda_training import _close, _weights_close  # noqa: E402 (tests/cuda is on sys.path)

from nnsim.engine import AvgPool2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D, Network, Trainer
from nnsim.kernels import catalogue as cat
from nnsim.kernels import cpu_layers, cpu_pool
from nnsim.kernels import cuda_dense as K
from nnsim.kernels import cuda_layers as CL
from nnsim.scenarios import load_scenario
from nnsim.scenarios.build import build_session

GEOMETRIES = [  # (input C, H, W), the conv or pool layer
    ((2, 5, 4), Conv2D(2, kernel_size=3, padding="same")),
    ((1, 6, 7), Conv2D(1, kernel_size=(3, 2), stride=2)),
    ((2, 4, 4), MaxPool2D(2)),
    ((1, 5, 5), MaxPool2D(3, stride=1)),          # overlapping windows
    ((2, 4, 6), AvgPool2D(2)),
]


def _row(shape, layer):
    net = Network(int(np.prod(shape)), [layer, Flatten(), Dense(1)], input_shape=shape, seed=0)
    return net.layi, 1


def _geo(layi, r, n):
    return (n,) + tuple(int(layi[r, c]) for c in (cat.C_IN, cat.H_IN, cat.W_IN, cat.KH, cat.KW,
                                                  cat.SH, cat.SW, cat.PH, cat.PW, cat.H_OUT,
                                                  cat.W_OUT))


def _st():
    return nb_cuda.to_device(np.zeros(3, dtype=np.int64))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("case", [g for g in GEOMETRIES if isinstance(g[1], Conv2D)],
                         ids=["same", "stride2"])
def test_im2col_and_col2im(dt, case, rng):
    shape, layer = case
    layi, r = _row(shape, layer)
    n = 2
    geo = _geo(layi, r, n)
    K_ = int(layi[r, cat.FAN_IN])
    NP = n * int(layi[r, cat.H_OUT] * layi[r, cat.W_OUT])
    A = rng.normal(size=n * int(np.prod(shape))).astype(dt)
    want = np.zeros(K_ * NP, dtype=dt)
    cpu_layers._im2col(A, 0, n, layi, r, want, 0)
    X = nb_cuda.to_device(np.zeros(K_ * NP, dtype=dt))
    CL.im2col[K.blocks(K_ * NP), K.TPB](_st(), nb_cuda.to_device(A), 0, X, 0, *geo)
    np.testing.assert_array_equal(X.copy_to_host(), want)
    D = rng.normal(size=K_ * NP).astype(dt)
    want = np.zeros(A.size, dtype=dt)
    cpu_layers._col2im(D, 0, n, layi, r, want, 0)
    got = nb_cuda.to_device(np.zeros(A.size, dtype=dt))
    CL.col2im[K.blocks(A.size), K.TPB](_st(), nb_cuda.to_device(D), 0, got, 0, *geo)
    np.testing.assert_array_equal(got.copy_to_host(), want)   # same sums in the same order


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("case", [g for g in GEOMETRIES if not isinstance(g[1], Conv2D)],
                         ids=["max", "max-overlapping", "avg"])
def test_pool_forward_and_backward(dt, case, rng):
    shape, layer = case
    layi, r = _row(shape, layer)
    n = 2
    geo = _geo(layi, r, n)
    kind = int(layi[r, cat.KIND])
    size_in = n * int(np.prod(shape))
    size_out = n * int(layi[r, cat.UNITS])
    A = np.round(rng.normal(size=size_in), 1).astype(dt)     # rounded: ties in the windows
    ws = np.zeros(size_in + 2 * size_out + size_in, dtype=dt)
    ws[:size_in] = A
    IS = np.zeros(size_out, dtype=np.int64)
    cpu_pool._pool_forward(layi, r, ws, 0, size_in, n, IS, 0)
    Z = nb_cuda.to_device(np.zeros(size_out, dtype=dt))
    ISd = nb_cuda.to_device(np.zeros(size_out, dtype=np.int64))
    CL.pool_fwd[K.blocks(size_out), K.TPB](_st(), kind, nb_cuda.to_device(A), 0, Z, 0, ISd, 0,
                                           *geo[:8], *geo[10:])
    np.testing.assert_array_equal(Z.copy_to_host(), ws[size_in:size_in + size_out])
    if kind == cat.MAXPOOL2D:
        np.testing.assert_array_equal(ISd.copy_to_host(), IS)
    dz = rng.normal(size=size_out).astype(dt)
    dzo, dai = size_in + size_out, size_in + 2 * size_out
    ws[dzo:dzo + size_out] = dz
    cpu_pool._pool_backward(layi, r, ws, dzo, dai, n, IS, 0)
    DA = nb_cuda.to_device(np.zeros(size_in, dtype=dt))
    CL.pool_bwd[K.blocks(size_in), K.TPB](_st(), kind, nb_cuda.to_device(dz), 0, DA, 0, ISd, 0,
                                          *geo[:8], *geo[10:])
    np.testing.assert_array_equal(DA.copy_to_host(), ws[dai:dai + size_in])


@pytest.fixture
def roomier(monkeypatch):
    """Whole CNN runs: 16 threads per block and 4 × 4 tiles (the simulator pays per block and
    per thread; these shapes still run several blocks per launch, partial ones included)."""
    monkeypatch.setattr(K, "TPB", 16)
    monkeypatch.setattr(K, "TILE", 4)


def _cnn_pair(dtype: str, layers_fn, shape, n: int = 10, k: int = 3, **kw):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(n, int(np.prod(shape))))
    y = rng.integers(0, k, n)

    def one(backend: str) -> Trainer:
        net = Network(x.shape[1], layers_fn(), dtype=dtype, seed=2, input_shape=shape)
        return Trainer(net, x[:n - 2], y[:n - 2], x[n - 2:], y[n - 2:],
                       loss="sparse_categorical_crossentropy", optimizer="adam",
                       learning_rate=0.02, batch_size=3, seed=4, backend=backend, **kw)
    return one("cpu"), one("cuda")


def _tiny():
    return [Conv2D(2, kernel_size=3, padding="same", activation="relu"), MaxPool2D(2),
            Flatten(), Dropout(0.2), Dense(3, activation="softmax")]


def _strided():
    return [Conv2D(2, kernel_size=3, stride=2, activation="tanh"), AvgPool2D(1), Flatten(),
            Dense(4, activation="elu"), Dense(3, activation="softmax")]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_tiny_cnn_trains_the_same(dtype, roomier):
    """conv (same, relu) → max pool → flatten → dropout → softmax: an epoch with a partial
    batch, its record (predicted on the device), a traced step."""
    a, b = _cnn_pair(dtype, _tiny, (1, 4, 4))
    for _ in range(1):
        ra, rb = a.step_epoch(), b.step_epoch()
        _close(rb.test_loss, ra.test_loss, dtype)
        _close(rb.grad_norms, ra.grad_norms, dtype)
    _close(b.history.batch_loss, a.history.batch_loss, dtype)
    _weights_close(a.net, b.net, dtype)
    _, ta, _ = a.step_batch(trace=True)
    _, tb, _ = b.step_batch(trace=True)
    for la, lb in zip(ta.layers, tb.layers):
        for name in ("z", "a", "dA", "dZ"):
            _close(getattr(lb, name), getattr(la, name), dtype)


def test_strides_average_pooling_and_l2(roomier):
    a, b = _cnn_pair("float64", _strided, (1, 5, 5), regularization="l2",
                     regularization_rate=0.01)
    _close(b.play(2)[0], a.play(2)[0], "float64")
    _weights_close(a.net, b.net, "float64")


def test_the_lenet_digits_lesson_for_a_few_batches(roomier):
    """45-convolutional-network-lenet (conv 8 → max pool → conv 16 → max pool → flatten →
    softmax on 8×8 digits), mini-batches of 2, two of them, float32."""
    scenario = load_scenario("scenarios/45-convolutional-network-lenet.toml")
    scenario = scenario.model_copy(update={"training": scenario.training.model_copy(
        update={"batch_size": 2})})
    a = build_session(scenario, backend="cpu").trainer
    b = build_session(scenario, backend="cuda").trainer
    assert b.net.layered and b.backend_name == "cuda"
    _close(b.play(2)[0], a.play(2)[0], "float32")
    _weights_close(a.net, b.net, "float32")
