"""Every activation and loss: analytic derivative vs central finite differences (float64),
and the Numba kernels vs the NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.engine import activations, losses
from nnsim.kernels import cpu

H = 1e-6


def fd_jvp(f, z: np.ndarray, da: np.ndarray) -> np.ndarray:
    """Numerical dL/dz for L = Σ da·f(z)."""
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += H
        zm[idx] -= H
        g[idx] = (np.sum(da * f(zp)) - np.sum(da * f(zm))) / (2 * H)
    return g


@pytest.mark.parametrize("name", activations.names())
def test_activation_derivative_matches_finite_differences(name: str, rng) -> None:
    act = activations.get(name)
    z = rng.normal(0, 2, (5, 4))
    z[np.abs(z) < 1e-3] = 0.5  # keep away from relu's kink
    da = rng.normal(0, 1, z.shape)
    a = act.fn(z, act.default_alpha)
    analytic = act.backward(z, a, da)
    numeric = fd_jvp(lambda t: act.fn(t, act.default_alpha), z, da)
    rel = np.linalg.norm(analytic - numeric) / (np.linalg.norm(analytic) + np.linalg.norm(numeric))
    assert rel < 1e-6


@pytest.mark.parametrize("name", activations.names())
def test_activation_kernels_match_reference(name: str, rng) -> None:
    act = activations.get(name)
    z = rng.normal(0, 3, (7, 5))
    a = np.empty_like(z)
    cpu.act_forward(act.code, 0.2, z, a)
    np.testing.assert_allclose(a, act.fn(z, 0.2), rtol=1e-12, atol=1e-14)
    da = rng.normal(0, 1, z.shape)
    dz = np.empty_like(z)
    cpu.act_backward(act.code, 0.2, z, a, da, 0.0, np.zeros((0, 0)), 0, dz)
    np.testing.assert_allclose(dz, act.backward(z, a, da, 0.2), rtol=1e-10, atol=1e-14)


def test_activation_values_known_points() -> None:
    z = np.array([[-1.0, 0.0, 2.0]])
    assert np.allclose(activations.get("sigmoid").fn(z, 0), 1 / (1 + np.exp(-z)))
    assert np.allclose(activations.get("relu").fn(z, 0), [[0, 0, 2]])
    assert np.allclose(activations.get("leaky_relu").fn(z, 0.1), [[-0.1, 0, 2]])
    assert np.allclose(activations.get("elu").fn(z, 1.0), [[np.exp(-1) - 1, 0, 2]])
    sm = activations.get("softmax").fn(z, 0)
    assert np.isclose(sm.sum(), 1.0) and np.argmax(sm) == 2


def _targets(name: str, rng, shape):
    if name in ("binary_crossentropy",):
        return rng.integers(0, 2, shape).astype(float)
    if name == "categorical_crossentropy":
        return np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]
    if name == "sparse_categorical_crossentropy":
        return rng.integers(0, shape[1], (shape[0], 1)).astype(float)
    return rng.normal(0, 1, shape)


def _outputs(name: str, logits: bool, rng, shape):
    if logits or name in ("mse", "sse", "mae"):
        o = rng.normal(0, 1.5, shape)
        if name == "mae":
            o[np.abs(o) < 1e-3] += 0.1
        return o
    if name == "binary_crossentropy":
        return rng.uniform(0.05, 0.95, shape)
    return activations.get("softmax").fn(rng.normal(0, 1, shape), 0)


LOSS_CASES = [(n, lg) for n in losses.names() for lg in (False, True)
              if lg is False or "crossentropy" in n]


@pytest.mark.parametrize("name,logits", LOSS_CASES)
def test_loss_gradient_matches_finite_differences(name: str, logits: bool, rng) -> None:
    loss = losses.get(name)
    shape = (6, 3) if "categorical" in name else (6, 2)
    y = _targets(name, rng, shape)
    o = _outputs(name, logits, rng, shape)
    analytic = loss.gradient(o, y, logits)
    numeric = np.zeros_like(o)
    for idx in np.ndindex(o.shape):
        op, om = o.copy(), o.copy()
        op[idx] += H
        om[idx] -= H
        numeric[idx] = (loss.value(op, y, logits) - loss.value(om, y, logits)) / (2 * H)
    rel = np.linalg.norm(analytic - numeric) / (np.linalg.norm(analytic) + np.linalg.norm(numeric))
    assert rel < 1e-6


def test_loss_definitions() -> None:
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    o = np.array([[1.5, 2.0], [2.0, 4.0]])
    assert np.isclose(losses.get("mse").value(o, y), (0.25 + 1.0) / 4)
    assert np.isclose(losses.get("sse").value(o, y), 0.5 * (0.25 + 1.0))
    assert np.isclose(losses.get("mae").value(o, y), 1.5 / 4)
    p = np.array([[0.9, 0.1]])
    assert np.isclose(losses.get("categorical_crossentropy").value(p, np.array([[1.0, 0.0]])), -np.log(0.9))
    z = np.array([[0.0] * 10])
    assert np.isclose(losses.get("sparse_categorical_crossentropy").value(z, np.array([[3.0]]), True),
                      np.log(10))


KERNEL_CASES = [(n, lg, act) for n, lg in LOSS_CASES for act in ("linear", "sigmoid", "softmax")
                if not lg or act == "linear"]  # from_logits is only valid with a linear output


@pytest.mark.parametrize("name,logits,out_act", KERNEL_CASES)
def test_loss_kernel_matches_reference(name: str, logits: bool, out_act: str, rng) -> None:
    loss = losses.get(name)
    shape = (6, 3) if "categorical" in name else (6, 2)
    y = _targets(name, rng, shape)
    z = rng.normal(0, 1, shape)
    act = activations.get(out_act)
    a = act.fn(z, 0)
    da = np.zeros_like(z)
    dz = np.zeros_like(z)
    order = np.arange(shape[0], dtype=np.int64)
    value, fused = cpu.loss_and_delta(loss.code, logits, act.code, z, a, y, order, 0, da, dz)
    out = z if logits else a
    assert np.isclose(value, loss.value(out, y, logits), rtol=1e-12)
    np.testing.assert_allclose(da, loss.gradient(out, y, logits), rtol=1e-9, atol=1e-12)
    # Cross-entropy on logits, or with its own link (sigmoid for binary, softmax for
    # categorical), takes the fused rule dL/dz = (p − y)/norm, p = link(z); worked out here.
    binary = name == "binary_crossentropy"
    link = "sigmoid" if binary else "softmax"
    assert fused == ("crossentropy" in name and (logits or out_act == link))
    if fused:
        if binary:
            p, norm = 1.0 / (1.0 + np.exp(-z)), z.size             # mean over samples and outputs
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p, norm = e / e.sum(axis=1, keepdims=True), z.shape[0]  # mean over samples
        onehot = np.eye(shape[1])[y[:, 0].astype(int)] if "sparse" in name else y
        np.testing.assert_allclose(dz, (p - onehot) / norm, rtol=1e-9, atol=1e-12)
        if not logits:  # and it equals the chain rule through the output activation
            chain = act.backward(z, a, loss.gradient(out, y, logits))
            np.testing.assert_allclose(dz, chain, rtol=1e-7, atol=1e-10)
