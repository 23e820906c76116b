"""Every CUDA kernel against the CPU kernel (or the CPU loop it replaces), under the simulator.

Shapes are tiny and launches small (conftest: 4 threads per block, 2 × 2 tiles), so each kernel
runs several blocks with a partial last one. Where the two backends compute the same
expression in the same order the results are compared exactly; transcendental functions and
sums whose order differs are compared to a few ulp.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.kernels import catalogue as cat
from nnsim.kernels import cpu, cuda, npmath

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-6, atol=1e-6), np.float64: dict(rtol=1e-14, atol=1e-15)}
ELEMENTWISE = [cat.LINEAR, cat.SIGMOID, cat.TANH, cat.RELU, cat.LEAKY_RELU, cat.ELU]
EXACT_FWD = {cat.LINEAR, cat.RELU, cat.LEAKY_RELU}


def _close(a, b, dt):
    np.testing.assert_allclose(a, b, **TOL[dt])


@pytest.mark.parametrize("dt", DTYPES)
def test_activations_forward(dt, rng):
    z = (rng.normal(size=(5, 3)) * 3).astype(dt)
    z[0, 0], z[1, 1] = 0.0, 1e-5           # tanh's small-argument branch; exact zero
    for code in ELEMENTWISE + [cat.SOFTMAX]:
        want, got = np.zeros_like(z), np.zeros_like(z)
        cpu.act_forward(code, dt(0.1), z, want)
        cuda.act_forward(code, 0.1, z, got)
        if code in EXACT_FWD:
            np.testing.assert_array_equal(got, want, err_msg=f"activation {code}")
        else:
            _close(got, want, dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_activation_forward_dropout_mask(dt, rng):
    """The dropout mask comes from the same uniforms, so exactly the same units are dropped;
    kept ones are scaled by 1/(1 − rate) (in float64 compiled, as on the CPU; the simulator
    runs NumPy scalar arithmetic, which keeps float32 — hence a tolerance on the values)."""
    z = rng.normal(size=(5, 3)).astype(dt)
    u = rng.random((7, 6)).astype(dt)
    rate = dt(0.4)
    got = np.zeros_like(z)
    cuda.act_forward(cat.RELU, 0.0, z, got, rate=rate, u=u[:5], ucol=2)
    a = np.maximum(z, 0)
    dropped = u[:5, 2:5] < rate
    want = np.where(dropped, 0.0, a.astype(np.float64) * (1.0 / (1.0 - float(rate))))
    assert np.all(got[dropped] == 0) and np.all(got[~dropped & (a > 0)] > 0)
    assert dropped.any() and (~dropped & (a > 0)).any()
    _close(got, want, dt)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("mask_rate", [0.0, 0.3])
def test_activations_backward(dt, mask_rate, rng):
    n, m = 5, 3
    z = (rng.normal(size=(n, m)) * 2).astype(dt)
    da = rng.normal(size=(n, m)).astype(dt)
    u = rng.random((n, m + 2)).astype(dt)
    for code in ELEMENTWISE + ([cat.SOFTMAX] if mask_rate == 0 else []):
        a = np.zeros_like(z)
        cpu.act_forward(code, dt(0.2), z, a)
        if mask_rate:
            a = np.where(u[:, 1:1 + m] < mask_rate, 0, a / (1 - mask_rate)).astype(dt)
        want, got = np.zeros_like(z), np.zeros_like(z)
        cpu.act_backward(code, dt(0.2), z, a, da, dt(mask_rate), u, 1, want)
        cuda.act_backward(code, 0.2, z, a, da, mask_rate, u, 1, got)
        _close(got, want, dt)
        if code in (cat.RELU, cat.LINEAR):
            np.testing.assert_array_equal(got, want)


LOSS_CASES = [  # (loss, from_logits, output activation, outputs)
    (cat.MSE, False, cat.LINEAR, 2), (cat.MSE, False, cat.SOFTMAX, 3),
    (cat.SSE, False, cat.TANH, 1), (cat.MAE, False, cat.LINEAR, 2),
    (cat.BCE, False, cat.SIGMOID, 1), (cat.BCE, True, cat.LINEAR, 1),
    (cat.BCE, False, cat.TANH, 1),
    (cat.CCE, False, cat.SOFTMAX, 3), (cat.CCE, True, cat.LINEAR, 3),
    (cat.SPARSE_CCE, False, cat.SOFTMAX, 3), (cat.SPARSE_CCE, True, cat.LINEAR, 3),
]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("case", LOSS_CASES, ids=lambda c: f"loss{c[0]}-logits{int(c[1])}-act{c[2]}")
def test_loss_and_gradient(dt, case, rng):
    loss, logits, act, k = case
    n, N = 5, 9
    z = (rng.normal(size=(n, k)) * 2).astype(dt)
    a = np.zeros_like(z)
    cpu.act_forward(act, dt(0.0), z, a)
    if loss in (cat.BCE,) and act == cat.TANH:
        a = np.clip(a, 0, 1).astype(dt)      # clipped probabilities, the `inside` mask at 0
    if loss == cat.SPARSE_CCE:
        Y = rng.integers(0, k, size=(N, 1)).astype(np.float64)
    elif loss in (cat.CCE,):
        Y = np.eye(k)[rng.integers(0, k, size=N)]
    elif loss == cat.BCE:
        Y = (rng.random((N, k)) > 0.5).astype(np.float64)
    else:
        Y = rng.normal(size=(N, k))
    order = rng.permutation(N).astype(np.int64)
    out = []
    for backend in (cpu, cuda):
        da, dz = np.zeros_like(z), np.zeros_like(z)
        value, fused = backend.loss_and_delta(loss, logits, act, z, a, Y, order, 3, da, dz)
        out.append((value, fused, da, dz))
    (v1, f1, da1, dz1), (v2, f2, da2, dz2) = out
    assert f1 == f2 == cat.fused_output(loss, logits, act)
    np.testing.assert_allclose(v2, v1, rtol=1e-6 if dt is np.float32 else 1e-14)
    _close(da2, da1, dt)
    if f1:
        _close(dz2, dz1, dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_products(dt, rng):
    n, k, m = 5, 3, 5                      # 5 = two full 2-wide tiles and a partial one
    a = rng.normal(size=(n, k)).astype(dt)
    w = rng.normal(size=(k, m)).astype(dt)
    b = rng.normal(size=m).astype(dt)
    _close(cuda.matmul(a, w, b), (a.astype(np.float64) @ w + b), dt)
    _close(cuda.matmul(a, w), (a.astype(np.float64) @ w), dt)
    d = rng.normal(size=(n, m)).astype(dt)
    for reg_code, reg in ((cat.REG_NONE, 0.0), (cat.REG_L1, 0.03), (cat.REG_L2, 0.05)):
        want = a.astype(np.float64).T @ d + npmath.penalty_gradient(reg_code, reg, w.astype(np.float64))
        _close(cuda.matmul_tn(a, d, reg_code, reg, w), want, dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_backward_product_and_activation(dt, rng):
    """dL/da_{l−1} = dL/dz · Wᵀ, and in the same thread dL/dz_{l−1} as `cpu.act_backward`."""
    n, m, k = 5, 3, 5
    d = rng.normal(size=(n, m)).astype(dt)
    w = rng.normal(size=(k, m)).astype(dt)
    z = rng.normal(size=(n, k)).astype(dt)
    u = rng.random((n, k)).astype(dt)
    for code in ELEMENTWISE:
        for rate in (0.0, 0.25):
            a = np.zeros_like(z)
            cpu.act_forward(code, dt(0.1), z, a)
            if rate:
                a = np.where(u < rate, 0, a / (1 - rate)).astype(dt)
            da, dz = cuda.matmul_nt_act(d, w, code, 0.1, z, a, rate, u, 0)
            _close(da, d.astype(np.float64) @ w.T, dt)
            want = np.zeros_like(z)
            cpu.act_backward(code, dt(0.1), z, a, da, dt(rate), u, 0, want)
            _close(dz, want, dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_bias_gradient_and_norms(dt, rng):
    d = rng.normal(size=(7, 5)).astype(dt)
    want = np.zeros(5, dtype=dt)
    for row in d:                 # the CPU loop: row by row in the parameters' dtype
        want += row
    np.testing.assert_array_equal(cuda.bias_grad(d), want)
    np.testing.assert_array_equal(cuda.bias_grad(d, hasb=False), np.zeros(5, dtype=dt))
    layi = np.zeros((3, cat.LAYI_COLS), dtype=np.int64)
    layi[:, cat.UNITS] = (3, 4, 2)
    layi[1:, cat.KIND] = cat.DENSE
    layi[1, [cat.FAN_IN, cat.WOFF, cat.BOFF]] = (3, 0, 12)
    layi[2, [cat.FAN_IN, cat.WOFF, cat.BOFF]] = (4, 16, 24)
    G = rng.normal(size=26).astype(dt)
    got = cuda.grad_norms(G, layi)
    g = G.astype(np.float64)
    np.testing.assert_allclose(got, [np.sqrt((g[:16] ** 2).sum()), np.sqrt((g[16:] ** 2).sum())],
                               rtol=1e-14)


@pytest.mark.parametrize("dt", DTYPES)
def test_gather_with_input_dropout(dt, rng):
    X = rng.normal(size=(9, 3)).astype(dt)
    U = rng.random((9, 5)).astype(dt)
    order = rng.permutation(9)
    rate = dt(0.3)
    got = cuda.gather(X, order, U, 2, 5, rate, 1)
    x = X[order[2:7]].astype(np.float64)
    dropped = U[2:7, 1:4] < rate
    want = np.where(dropped, 0.0, x / (1.0 - float(rate)))
    assert dropped.any() and np.all(got[dropped] == 0) and np.all(got[~dropped] != 0)
    _close(got, want, dt)
    np.testing.assert_array_equal(cuda.gather(X, order, U, 0, 4, 0.0, 0), X[order[:4]])


OPTIMIZER_HP = {cat.SGD: {}, cat.MOMENTUM: {cat.HP_MU: 0.9}, cat.NESTEROV: {cat.HP_MU: 0.8},
                cat.ADAGRAD: {cat.HP_EPS: 1e-7}, cat.RMSPROP: {cat.HP_RHO: 0.9, cat.HP_EPS: 1e-7},
                cat.ADAM: {cat.HP_B1: 0.9, cat.HP_B2: 0.999, cat.HP_EPS: 1e-7}}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("code", sorted(OPTIMIZER_HP))
def test_optimizer_updates(dt, code, rng):
    hp = np.zeros(cat.HP_SIZE, dtype=dt)
    hp[cat.HP_LR] = 0.05
    for i, v in OPTIMIZER_HP[code].items():
        hp[i] = v
    P = rng.normal(size=9).astype(dt)
    S1 = (np.full(9, 0.1) if code == cat.ADAGRAD else np.abs(rng.normal(size=9)) * 0.01).astype(dt)
    S2 = np.abs(rng.normal(size=9) * 0.01).astype(dt)
    a = [P.copy(), S1.copy(), S2.copy()]
    b = [P.copy(), S1.copy(), S2.copy()]
    ta = tb = 0
    for _ in range(3):
        G = rng.normal(size=9).astype(dt)
        ta = cpu.optimizer_update(code, hp, ta, a[0], G, a[1], a[2])
        tb = cuda.optimizer_update(code, hp, tb, b[0], G, b[1], b[2])
    assert ta == tb == 3
    for x, y in zip(a, b):
        _close(y, x, dt)
    if code == cat.SGD:
        np.testing.assert_array_equal(b[0], a[0])
