"""What the neuron card and the stepper write is exactly the math (issue #11).

Each test recomputes the numbers itself, from the trace's raw arrays with NumPy (never from the
text code), and reads them back off the screen text. `test_every_equation_adds_up` checks that
every equation on screen holds for the rounded numbers it shows, or is marked "≈" and explained.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from nnsim.engine import losses
from nnsim.scenarios import load_scenario
from nnsim.scenarios.build import build_session
from nnsim.tui.widgets.neuron_card import neuron_card_text
from nnsim.tui.widgets.stepper import phase_text

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"[−-]?\d+(?:\.\d+)?(?:e[−-]?\d+)?")


def nums(text: str) -> list[float]:
    """Every number in `text` ("−" is a minus sign)."""
    return [float(m.replace("−", "-")) for m in NUMBER.findall(text)]


def unit_of_last_digit(text: str) -> float:
    t = text.replace("−", "-")
    mant, _, exp = t.partition("e")
    return 10.0 ** ((int(exp) if exp else 0) - len(mant.partition(".")[2]))


def close(shown: str, value: float, digits: float = 0.5) -> bool:
    """Does the number written as `shown` round `value` (within `digits` units of its last digit,
    plus float32 noise)?"""
    s = NUMBER.fullmatch(shown.strip())
    assert s, shown
    x = float(shown.replace("−", "-"))
    return abs(x - value) <= digits * unit_of_last_digit(shown) + 1e-6 * abs(value)


def line(text: str, start: str) -> str:
    found = [l.strip() for l in text.splitlines() if l.strip().startswith(start)]
    assert found, f"no line starting with {start!r} in:\n{text}"
    return found[0]


def rhs(eq: str) -> list[str]:
    """The parts of "lhs = a = b = total", without the note in parentheses after the total."""
    return [p.strip() for p in re.split(r" [=≈] ", eq.split("   (")[0])]


def walked(name: str, steps: int = 1, **training):
    s = load_scenario(ROOT / "scenarios" / name)
    if training:
        s = s.model_copy(update={"training": s.training.model_copy(update=training)})
    tr = build_session(s).trainer
    for _ in range(steps - 1):
        tr.step_batch()
    return tr, list(tr.walk_step())


# -- the 1/B factor: per-sample quantities, then each sample's share ---------------------------------
def test_neuron_and_card_shows_a_minus_y_per_sample_and_its_quarter_share() -> None:
    tr, phases = walked("01-neuron-and.toml")
    t = phases[-1].trace
    r = 1
    lt = t.layers[0]
    z = lt.a_in.astype(np.float64) @ lt.W.astype(np.float64) + lt.b.astype(np.float64)
    p = 1.0 / (1.0 + np.exp(-z[:, 0]))                 # the sigmoid of the batch, in NumPy
    y = t.y[:, 0].astype(np.float64)
    text = neuron_card_text(tr.net, 0, 0, t, r, weight=0).plain
    per = line(text, "dℓ/dz = p − y")
    a_s, y_s, d_s = rhs(per)[2].split(" − ")[0], rhs(per)[2].split(" − ")[1], rhs(per)[3]
    assert close(a_s, p[r]) and close(y_s, y[r]) and close(d_s, p[r] - y[r])
    share = rhs(line(text, "dL/dz = dℓ/dz ÷ B"))
    assert share[2].endswith("÷ 4") and close(share[3], (p[r] - y[r]) / 4)
    # dL/dw₀ is the batch sum of every sample's x₀·(a − y)/4, written term by term
    terms = lt.a_in[:, 0].astype(np.float64) * (p - y) / 4
    written = rhs(line(text, "dL/dw₀ = Σ over the 4 samples of x₀·dL/dz"))
    shown_terms = written[-2].split(" + ")
    assert len(shown_terms) == 4
    for s, v in zip(shown_terms, terms):
        assert close(s.strip("()"), v), (s, v)
    assert close(written[-1], terms.sum())


def test_two_circles_shows_two_times_the_error_per_sample_then_a_tenth() -> None:
    tr, phases = walked("06-two-circles.toml", steps=3)
    t = phases[-1].trace
    r = 2
    out = t.layers[-1]
    yhat, y = float(out.a[r, 0]), float(t.y[r, 0])
    text = neuron_card_text(tr.net, 2, 0, t, r).plain
    dy = rhs(line(text, "dℓ/dŷ = 2(ŷ − y)"))
    assert close(dy[-1], 2 * (yhat - y))
    fp = 1 - yhat ** 2                                    # tanh′
    dz = rhs(line(text, "dℓ/dz = dℓ/dŷ × f′(z)"))
    assert close(dz[-1], 2 * (yhat - y) * fp)
    share = rhs(line(text, "dL/dz = dℓ/dz ÷ B"))
    assert share[2].endswith("÷ 10") and close(share[3], 2 * (yhat - y) * fp / 10)
    assert close(share[3], float(out.dZ[r, 0]))           # what the kernel used
    # the loss phase: dℓ/dŷ = 2(ŷ − y) for this sample, not 2(ŷ − y)/10
    loss_text = phase_text(phases[3], r).plain
    assert close(rhs(line(loss_text, "this sample: dℓ/dŷ"))[-1], 2 * (yhat - y))
    # a hidden neuron: dℓ/da is the next layer's per-sample dℓ/dz weighted by the outgoing weights
    mid = t.layers[1]
    fp_out = 1 - out.a[:, 0].astype(np.float64) ** 2
    dz_out = 2 * (out.a[:, 0].astype(np.float64) - t.y[:, 0]) * fp_out        # per sample
    da_mid = dz_out[r] * out.W[1, 0]
    hidden = neuron_card_text(tr.net, 1, 1, t, r).plain
    assert close(rhs(line(hidden, "dℓ/da = Σₖ w[1,k]·dℓ/dzₖ"))[-1], da_mid)
    dz_mid = da_mid * (1 - float(mid.a[r, 1]) ** 2)
    assert close(rhs(line(hidden, "dℓ/dz = dℓ/da × f′(z)"))[-1], dz_mid)
    assert close(rhs(line(hidden, "dL/dz = dℓ/dz ÷ B"))[-1], dz_mid / 10)


# -- SSE is a sum -----------------------------------------------------------------------------------
def test_sse_loss_phase_sums_half_squared_errors_without_dividing() -> None:
    tr, phases = walked("16-losses-sse.toml")
    t = phases[-1].trace
    e = t.y[:, 0].astype(np.float64) - t.layers[-1].a[:, 0].astype(np.float64)
    text = phase_text(phases[2], 0).plain
    assert "reduction: " + losses.get("sse").reduction in text
    assert losses.get("sse").reduction.startswith("sum over the batch")
    total = line(text, "L = Σ ℓᵢ =")
    assert "÷" not in total and "mean" not in total
    parts = rhs(total)
    for s, v in zip(parts[-2].split(" + "), 0.5 * e ** 2):
        assert close(s.strip("()"), v)
    assert close(parts[-1], 0.5 * float(np.sum(e ** 2)))
    for name in ("mse", "binary_crossentropy", "categorical_crossentropy"):
        assert "mean" in losses.get(name).reduction
    # the output card: a sum has no ÷ B, the sample's dℓ/dz is its whole share
    card = neuron_card_text(tr.net, 1, 0, t, 0).plain
    assert "no ÷ B" in line(card, "dL/dz = dℓ/dz")
    assert close(rhs(line(card, "dℓ/dŷ = ŷ − y"))[-1], -e[0])


# -- dropout: mask and scale ----------------------------------------------------------------------
def test_dropout_shows_the_mask_and_the_scale() -> None:
    tr, phases = walked("29-digits.toml")
    t = phases[-1].trace
    lt = t.layers[0]
    rate = 0.2
    scale = 1 / (1 - rate)
    z = lt.a_in.astype(np.float64) @ lt.W.astype(np.float64) + lt.b.astype(np.float64)
    f = np.maximum(z, 0.0)
    kept = np.isclose(lt.a, f * scale, rtol=1e-4, atol=1e-6) & (f > 0.01)
    dropped = (lt.a == 0) & (f > 0.01)
    (r, j), (r2, j2) = np.argwhere(kept)[0], np.argwhere(dropped)[0]
    card = neuron_card_text(tr.net, 0, int(j), t, int(r)).plain
    fwd = line(card, "dropout (rate 0.2)")
    assert "× 1 × 1.2500" in fwd and close(rhs(fwd)[-1].split()[0], f[r, j] * scale)
    da = float(lt.dA[r, j]) * len(t.indices)              # per sample
    chain = line(card, "dℓ/dz = dℓ/da × m × 1/(1 − rate) × f′(z)")
    assert "× 1 × 1.2500 × 1" in chain and close(rhs(chain)[-1], da * scale)
    off = neuron_card_text(tr.net, 0, int(j2), t, int(r2)).plain
    assert "× 0 × 1.2500" in line(off, "dropout (rate 0.2)") and "dropped in this step" in off
    assert rhs(line(off, "dℓ/dz = dℓ/da × m"))[-1] == "0"
    # the stepper's forward phase writes the same for each shown unit
    fwd_phase = phase_text(phases[0], int(r)).plain
    assert "dropout (rate 0.2, inverted): a = f(z) × m × 1/(1 − rate)" in fwd_phase


# -- the fused rule, and clipped probabilities -----------------------------------------------------
def test_saturated_sigmoid_shows_the_fused_rule_not_a_dropout_mask() -> None:
    tr, phases = walked("01-neuron-and.toml", steps=40, learning_rate=60.0)
    t = phases[-1].trace
    assert t.fused
    for r in range(4):
        p, y = float(t.layers[0].a[r, 0]), float(t.y[r, 0])
        text = neuron_card_text(tr.net, 0, 0, t, r).plain
        assert "dropout" not in text
        rule = line(text, "dℓ/dz = p − y")
        assert "fused rule for sigmoid + binary cross-entropy" in rule
        assert close(rhs(rule)[3], p - y)
        assert close(rhs(line(text, "dL/dz = dℓ/dz ÷ B"))[-1], float(t.layers[0].dZ[r, 0]))
    assert "the fused rule" in phase_text(phases[2], 0).plain


# -- logits and probabilities; softmax of the vector ---------------------------------------------
def test_logits_are_shown_beside_their_probabilities() -> None:
    tr, phases = walked("29-digits.toml")
    t = phases[-1].trace
    r = 3
    z = t.layers[-1].z[r].astype(np.float64)
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    text = phase_text(phases[2], r).plain
    logits, probs = line(text, "logits z = ["), line(text, "probabilities p = softmax(z) = [")
    assert "not probabilities" in logits and "ŷ =" not in text
    for s, v in zip(logits.split("[")[1].split(", ")[:8], z):
        assert close(s, v)
    for s, v in zip(probs.split("[")[1].split(", ")[:8], p):
        assert close(s, v)
    label = int(t.y[r, 0])
    assert f"y = class {label}" in text
    ell = rhs(line(text, "this sample: ℓ = −ln p"))
    assert close(ell[-1], -math.log(p[label]))


def test_softmax_card_shows_the_layers_whole_z_vector() -> None:
    tr, phases = walked("13-multiclass-spiral-softmax.toml")
    t = phases[-1].trace
    r, k = 1, 2
    z = t.layers[-1].z[r].astype(np.float64)
    e = np.exp(z)
    text = neuron_card_text(tr.net, 2, k, t, r).plain
    assert f"a = softmax(z)₂, component {k} of softmax over the layer's 3 z values" in text
    zs = line(text, "z = [")
    for s, v in zip(zs[5:-1].split(", "), z):
        assert close(s, v)
    total = rhs(line(text, "Σⱼ e^zⱼ ="))
    assert close(total[-1], e.sum())
    ak = rhs(line(text, "a₂ = softmax(z)₂ ="))
    num, den = ak[-2].split(" ÷ ")
    assert close(num, e[k]) and close(den, e.sum()) and close(ak[-1], e[k] / e.sum())


# -- the update: the optimizer's actual step and its state ----------------------------------------
def test_sgd_update_is_minus_eta_g_and_lands_on_the_new_weight() -> None:
    tr, phases = walked("01-neuron-and.toml")
    t = phases[-1].trace
    lt = t.layers[0]
    g, w = float(lt.dW[1, 0]), float(lt.W[1, 0])
    card = neuron_card_text(tr.net, 0, 0, t, 0, weight=1).plain
    step = rhs(line(card, "Δw₁ = −η·g"))
    assert close(step[-1], -1.0 * g)
    new = rhs(line(card, "w₁ → w₁ + Δw₁"))
    assert close(new[-1], float(tr.net.dense[0].params["W"][1, 0]))
    assert close(new[-1], w - g)


def test_momentum_update_shows_the_velocity_that_produced_it() -> None:
    tr, phases = walked("19-sgd-momentum.toml")
    g1 = phases[-1].trace.layers[0].dW.astype(np.float64)
    phases2 = list(tr.walk_step())
    t = phases2[-1].trace
    g2 = t.layers[0].dW.astype(np.float64)
    eta, mu = t.learning_rate, 0.9
    v = mu * (-eta * g1) - eta * g2                       # the velocity after two steps
    card = neuron_card_text(tr.net, 0, 0, t, 0, weight=0).plain
    vline = line(card, "v ← μ·v − η·g")
    assert close(rhs(vline)[-1], v[0, 0], digits=1)
    assert close(rhs(line(card, "Δw₀ = v"))[-1], v[0, 0], digits=1)
    assert "vᵢ" in card                                    # the velocity column
    upd = phase_text(phases2[-1]).plain
    assert "v ← μ·v − η·g (the velocity), w ← w + v" in upd


def test_adam_update_shows_m_hat_and_v_hat() -> None:
    tr, phases = walked("13-multiclass-spiral-softmax.toml")
    t = phases[-1].trace
    lt = t.layers[-1]
    g = float(lt.dW[0, 1])
    eta, b1, b2, eps = t.learning_rate, 0.9, 0.999, 1e-7
    m, v = (1 - b1) * g, (1 - b2) * g * g
    mh, vh = m / (1 - b1), v / (1 - b2)
    card = neuron_card_text(tr.net, 2, 1, t, 0, weight=0).plain
    assert close(rhs(line(card, "m ← β₁·m + (1 − β₁)·g"))[-1], m, digits=1)
    assert close(rhs(line(card, "v ← β₂·v + (1 − β₂)·g²"))[-1], v, digits=1)
    assert close(rhs(line(card, "m̂ = m / (1 − β₁ᵗ)"))[-1], mh, digits=1)
    assert close(rhs(line(card, "v̂ = v / (1 − β₂ᵗ)"))[-1], vh, digits=1)
    assert close(rhs(line(card, "Δw₀ = −η·m̂ / (√v̂ + ε)"))[-1], -eta * mh / (math.sqrt(vh) + eps), digits=1)
    assert "m̂ᵢ" in card and "v̂ᵢ" in card and "−η·g" not in card.split("update")[0]


# -- every equation adds up -----------------------------------------------------------------------
SAFE = re.compile(r"^[0-9.e+\-*/() ]+$")


def evaluate(expr: str) -> float | None:
    """The value of a numeric expression as written on screen, or None if it is not one."""
    e = expr.replace("−", "-").replace("×", "*").replace("÷", "/").replace("²", "**2")
    e = re.sub(r"√(\d[\d.e\-]*)", r"(\1)**0.5", e).replace("^", "**")
    e = re.sub(r"(\d)\*\*0\.5", r"\1**0.5", e)
    if not SAFE.match(e.replace("**", "*")):
        return None
    try:
        return float(eval(e, {"__builtins__": {}}))  # noqa: S307 - digits and operators only
    except (SyntaxError, ZeroDivisionError, OverflowError):
        return None


def check_equations(text: str) -> int:
    """Assert every "… = expression = total" holds for the shown numbers; returns how many."""
    checked = 0
    for raw in text.splitlines():
        body = raw.split("   (")[0].split("  (")[0].strip()
        if "…" in body or not re.search(r" [=≈] ", body):
            continue
        parts = re.split(r" ([=≈]) ", body)
        total, sign, expr = parts[-1].split()[0], parts[-2], parts[-3]
        value = evaluate(expr.split(": ")[-1].split("; ")[-1])
        if value is None or not NUMBER.fullmatch(total):
            continue
        checked += 1
        if sign == "=":
            assert close(total, value, digits=0.5), f"does not add up: {raw!r} (gives {value!r})"
        else:
            assert "≈ marks a result of the unrounded values" in text, raw
            gap = abs(value - float(total.replace("−", "-")))
            assert gap <= 1.5 * rounding_bound(expr) + unit_of_last_digit(total), raw
    return checked


def rounding_bound(expr: str) -> float:
    """How far rounding each number of `expr` by half a unit of its last digit can move its
    value (to first order): what may separate a "≈" result from the shown numbers' result."""
    matches = list(NUMBER.finditer(expr))
    bound = 0.0
    for m in matches:
        if "." not in m.group():          # whole numbers (B, 2, exponents) are exact
            continue
        half = 0.5 * unit_of_last_digit(m.group())
        x = float(m.group().replace("−", "-"))
        moved = expr[:m.start()] + repr(x + half).replace("-", "−") + expr[m.end():]
        a, b = evaluate(moved), evaluate(expr)
        if a is not None and b is not None:
            bound += abs(a - b)
    return bound


@pytest.mark.parametrize("name,steps,layer,unit", [
    ("01-neuron-and.toml", 1, 0, 0), ("05-xor-with-hidden-layer.toml", 2, 0, 1),
    ("06-two-circles.toml", 3, 1, 0), ("13-multiclass-spiral-softmax.toml", 2, 2, 0),
    ("16-losses-sse.toml", 2, 0, 3), ("19-sgd-momentum.toml", 2, 0, 1),
    ("29-digits.toml", 1, 0, 0), ("28-admissions.toml", 1, 0, 1),
])
def test_every_equation_adds_up(name, steps, layer, unit) -> None:
    tr, phases = walked(name, steps=steps)
    t = phases[-1].trace
    checked = 0
    for r in (0, 1):
        for l in range(tr.net.n_dense):
            for w in (0, 1):
                checked += check_equations(neuron_card_text(tr.net, l, unit if l == layer else 0, t, r,
                                                            weight=w).plain)
        for ph in phases:
            checked += check_equations(phase_text(ph, r).plain)
    assert checked > 50


def test_the_equation_checker_can_fail() -> None:
    assert check_equations("dℓ/dz = dℓ/da × f′(z) = 0.5000 × 0.2500 = 0.1250") == 1
    assert check_equations("dL/dz = dℓ/dz ÷ B = (−0.5000) ÷ 4 = −0.1250   (share)") == 1
    with pytest.raises(AssertionError):
        check_equations("dℓ/dz = dℓ/da × f′(z) = 0.5000 × 0.2500 = 0.1260")
    with pytest.raises(AssertionError):   # a rounded sum that does not add up needs "≈" and a note
        check_equations("dL/db = Σ dL/dz = 0.1271 + (−0.05322) = 0.07386")
    legend = "\n≈ marks a result of the unrounded values: …"
    assert check_equations("dL/db = Σ dL/dz = 0.1271 + (−0.05322) ≈ 0.07386" + legend) == 1
    with pytest.raises(AssertionError):   # "≈" covers rounding, not a wrong result
        check_equations("dL/dz = dℓ/dz ÷ B = 0.5000 ÷ 4 ≈ 0.1263" + legend)
