"""The numerical gradient as the app and `nnsim gradcheck` show it: one weight wiggled by ±h,
the losses L(w − h), L(w), L(w + h), the central and forward differences, settable h. Every
expected number is computed here with a NumPy forward pass of our own."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from nnsim.cli.main import main
from nnsim.engine import Dense, Dropout, Network, Trainer
from nnsim.engine.gradcheck import DEFAULT_H, check_report, probe_weights
from nnsim.scenarios import load_scenario
from nnsim.scenarios.build import build_session

DATA = Path(__file__).parent / "data" / "cli"
GOOD = DATA / "three_four_two.toml"      # 3 -> 4 tanh -> 2 softmax, sparse CE, 200 samples


def softmax_ce_loss(weights: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray) -> float:
    """3 → 4 tanh → 2 softmax, mean sparse cross-entropy, in float64."""
    h = np.tanh(x @ weights["layer0.W"] + weights["layer0.b"])
    z = h @ weights["layer1.W"] + weights["layer1.b"]
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-np.mean(logp[np.arange(len(x)), labels]))


def good_problem(n: int = 32):
    session = build_session(load_scenario(GOOD))
    tr = session.trainer
    w = {k: v.astype(np.float64) for k, v in tr.net.get_weights().items()}
    return tr, w, tr.x_train[:n].astype(np.float64), tr.y_train[:n, 0].astype(np.int64)


def wiggle(w, x, labels, key, idx, h):
    """(L(w − h), L(w), L(w + h)) for one entry, with our own forward pass."""
    out = []
    for d in (-h, 0.0, h):
        moved = {k: v.copy() for k, v in w.items()}
        moved[key][idx] += d
        out.append(softmax_ce_loss(moved, x, labels))
    return out


def test_probe_of_the_selected_weight_matches_our_finite_difference() -> None:
    tr, w, x, labels = good_problem()
    probes = probe_weights(tr, h=1e-4, selected=(1, 3, 1))        # layer2.W[3, 1] and layer2.b[1]
    by_name = {p.name: p for p in probes}
    assert set(by_name) >= {"layer2.W[3, 1]", "layer2.b[1]"}
    p = by_name["layer2.W[3, 1]"]
    assert p.chosen == "selected" and p.h == 1e-4 and p.w == w["layer1.W"][3, 1]
    minus, base, plus = wiggle(w, x, labels, "layer1.W", (3, 1), 1e-4)
    assert (p.loss_minus, p.loss, p.loss_plus) == pytest.approx((minus, base, plus), rel=1e-12)
    assert p.central == pytest.approx((plus - minus) / 2e-4, rel=1e-7)
    assert p.forward == pytest.approx((plus - base) / 1e-4, rel=1e-7)
    assert p.analytic == pytest.approx(p.central, rel=1e-6)     # the backward pass agrees
    assert p.forward_rel_error > 100 * p.rel_error             # and forward is the worse estimate
    b = by_name["layer2.b[1]"]
    bm, _, bp = wiggle(w, x, labels, "layer1.b", (1,), 1e-4)
    assert b.central == pytest.approx((bp - bm) / 2e-4, rel=1e-7)


def test_without_a_selection_each_tensor_probes_its_largest_gradient() -> None:
    tr, w, x, labels = good_problem()
    probes = probe_weights(tr)
    assert [p.tensor for p in probes] == ["layer1.W", "layer1.b", "layer2.W", "layer2.b"]
    for p, key in zip(probes, ("layer0.W", "layer0.b", "layer1.W", "layer1.b")):
        assert p.chosen == "largest |dL/dw|" and p.h == DEFAULT_H
        grads = np.zeros_like(w[key])
        for idx in np.ndindex(w[key].shape):
            lo, _, hi = wiggle(w, x, labels, key, idx, 1e-6)
            grads[idx] = (hi - lo) / 2e-6
        # the largest |dL/dw| (softmax's two biases tie: their gradients sum to 0)
        assert abs(grads[p.index]) == pytest.approx(np.abs(grads).max(), rel=1e-6)
        assert p.central == pytest.approx(grads[p.index], rel=1e-5)


def test_central_error_shrinks_like_h_squared_forward_like_h() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (16, 2))
    net = Network(2, [Dense(3, "tanh"), Dropout(0.5), Dense(1, "sigmoid")], seed=1)
    tr = Trainer(net, x, (x[:, 0] > 0).astype(int), loss="binary_crossentropy")
    errors = {h: probe_weights(tr, h=h, selected=(0, 1, 2))[0] for h in (1e-1, 1e-2, 1e-3)}
    for big, small in ((1e-1, 1e-2), (1e-2, 1e-3)):
        assert 30 < errors[big].rel_error / errors[small].rel_error < 300          # ~100 = (10)²
        assert 3 < errors[big].forward_rel_error / errors[small].forward_rel_error < 30  # ~10


@pytest.mark.parametrize("h", [0, -1e-3, 2.0, float("nan"), "x"])
def test_h_must_be_a_usable_step(h) -> None:
    tr, *_ = good_problem()
    with pytest.raises(ValueError, match="h must be"):
        check_report(tr, h=h)


# -- nnsim gradcheck -------------------------------------------------------------------------------
LINE = re.compile(r"^(layer\d\.[Wb]\[[\d, ]+\])" + r"\s+(\S+)" * 7 + "$", re.M)


def test_cli_prints_one_line_per_tensor_that_agrees_with_our_finite_difference(capsys) -> None:
    code = main(["gradcheck", str(GOOD), "--h", "1e-4", "--weight", "layer1.W[2,3]"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "h = 0.0001" in out and "(L(w + h) − L(w − h)) / 2h" in out and "(L(w + h) − L(w)) / h" in out
    rows = LINE.findall(out)
    assert [r[0] for r in rows] == ["layer1.W[2, 3]", "layer1.b[3]", "layer2.W[0, 1]", "layer2.b[0]"] or \
        [r[0] for r in rows][:2] == ["layer1.W[2, 3]", "layer1.b[3]"]
    _, w, x, labels = good_problem()
    name, numerical, analytic, rel, l_minus, l_plus, forward, fwd_rel = rows[0]
    minus, base, plus = wiggle(w, x, labels, "layer0.W", (2, 3), 1e-4)
    assert float(l_minus) == pytest.approx(minus, rel=1e-12)
    assert float(l_plus) == pytest.approx(plus, rel=1e-12)
    assert float(numerical) == pytest.approx((plus - minus) / 2e-4, rel=1e-9)
    assert float(forward) == pytest.approx((plus - base) / 1e-4, rel=1e-9)
    assert float(analytic) == pytest.approx((plus - minus) / 2e-4, rel=1e-6)
    a, n = float(analytic), float(numerical)
    assert float(rel) == pytest.approx(abs(a - n) / (abs(a) + abs(n)), rel=0.05, abs=1e-14)
    # the columns as the issue names them, then the per-tensor summary as before
    header = next(l for l in out.splitlines() if l.startswith("weight"))
    assert header.split()[:4] == ["weight", "numerical", "analytic", "rel.error"]
    assert out.index(header) < out.index("Relative error") and "All 4 tensors pass." in out
    assert re.search(r"layer1\.W\s.*✓ pass", out)


def test_cli_default_h_and_largest_gradients(capsys) -> None:
    code = main(["gradcheck", str(GOOD)])
    out = capsys.readouterr().out
    assert code == 0 and f"h = {DEFAULT_H:g}" in out
    assert "the entry with the largest |dL/dw|" in out
    assert len(LINE.findall(out)) == 4


@pytest.mark.parametrize("args,message", [
    (["--h", "0"], "--h: must be a number > 0 and <= 1"),
    (["--h", "abc"], "--h: must be a number"),
    (["--weight", "W[1,2]"], "must name a weight like layer1.W[0,2]"),
    (["--weight", "layer3.W[0,0]"], "is not in this network"),
    (["--weight", "layer1.W[3,0]"], "is not in this network (layer1.W 3×4, layer2.W 4×2"),
])
def test_cli_bad_h_or_weight_exit_2(capsys, args, message) -> None:
    code = main(["gradcheck", str(GOOD), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
