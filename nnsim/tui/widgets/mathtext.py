"""The equations the neuron card and the stepper write out, with the numbers shown.

Plain strings of numbers and fixed words (no markup): the widgets append them to Rich `Text`.

Every equation is checked against its own rounded numbers: it is written with "=" when the
numbers as shown give the result as shown (to its last digit), and with "≈" when only the
unrounded values do (`LEGEND` says so under the text). Numbers carry four significant digits
(`fmt`), so the products and sums a student redoes by hand come out right.

Per sample and per batch: ℓ is one sample's own loss and L = Σᵢ ℓᵢ ÷ D the batch loss
(`StepTrace.divisor`: D = B for losses that average over the batch, 1 for sse). The texts teach
per-sample derivatives (dℓ/dz = a − y, dℓ/dŷ = 2(ŷ − y)); a sample's share of the batch
gradient is that ÷ D, and dL/dW adds up every sample's share.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from nnsim.engine.trace import LayerTrace, StepTrace
from nnsim.numfmt import num

MINUS = "\u2212"
APPROX = "≈"
LEGEND = ("≈ marks a result of the unrounded values: redone with the rounded numbers shown it "
          "differs in the last digit")
MAX_TERMS = 10         # terms of a written-out sum before "… (n terms)"
MAX_PRODUCTS = 6       # terms of a written-out sum of products (with the bias)
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def sub(i: int) -> str:
    """12 → "₁₂" (an index written as subscript)."""
    return str(i).translate(SUB)


# -- numbers as shown --------------------------------------------------------------------------
def fmt(v: float, extra: int = 0) -> str:
    """Four significant digits (at least four decimals; `extra` more of each), scientific below
    0.001 or from 1e5; "0" for zero; minus sign "−" — the app's one number format
    (`nnsim.numfmt.num`)."""
    return num(v, 4 + extra, min_decimals=4 + extra, minus=MINUS)


def parse(text: str) -> float:
    """The number a `fmt` text says."""
    return float(text.replace(MINUS, "-"))


def shown(v: float, extra: int = 0) -> float:
    """`v` as the reader sees it (rounded as `fmt` writes it)."""
    return parse(fmt(v, extra))


def term(v: float, extra: int = 0) -> str:
    """A value inside an expression: negative values in parentheses."""
    s = fmt(v, extra)
    return f"({s})" if s.startswith(MINUS) else s


def last_digit(text: str) -> float:
    """The value of one unit in the last digit of a `fmt` text."""
    t = text.replace(MINUS, "-")
    mant, _, exp = t.partition("e")
    decimals = len(mant.partition(".")[2])
    return 10.0 ** ((int(exp) if exp else 0) - decimals)


def agrees(calc: float, text: str) -> bool:
    """Does `calc` (worked out from the shown numbers) round to the shown `text`?"""
    if not math.isfinite(calc):
        return False
    if text == "0":
        return abs(calc) < 5e-13
    return abs(calc - parse(text)) <= 0.5 * last_digit(text) * (1 + 1e-6) + 1e-15


def result(calc: float, value: float) -> str:
    """"= value" or "≈ value": whether the shown numbers (giving `calc`) give the shown value."""
    s = fmt(value)
    return f"= {s}" if agrees(calc, s) else f"{APPROX} {s}"


Build = Callable[[int], tuple[str, float]]


def written(build: Build, value: float) -> str:
    """"expression = value", the expression's numbers written with as few extra digits (0 to 3)
    as make them give the value as shown; "expression ≈ value" if none do. `build(extra)`
    returns the expression's text and what its shown numbers give."""
    s = fmt(value)
    for extra in range(4):
        expr, calc = build(extra)
        if agrees(calc, s):
            return f"{expr} = {s}"
    return f"{build(0)[0]} {APPROX} {s}"


def sum_expr(values: list[float], total: float, limit: int = MAX_TERMS) -> str:
    """"t₁ + t₂ + … = total"; a sum cut short ("… (n terms)") is of all n terms."""
    n = len(values)
    if n == 0:
        return f"0 {result(0.0, total)}"
    if n > limit:
        head = " + ".join(term(v) for v in values[:limit - 1])
        return f"{head} + … ({n} terms) = {fmt(total)}"
    return written(lambda e: (" + ".join(term(v, e) for v in values),
                              sum(shown(v, e) for v in values)), total)


def dot_expr(xs: np.ndarray, ws: np.ndarray, b: float | None, total: float,
             limit: int = MAX_PRODUCTS) -> str:
    """"x₀×w₀ + x₁×w₁ + … + b = total", every factor as shown."""
    n = len(xs)
    cut = n + (b is not None) > limit
    if cut:
        k = limit - 1 - (b is not None)
        parts = [f"{term(x)}×{term(w)}" for x, w in zip(xs[:k], ws[:k])] + [f"… ({n} products)"]
        if b is not None:
            parts.append(term(b))
        return " + ".join(parts) + f" = {fmt(total)}"

    def build(e: int) -> tuple[str, float]:
        parts = [f"{term(x, e)}×{term(w, e)}" for x, w in zip(xs, ws)]
        calc = sum(shown(x, e) * shown(w, e) for x, w in zip(xs, ws))
        if b is not None:
            parts.append(term(b, e))
            calc += shown(b, e)
        return " + ".join(parts) if parts else "0", calc

    return written(build, total)


def product_expr(factors: list[float], value: float, lead: str = "") -> str:
    """"lead f₁ × f₂ × … = value"."""
    return written(lambda e: (lead + " × ".join(term(f, e) for f in factors),
                              math.prod(shown(f, e) for f in factors)), value)


# -- activations -----------------------------------------------------------------------------
def f_prime(act: str, z: float, fz: float, alpha: float) -> tuple[float, str]:
    """f′(z) of an elementwise activation, and "f′(z) = … = value" written out. `fz` is f(z)
    before any dropout."""
    if act == "sigmoid":
        v = fz * (1.0 - fz)
        return v, "f′(z) = a(1 − a) = " + written(
            lambda e: (f"{fmt(fz, e)} × (1 − {fmt(fz, e)})", shown(fz, e) * (1 - shown(fz, e))), v)
    if act == "tanh":
        v = 1.0 - fz * fz
        return v, "f′(z) = 1 − a² = " + written(
            lambda e: (f"1 − {term(fz, e)}²", 1 - shown(fz, e) ** 2), v)
    if act == "relu":
        return (1.0, "f′(z) = 1 (z > 0)") if z > 0 else (0.0, "f′(z) = 0 (z ≤ 0: the unit is off)")
    if act == "leaky_relu":
        return (1.0, "f′(z) = 1 (z > 0)") if z > 0 else (alpha, f"f′(z) = α = {fmt(alpha)} (z ≤ 0)")
    if act == "elu":
        if z > 0:
            return 1.0, "f′(z) = 1 (z > 0)"
        v = alpha * math.exp(z)
        return v, "f′(z) = α·eᶻ = " + written(
            lambda e: (f"{fmt(alpha, e)} × e^{term(z, e)}", shown(alpha, e) * math.exp(shown(z, e))), v)
    return 1.0, "f′(z) = 1 (linear)"


def softmax_lines(z: np.ndarray, a: np.ndarray, units: list[int]) -> list[str]:
    """aₖ = e^zₖ / Σⱼ e^zⱼ for the shown `units`, with the layer's z vector and the sum."""
    z = np.asarray(z, dtype=np.float64)
    shift = float(z.max()) if z.max() > 50 else 0.0
    e = np.exp(z - shift)
    total = float(e.sum())
    name = "e^(zⱼ − max z)" if shift else "e^zⱼ"
    lines = [f"z = {vector(z)}",
             f"{name} = {vector(e)}", f"Σⱼ {name} = {sum_expr(list(e), total)}"]
    for k in units:
        lines.append(f"a{sub(k)} = softmax(z){sub(k)} = " + written(
            lambda x, k=k: (f"{fmt(e[k], x)} ÷ {fmt(total, x)}", shown(e[k], x) / shown(total, x)),
            float(a[k])))
    return lines


def vector(values: np.ndarray, limit: int = 8) -> str:
    """"[v₀, v₁, …]" with `fmt` numbers."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    parts = [fmt(v) for v in arr[:limit]]
    if arr.size > limit:
        parts.append(f"… ({arr.size} values)")
    return "[" + ", ".join(parts) + "]"


# -- the loss, per sample ------------------------------------------------------------------------
def reduction_words(tr: StepTrace) -> str:
    """How L is made of the samples' ℓᵢ, in words."""
    B = len(tr.indices)
    if tr.divisor == 1.0 and B > 1:
        return f"L = Σ ℓᵢ over the batch of {B} (a sum, not a mean)"
    if B == 1:
        return "L = ℓ (a batch of one sample)"
    return f"L = Σ ℓᵢ ÷ {B}, the mean over the batch of {B}"


def batch_loss_line(tr: StepTrace) -> str:
    """"L = (ℓ₁ + ℓ₂ + …) ÷ B = L" (sse: without ÷ B)."""
    ells = tr.sample_loss.tolist()
    B = len(ells)
    if B > MAX_TERMS:
        head = " + ".join(term(v) for v in ells[:MAX_TERMS - 1]) + f" + … ({B} terms)"
        return (f"L = Σ ℓᵢ = {head} = {fmt(tr.loss)}" if tr.divisor == 1.0
                else f"L = (Σ ℓᵢ) ÷ {B} = ({head}) ÷ {B} = {fmt(tr.loss)}")
    if tr.divisor == 1.0:
        return f"L = Σ ℓᵢ = {sum_expr(ells, tr.loss)}"
    return f"L = (Σ ℓᵢ) ÷ {B} = " + written(
        lambda e: (f"({' + '.join(term(v, e) for v in ells)}) ÷ {B}",
                   sum(shown(v, e) for v in ells) / B), tr.loss)


def sample_loss_line(tr: StepTrace, r: int) -> str:
    """ℓ for batch row r, written out where it is one output."""
    out = tr.layers[-1]
    k = out.a.shape[1]
    loss = tr.loss_name
    ell = float(tr.sample_loss[r]) if tr.sample_loss is not None else float("nan")
    y = float(np.asarray(tr.y[r], dtype=np.float64).reshape(-1)[0])
    yh = float(out.a[r, 0])
    if k == 1 and loss == "mse":
        return "ℓ = (y − ŷ)² = " + written(
            lambda e: (f"({fmt(y, e)} − {term(yh, e)})²", (shown(y, e) - shown(yh, e)) ** 2), ell)
    if k == 1 and loss == "sse":
        return "ℓ = ½(y − ŷ)² = " + written(
            lambda e: (f"½ × ({fmt(y, e)} − {term(yh, e)})²", 0.5 * (shown(y, e) - shown(yh, e)) ** 2), ell)
    if k == 1 and loss == "mae":
        return "ℓ = |y − ŷ| = " + written(
            lambda e: (f"|{fmt(y, e)} − {term(yh, e)}|", abs(shown(y, e) - shown(yh, e))), ell)
    p = tr.probs[r] if tr.probs is not None else out.a[r].astype(np.float64)
    if loss == "binary_crossentropy" and k == 1 and y in (0.0, 1.0):
        q, what = (float(p[0]), "p") if y == 1.0 else (1.0 - float(p[0]), "1 − p")
        lead = "ℓ = −[y·ln p + (1 − y)·ln(1 − p)] = "
        if not 1e-7 < q < 1 - 1e-7:
            return f"{lead}−ln({what}), {what} clipped to [1e−7, 1 − 1e−7], = {fmt(ell)}"
        return f"{lead}−ln({what}) = " + written(
            lambda e: (f"−ln({fmt(q, e)})", -math.log(shown(q, e))), ell)
    if loss in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        yv = np.asarray(tr.y[r]).reshape(-1)
        label = int(yv[0]) if loss.startswith("sparse") else int(np.argmax(yv))
        pk = float(p[label])
        lead = f"ℓ = −ln p{sub(label)} (p of the true class {label}) = "
        if not 1e-7 < pk < 1 - 1e-7:
            return f"{lead}−ln p, p clipped to [1e−7, 1 − 1e−7], = {fmt(ell)}"
        return lead + written(lambda e: (f"−ln({fmt(pk, e)})", -math.log(shown(pk, e))), ell)
    return f"ℓ = {fmt(ell)}  ({loss} over this sample's {k} outputs)"


def _target(tr: StepTrace, r: int, j: int) -> float:
    yv = np.asarray(tr.y[r], dtype=np.float64).reshape(-1)
    if tr.loss_name.startswith("sparse"):
        return 1.0 if int(yv[0]) == j else 0.0
    return float(yv[j])


def output_gradient(tr: StepTrace, r: int, j: int) -> tuple[str, float, str]:
    """The per-sample gradient that starts the backward pass at output unit j: (what it is
    of: "z" when the fused rule gives dℓ/dz directly, else "a"), its value, the line."""
    out = tr.layers[-1]
    k = out.a.shape[1]
    loss = tr.loss_name
    y = _target(tr, r, j)
    yh = float(out.a[r, j])
    idx = sub(j) if k > 1 else ""
    if tr.fused:
        p = float(tr.probs[r, j]) if tr.probs is not None else yh
        per_k = loss == "binary_crossentropy" and k > 1
        kk = k if per_k else 1
        v = (p - y) / kk
        rule = ("sigmoid + binary cross-entropy" if loss == "binary_crossentropy"
                else "softmax + cross-entropy")
        if tr.from_logits:
            rule = ("binary cross-entropy on the logit, p = σ(z)" if loss == "binary_crossentropy"
                    else "cross-entropy on the logits, p = softmax(z)")
        expr = written(lambda e: (f"{fmt(p, e)} − {fmt(y, e)}" + (f" ÷ {k}" if per_k else ""),
                                  (shown(p, e) - shown(y, e)) / kk), v)
        return "z", v, (f"dℓ/dz{idx} = p{idx} − y{idx}{' ÷ K' if per_k else ''} = {expr}   "
                        f"(the fused rule for {rule}: dℓ/da·f′(z) simplifies to it)")
    if loss == "mse":
        v = 2.0 * (yh - y) / k
        return "a", v, (f"dℓ/dŷ{idx} = 2(ŷ − y){'/K' if k > 1 else ''} = " + written(
            lambda e: (f"2 × ({fmt(yh, e)} − {term(y, e)})" + (f" ÷ {k}" if k > 1 else ""),
                       2.0 * (shown(yh, e) - shown(y, e)) / k), v))
    if loss == "sse":
        v = yh - y
        return "a", v, f"dℓ/dŷ{idx} = ŷ − y = " + written(
            lambda e: (f"{fmt(yh, e)} − {term(y, e)}", shown(yh, e) - shown(y, e)), v)
    if loss == "mae":
        v = float(np.sign(yh - y)) / k
        return "a", v, (f"dℓ/dŷ{idx} = sign(ŷ − y){'/K' if k > 1 else ''} = sign({fmt(yh)} − {term(y)})"
                        f"{f' ÷ {k}' if k > 1 else ''} = {fmt(v)}")
    p = yh
    if not 1e-7 < p < 1 - 1e-7:
        return "a", 0.0, (f"dℓ/dp{idx} = 0 (p = {fmt(p)} is clipped to [1e−7, 1 − 1e−7], "
                          "where the loss is flat)")
    if loss == "binary_crossentropy":
        v = (p - y) / (p * (1 - p)) / k
        return "a", v, f"dℓ/dp{idx} = (p − y) / (p(1 − p)) = " + written(
            lambda e: (f"({fmt(p, e)} − {fmt(y, e)}) ÷ ({fmt(p, e)} × (1 − {fmt(p, e)}))"
                       + (f" ÷ {k}" if k > 1 else ""),
                       (shown(p, e) - shown(y, e)) / (shown(p, e) * (1 - shown(p, e))) / k), v)
    v = -y / p
    return "a", v, f"dℓ/dp{idx} = −y / p = " + written(
        lambda e: (f"−{fmt(y, e)} ÷ {fmt(p, e)}", -shown(y, e) / shown(p, e)), v)


def share_line(tr: StepTrace, what: str, per_sample: float, share: float, note: bool = True) -> str:
    """"dL/dz = dℓ/dz ÷ B = …": a sample's share of the batch gradient."""
    D = tr.divisor
    if D == 1.0:
        why = "sse sums over the batch" if len(tr.indices) > 1 else "a batch of one"
        return f"dL/d{what} = dℓ/d{what} = {fmt(share)}" + (f"   ({why}: no ÷ B)" if note else "")
    return (f"dL/d{what} = dℓ/d{what} ÷ B = "
            + written(lambda e: (f"{term(per_sample, e)} ÷ {int(D)}", shown(per_sample, e) / D), share)
            + ("   (this sample's share of the batch gradient)" if note else ""))


def dropout_factor(lt: LayerTrace, r: int, j: int) -> tuple[float, float] | None:
    """(m, 1/(1 − rate)) for a unit of a layer with dropout; None without dropout."""
    if lt.keep is None:
        return None
    return float(lt.keep[r, j]), lt.drop_scale


def dropped_line(fz: float, m: float, scale: float, a: float) -> str:
    """"f(z) × m × 1/(1 − rate) = a" with numbers."""
    return written(lambda e: (f"{term(fz, e)} × {int(m)} × {fmt(scale, e)}",
                              shown(fz, e) * m * shown(scale, e)), a)


def chain_line(of: str, da: float, fp: float, dz: float, drop: tuple[float, float] | None) -> str:
    """"dℓ/dz = dℓ/da × f′(z) = …" (with the dropout mask and scale between them)."""
    if drop is None:
        return f"dℓ/dz = dℓ/d{of} × f′(z) = " + product_expr([da, fp], dz)
    m, scale = drop
    return ("dℓ/dz = dℓ/da × m × 1/(1 − rate) × f′(z) = "
            + written(lambda e: (f"{term(da, e)} × {int(m)} × {fmt(scale, e)} × {term(fp, e)}",
                                 shown(da, e) * m * shown(scale, e) * shown(fp, e)), dz))


# -- dL/dW as a sum over the batch ------------------------------------------------------------
def weight_gradient_line(tr: StepTrace, lt: LayerTrace, i: int, j: int, name: str = "",
                         x: str = "") -> str:
    """"dL/dw[i,j] = Σ over the batch of xᵢ·dL/dz (+ penalty) = … = total": every sample's
    product, then the penalty's gradient."""
    products = (lt.a_in[:, i].astype(np.float64) * lt.dZ[:, j].astype(np.float64)).tolist()
    total = float(lt.dW[i, j])
    w = float(lt.W[i, j])
    B = len(products)
    head = f"dL/d{name or f'w[{i},{j}]'} = Σ over the {B} samples of {x or 'x' + sub(i)}·dL/dz"
    pen = None
    if tr.regularization == "l2" and tr.regularization_rate:
        pen = tr.regularization_rate * w
        head += " + λ·w"
    elif tr.regularization == "l1" and tr.regularization_rate:
        pen = tr.regularization_rate * float(np.sign(w))
        head += " + λ·sign(w)"
    values = products + ([pen] if pen is not None else [])
    return f"{head} = {sum_expr(values, total, limit=MAX_TERMS + 1)}"


# -- the update ------------------------------------------------------------------------------------
def update_lines(tr: StepTrace, lt: LayerTrace, key: str, idx: tuple[int, ...], name: str) -> list[str]:
    """The optimizer's step for one parameter: its state, its step Δ by the formula, and the new
    value as stored (in float32 a weight can only move by whole float32 steps: when that rounding
    shows, a note gives the change that landed)."""
    eta = tr.learning_rate
    old = float((lt.W if key == "W" else lt.b)[idx])
    g = float((lt.dW if key == "W" else lt.db)[idx])
    upd = lt.update_W if key == "W" else lt.update_b
    if upd is None:
        return [f"{name}: not updated yet (walk to the update phase)"]
    landed = float(upd[idx])
    state = {k: float(v[idx]) for k, v in (lt.state_W if key == "W" else lt.state_b).items()}
    o = tr.optimizer_options
    opt = tr.optimizer
    S = shown
    lines = []
    if opt in ("momentum", "nesterov") and "v" in state:
        mu = o.get("momentum", 0.9)
        vb, v = state["v_before"], state["v"]
        lines.append("v ← μ·v − η·g = " + written(
            lambda e: (f"{fmt(mu, e)} × {term(vb, e)} − {fmt(eta, e)} × {term(g, e)}",
                       S(mu, e) * S(vb, e) - S(eta, e) * S(g, e)), v) + "   (the velocity)")
        if opt == "momentum":
            step = v
            lines.append(f"Δ{name} = v = {fmt(step)}")
        else:
            step = mu * v - eta * g
            lines.append(f"Δ{name} = μ·v − η·g = " + written(
                lambda e: (f"{fmt(mu, e)} × {term(v, e)} − {fmt(eta, e)} × {term(g, e)}",
                           S(mu, e) * S(v, e) - S(eta, e) * S(g, e)), step))
    elif opt in ("adagrad", "rmsprop") and "c" in state:
        eps = o.get("epsilon", 1e-7)
        cb, c = state["c_before"], state["c"]
        if opt == "adagrad":
            lines.append("c ← c + g² = " + written(
                lambda e: (f"{fmt(cb, e)} + {term(g, e)}²", S(cb, e) + S(g, e) ** 2), c))
        else:
            rho = o.get("rho", 0.9)
            lines.append("c ← ρ·c + (1 − ρ)·g² = " + written(
                lambda e: (f"{fmt(rho, e)} × {fmt(cb, e)} + {fmt(1 - rho, e)} × {term(g, e)}²",
                           S(rho, e) * S(cb, e) + S(1 - rho, e) * S(g, e) ** 2), c))
        step = -eta * g / (math.sqrt(c) + eps)
        lines.append(f"Δ{name} = −η·g / (√c + ε) = " + written(
            lambda e: (f"−{fmt(eta, e)} × {term(g, e)} ÷ (√{fmt(c, e)} + {fmt(eps, e)})",
                       -S(eta, e) * S(g, e) / (math.sqrt(S(c, e)) + S(eps, e))), step))
    elif opt == "adam" and "m" in state:
        b1, b2, eps, t = o.get("beta1", 0.9), o.get("beta2", 0.999), o.get("epsilon", 1e-7), tr.optimizer_t
        m, v, mb, vb = (state[k] for k in ("m", "v", "m_before", "v_before"))
        mh, vh = (float(x) for x in tr.adam_hats(m, v))
        lines.append("m ← β₁·m + (1 − β₁)·g = " + written(
            lambda e: (f"{fmt(b1, e)} × {term(mb, e)} + {fmt(1 - b1, e)} × {term(g, e)}",
                       S(b1, e) * S(mb, e) + S(1 - b1, e) * S(g, e)), m))
        lines.append("v ← β₂·v + (1 − β₂)·g² = " + written(
            lambda e: (f"{fmt(b2, e)} × {fmt(vb, e)} + {fmt(1 - b2, e)} × {term(g, e)}²",
                       S(b2, e) * S(vb, e) + S(1 - b2, e) * S(g, e) ** 2), v))
        lines.append("m̂ = m / (1 − β₁ᵗ) = " + written(
            lambda e: (f"{term(m, e)} ÷ (1 − {fmt(b1, e)}^{t})", S(m, e) / (1 - S(b1, e) ** t)), mh)
            + f"   (t = {t})")
        lines.append("v̂ = v / (1 − β₂ᵗ) = " + written(
            lambda e: (f"{fmt(v, e)} ÷ (1 − {fmt(b2, e)}^{t})", S(v, e) / (1 - S(b2, e) ** t)), vh))
        step = -eta * mh / (math.sqrt(vh) + eps)
        lines.append(f"Δ{name} = −η·m̂ / (√v̂ + ε) = " + written(
            lambda e: (f"−{fmt(eta, e)} × {term(mh, e)} ÷ (√{fmt(vh, e)} + {fmt(eps, e)})",
                       -S(eta, e) * S(mh, e) / (math.sqrt(S(vh, e)) + S(eps, e))), step))
    else:
        step = -eta * g
        lines.append(f"Δ{name} = −η·g = " + written(
            lambda e: (f"−{fmt(eta, e)} × {term(g, e)}", -S(eta, e) * S(g, e)), step))
    new = old + landed
    lines.append(f"{name} → {name} + Δ{name} = " + written(
        lambda e: (f"{fmt(old, e)} + {term(step, e)}", S(old, e) + S(step, e)), new))
    if not agrees(landed, fmt(step)):
        lines.append(f"  ({name} is stored in {lt.W.dtype}: the change that landed is {fmt(landed)})")
    return lines


def optimizer_words(tr: StepTrace) -> str:
    """"momentum (momentum = 0.9), η = 0.5000"."""
    opts = ", ".join(f"{k} = {v:g}" for k, v in tr.optimizer_options.items()
                     if k != "initial_accumulator")
    return f"{tr.optimizer or 'the optimizer'}" + (f" ({opts})" if opts else "") + f", η = {fmt(tr.learning_rate)}"
