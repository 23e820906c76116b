"""The engine's backward pass (Numba kernel) against finite differences, on many networks."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from nnsim.engine import Dense, Dropout, Network, Trainer
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


# -- per-entry check with a tolerance derived from float64 noise --------------------------------
#
# Let L̂(w) = L(w) + δ(w) be the loss as computed in float64, with |δ| ≤ ρ·max(|L|, 1) and
# ρ = C_ROUND·ε (below). (max(·, 1): where L ≈ 0 the intermediate values are still O(1), and
# their absolute rounding errors do not shrink with L.) The central difference with step h is
#
#     D(h) = (L̂(w + h) − L̂(w − h)) / 2h = L′(w) + (h²/6)·L‴(ξ) + (δ₊ − δ₋)/2h,
#
# so |D(h) − L′| ≤ (h²/6)·|L‴| + ρ·max(|L|, 1)/h: rounding grows as h shrinks, truncation as h
# grows. The truncation term is measured, not guessed, from a second difference with step 2h:
# D(2h) − D(h) = 3·(h²/6)·L‴ + O(h⁴), three times the truncation error of D(h), so
# T = |D(2h) − D(h)| covers it (D(2h)'s own rounding only loosens T). This needs L smooth
# within ±2h: the test keeps activation kinks and the other non-smooth points out of the step.
# The analytic gradient carries a rounding error relative to its own size, REL·|g|. Per entry:
#
#     |g − D(h)| ≤ C_ROUND·ε·max(|L|, 1)/h + T + REL·|g|
#
# The failure (sse on a 6-7-1-1 net, L ≈ 27, h = 1e-6) was |g − D| ≈ 6e-9 ≈ ε·L/h on
# gradients of ~1e-3, i.e. rounding, which the old fixed relative 1e-6 could not absorb. A wrong
# derivative is off by O(|g|), far above this bound (test_per_entry_bound_catches_a_wrong_derivative
# shows by how much).
EPS = float(np.finfo(np.float64).eps)
H = 1e-5          # the step: balances ε/h against h² for O(1) losses and third derivatives
C_ROUND = 64.0    # ulps: a loss here goes through ≲ 80 roundings (≤ 5 layers of ≤ 7-term dot
                  # products and an activation, a mean of ≤ 36 terms) and they add like a random
                  # walk. Measured over 10,000 random nets: the worst entry used 13% of the
                  # bound, and C_ROUND = 1 would have passed too
REL = 1e-9        # the analytic gradient's own relative rounding (≈ 1e-15 measured), with room


def float64_trainer(net: Network, x: np.ndarray, y: np.ndarray, loss: str, logits: bool,
                    backend: str = "cpu") -> Trainer:
    """A float64 copy of `net` training on all of (x, y) as one batch, in order, no dropout."""
    twin = Network(net.input_dim, [copy.deepcopy(layer) for layer in net.layers], dtype="float64",
                   seed=net.seed)
    twin.set_weights(net.get_weights())
    return Trainer(twin, x, y, loss=loss, from_logits=logits, batch_size=len(x), shuffle=False,
                   backend=backend)


def entry_errors(tr: Trainer, h: float = H) -> tuple[np.ndarray, np.ndarray, float]:
    """Per parameter: |analytic − numeric| and its bound (above), and the loss L."""
    net = tr.net
    _, g = tr.compute_gradients()          # the backend's backward pass (what is under test)

    def loss() -> float:                  # the NumPy reference forward, no gradient code
        out = net.predict(tr.x_train, backend="reference")
        return tr.loss.value(out, tr.y_train, tr.from_logits)

    def central(i: int, step: float) -> float:
        old = net.P[i]
        net.P[i] = old + step
        up = loss()
        net.P[i] = old - step
        down = loss()
        net.P[i] = old
        return (up - down) / (2 * step)

    L = loss()
    d1 = np.array([central(i, h) for i in range(net.n_params)])
    d2 = np.array([central(i, 2 * h) for i in range(net.n_params)])
    bound = C_ROUND * EPS * max(abs(L), 1.0) / h + np.abs(d2 - d1) + REL * np.abs(g)
    return np.abs(g - d1), bound, L


def worst_entry(net: Network, err: np.ndarray, bound: np.ndarray) -> str:
    i = int(np.argmax(err / bound))
    name = next(f"{s.name}[{i - s.start}]" for s in net.param_slices() if s.start <= i < s.stop)
    return f"{name}: |analytic − numeric| = {err[i]:.3g}, bound {bound[i]:.3g}"


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(widths=st.lists(st.integers(1, 7), min_size=0, max_size=4),
       acts=st.lists(st.sampled_from(HIDDEN), min_size=4, max_size=4),
       head=st.sampled_from(HEADS), n_in=st.integers(1, 5), seed=st.integers(0, 10_000))
# issue #8: float64 rounding (|L| ≈ 27) exceeded the old fixed tolerance
@example(widths=[6, 7, 1, 1], acts=["linear", "linear", "linear", "sigmoid"],
         head=("sse", "tanh", False), n_in=1, seed=10_000)
def test_random_architectures(widths, acts, head, n_in, seed) -> None:
    loss, out_act, logits = head
    rng = np.random.default_rng(seed)
    k = 1 if loss == "binary_crossentropy" else 3
    layers = [Dense(w, a, init="glorot_normal") for w, a in zip(widths, acts)]
    layers.append(Dense(k, out_act))
    net = Network(n_in, layers, seed=seed)
    x = rng.normal(0, 1, (12, n_in))
    tr = float64_trainer(net, x, _targets(loss, k, 12, rng), loss, logits)
    # Non-smooth points: relu and leaky relu (f′ jumps at z = 0) and elu (f″ jumps there: the
    # difference error becomes first order in h), mae where an output equals its target. Steps
    # of 2h move z by 2h·|a_in| (≲ 1e-4 here), so keep every such z (and output − target) 1e-3
    # away from them.
    ps = reference.forward(tr.x_train, tr.net.P, tr.net.layi, tr.net.layf64)
    for layer, z in zip(tr.net.dense, ps.z[1:]):
        if layer.activation in ("relu", "leaky_relu", "elu"):
            assume(np.abs(z).min() > 1e-3)
    if loss == "mae":
        assume(np.abs(ps.a[-1] - tr.y_train).min() > 1e-3)
    # Cross-entropy on probabilities clips p to [1e-7, 1 − 1e-7] before the log (as Keras does),
    # while the fused gradient (p − y)/n is that of the unclipped loss: they differ where p is
    # clipped (a saturated softmax or sigmoid), so keep p 10× inside the clip.
    if "crossentropy" in loss and not logits:
        assume(np.all((ps.a[-1] > 1e-6) & (ps.a[-1] < 1 - 1e-6)))
    err, bound, L = entry_errors(tr)
    assert np.all(err <= bound), (worst_entry(tr.net, err, bound), f"L = {L:.4g}")


def test_per_entry_bound_catches_a_wrong_derivative(rng, monkeypatch) -> None:
    """The bound above must be able to fail: with tanh′ = 1 − a instead of 1 − a², the error
    exceeds it by orders of magnitude, while the right derivative stays well inside it."""
    x = rng.normal(0, 1, (10, 2))
    y = rng.normal(0, 1, (10, 1))
    net = Network(2, [Dense(3, "tanh"), Dense(1)], seed=0)
    err, bound, _ = entry_errors(float64_trainer(net, x, y, "mse", False, backend="reference"))
    assert np.max(err / bound) < 0.1
    monkeypatch.setitem(npmath.ACT_GRAD, catalogue.TANH, lambda z, a, al: 1.0 - a)
    err, bound, _ = entry_errors(float64_trainer(net, x, y, "mse", False, backend="reference"))
    assert np.max(err / bound) > 1e5


def test_gradcheck_detects_a_wrong_gradient(rng, monkeypatch) -> None:
    """The check must be able to fail: break tanh's derivative and it reports a large error."""
    x = rng.normal(0, 1, (10, 2))
    net = Network(2, [Dense(3, "tanh"), Dense(1)], seed=0)
    tr = Trainer(net, x, rng.normal(0, 1, (10, 1)), loss="mse", backend="reference")
    # the reference backend's f′ for tanh (the engine's registry hands out the same function)
    monkeypatch.setitem(npmath.ACT_GRAD, catalogue.TANH, lambda z, a, al: 1.0 - a)
    rows = gradient_check(tr)
    assert max(r.rel_error for r in rows) > 1e-3
