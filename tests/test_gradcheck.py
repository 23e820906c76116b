"""The engine's backward pass (Numba kernel) against finite differences, on many networks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nnsim.engine import Dense, Dropout, Network, Trainer, activations
from nnsim.engine.gradcheck import gradient_check
from nnsim.kernels import catalogue, npmath, reference

HIDDEN = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu"]
HEADS = [("mse", "linear", False), ("sse", "tanh", False), ("mae", "linear", False),
         ("binary_crossentropy", "sigmoid", False), ("binary_crossentropy", "linear", True),
         ("categorical_crossentropy", "softmax", False), ("categorical_crossentropy", "linear", True),
         ("sparse_categorical_crossentropy", "softmax", False),
         ("sparse_categorical_crossentropy", "linear", True)]


def _targets(loss: str, k: int, n: int, rng) -> np.ndarray:
    if "crossentropy" in loss:
        return rng.integers(0, max(k, 2), n)
    return rng.normal(0, 1, (n, k))


@pytest.mark.parametrize("loss,out_act,logits", HEADS)
@pytest.mark.parametrize("reg", ["none", "l1", "l2"])
def test_multilayer_gradients(loss, out_act, logits, reg, rng) -> None:
    k = 1 if loss == "binary_crossentropy" else 3
    x = rng.normal(0, 1, (20, 4))
    net = Network(4, [Dense(5, "tanh"), Dropout(0.3), Dense(4, "elu"), Dense(k, out_act)], seed=3)
    tr = Trainer(net, x, _targets(loss, k, 20, rng), loss=loss, from_logits=logits,
                 regularization=reg, regularization_rate=0.05)
    rows = gradient_check(tr)
    assert len(rows) == 6
    for row in rows:
        assert row.rel_error < 1e-6, row


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(widths=st.lists(st.integers(1, 7), min_size=0, max_size=4),
       acts=st.lists(st.sampled_from(HIDDEN), min_size=4, max_size=4),
       head=st.sampled_from(HEADS), n_in=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_random_architectures(widths, acts, head, n_in, seed) -> None:
    loss, out_act, logits = head
    rng = np.random.default_rng(seed)
    k = 1 if loss == "binary_crossentropy" else 3
    layers = [Dense(w, a, init="glorot_normal") for w, a in zip(widths, acts)]
    layers.append(Dense(k, out_act))
    net = Network(n_in, layers, seed=seed)
    x = rng.normal(0, 1, (12, n_in))
    tr = Trainer(net, x, _targets(loss, k, 12, rng), loss=loss, from_logits=logits)
    # relu and leaky relu have a kink at 0: finite differences across it are meaningless
    ps = reference.forward(x, net.P.astype(np.float64), net.layi, net.layf64)
    for layer, z in zip(net.dense, ps.z[1:]):
        if layer.activation in ("relu", "leaky_relu"):
            assume(np.abs(z).min() > 1e-4)
    for row in gradient_check(tr, h=1e-6):
        if row.max_abs_diff < 1e-9:  # both ~0 (e.g. a dead relu): nothing to compare
            continue
        assert row.rel_error < 1e-6, (row, widths, acts, head)


def test_gradcheck_detects_a_wrong_gradient(rng, monkeypatch) -> None:
    """The check must be able to fail: break tanh's derivative and it reports a large error."""
    x = rng.normal(0, 1, (10, 2))
    net = Network(2, [Dense(3, "tanh"), Dense(1)], seed=0)
    tr = Trainer(net, x, rng.normal(0, 1, (10, 1)), loss="mse", backend="reference")
    # the reference backend's f′ for tanh (the engine's registry hands out the same function)
    monkeypatch.setitem(npmath.ACT_GRAD, catalogue.TANH, lambda z, a, al: 1.0 - a)
    rows = gradient_check(tr)
    assert max(r.rel_error for r in rows) > 1e-3
