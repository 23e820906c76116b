"""The stepper's phases of a recurrent layer, one time step at a time, with the numbers.

Forward, at step t: the input part x_t·W, the recurrent part h_{t−1}·U (zero at t = 0), the
bias, then h_t = f(z) (SimpleRNN) or the four gates and the cell update c = f·c + i·g,
h = o·tanh c (LSTM), for a few units of the shown sample. Backward, from the last step back:
dL/dh_t as what arrives from the layer above plus what flows back from step t+1 through U,
the gates' gradients, this step's contribution to dL/dW, dL/dU and dL/db, and the gradient
norm ‖dL/dh‖ of every step walked so far — shrinking (vanishing) or growing (exploding) as it
flows back. The numbers are the batch loss L's gradients (each sample's share), as the kernels
keep them. `stepper.phase_text` calls these for trace layers with a `recurrent` part.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

from nnsim.engine import activations
from nnsim.engine.trace import RecurrentTrace, StepTrace

from . import mathtext as mt
from ._common import num

HEAD = "bold"
DIM = "grey62"
SHOWN = 3             # units written out per phase
GATES = ("i", "f", "g", "o")
GATE_WORDS = {"i": "input gate σ", "f": "forget gate σ", "g": "candidate tanh", "o": "output gate σ"}
BARS = "▁▂▃▄▅▆▇█"


def norm_bars(values: np.ndarray, lo: float | None = None, hi: float | None = None) -> str:
    """One bar per value on a log scale between lo and hi (default: the values' own range)."""
    v = np.log10(np.maximum(np.asarray(values, dtype=np.float64), 1e-300))
    a = float(v.min()) if lo is None else np.log10(max(lo, 1e-300))
    b = float(v.max()) if hi is None else np.log10(max(hi, 1e-300))
    if b - a < 1e-12:
        return BARS[-1] * len(v)
    idx = np.clip(((v - a) / (b - a) * (len(BARS) - 1)).round().astype(int), 0, len(BARS) - 1)
    return "".join(BARS[i] for i in idx)


def _name(lt_kind: str, rec: RecurrentTrace) -> str:
    if rec.gates == 4:
        return f"LSTM, {rec.units} units"
    return f"SimpleRNN {rec.activation}, {rec.units} units"


def recurrent_forward(text: Text, tr: StepTrace, l: int, r: int, t: int) -> None:
    """Forward phase of recurrent layer `l` at step t, for batch row r."""
    lt = tr.layers[l]
    rec = lt.recurrent
    assert rec is not None
    H, T, k = rec.units, rec.steps, rec.gates
    text.append(f"Forward · layer {l + 1} of {len(tr.layers)} ({_name(lt.kind, rec)}) · "
                f"step t = {t} of 0…{T - 1}\n", style=HEAD)
    F = rec.x.shape[2]
    text.append(f"z = xₜ·W + hₜ₋₁·U + b    x: {F} features, W: {F}×{k * H}, U: {H}×{k * H}, "
                f"b: {k * H}" + ("; blocks i, f, g, o" if k == 4 else "") + "\n")
    text.append(f"  x{mt.sub(t)} = {mt.vector(rec.x[r, t])}\n")
    if t == 0:
        text.append("  h₋₁ = 0" + (", c₋₁ = 0" if k == 4 else "") + " (the state starts empty)\n",
                    style=DIM)
    else:
        text.append(f"  h{mt.sub(t - 1)} = {mt.vector(rec.h[r, t - 1], 6)}  (the state from step "
                    f"{t - 1})\n")
    units = range(min(H, SHOWN))
    if k == 1:
        act = activations.get(rec.activation)
        for j in units:
            xw, uh, z = (float(v[r, t, j]) for v in (rec.xw, rec.uh, rec.z))
            b = float(lt.b[j])
            h = float(rec.h[r, t, j])
            text.append(f"  unit {j}: h = {act.name}(x·W + h·U + b) = {act.name}({num(xw)} {_plus(uh)} "
                        f"{_plus(b)}) = {act.name}({num(z)}) = {num(h)}\n")
    else:
        assert rec.gate is not None and rec.c is not None
        for j in units:
            text.append(f"  unit {j}: each gate = its function of x·W + h·U + b\n")
            for q, g in enumerate(GATES):
                col = q * H + j
                xw, uh, z = (float(v[r, t, col]) for v in (rec.xw, rec.uh, rec.z))
                val = float(rec.gate[r, t, col])
                fn = "tanh" if g == "g" else "σ"
                text.append(f"    {g} = {fn}({num(xw)} {_plus(uh)} {_plus(float(lt.b[col]))}) = "
                            f"{fn}({num(z)}) = {num(val)}   {GATE_WORDS[g]}\n")
            i, f, g, o = (float(rec.gate[r, t, q * H + j]) for q in range(4))
            c_prev = float(rec.c[r, t - 1, j]) if t > 0 else 0.0
            c = float(rec.c[r, t, j])
            h = float(rec.h[r, t, j])
            text.append(f"    c = f·cₜ₋₁ + i·g = {num(f)}×{mt.term(c_prev)} + {num(i)}×{mt.term(g)} = "
                        f"{num(c)}   (kept + written)\n")
            text.append(f"    h = o·tanh(c) = {num(o)} × tanh({num(c)}) = {num(h)}\n")
    if H > SHOWN:
        text.append(f"  … ({H} units)\n", style=DIM)
    text.append(f"h{mt.sub(t)} = {mt.vector(rec.h[r, t], 6)}\n")
    if t == T - 1:
        goes = "every step's h goes on" if rec.return_sequences else "the last step's h goes on"
        text.append(f"the layer's output: {goes} to layer {l + 2}\n", style=DIM)


def recurrent_backward(text: Text, tr: StepTrace, l: int, r: int, t: int) -> None:
    """Backward phase of recurrent layer `l` at step t (walked from the last step back)."""
    lt = tr.layers[l]
    rec = lt.recurrent
    assert rec is not None
    H, T, k = rec.units, rec.steps, rec.gates
    text.append(f"Backward through time · layer {l + 1} of {len(tr.layers)} ({_name(lt.kind, rec)})"
                f" · step t = {t} (from {T - 1} back to 0)\n", style=HEAD)
    text.append("gradients of the batch loss L (each sample's share)\n", style=DIM)
    text.append("dL/dhₜ = from the layer above (at this step) + from step t+1: dL/dzₜ₊₁·Uᵀ\n")
    units = range(min(H, SHOWN))
    for j in units:
        above = float(rec.dh_above[r, t, j])
        total = float(rec.dh[r, t, j])
        back = total - above
        text.append(f"  unit {j}: dL/dh = {num(above)} {_plus(back)} = {num(total)}\n")
    if k == 1:
        act = activations.get(rec.activation)
        text.append(f"dL/dz = dL/dh ⊙ f′(z)    {act.formula}\n")
        for j in units:
            fp, _ = mt.f_prime(act.name, float(rec.z[r, t, j]), float(rec.h[r, t, j]), lt.alpha)
            text.append(f"  unit {j}: dL/dz = {num(float(rec.dh[r, t, j]))} × {num(fp)} = "
                        f"{num(float(rec.dz[r, t, j]))}\n")
    else:
        assert rec.gate is not None and rec.c is not None and rec.dc is not None
        text.append("dL/dc = dL/dh·o·(1 − tanh²c) + dL/dcₜ₊₁·fₜ₊₁   (the cell's own path back: "
                    "× f at every step)\n")
        for j in units:
            o = float(rec.gate[r, t, 3 * H + j])
            tc = np.tanh(float(rec.c[r, t, j]))
            via_h = float(rec.dh[r, t, j]) * o * (1 - tc * tc)
            dc = float(rec.dc[r, t, j])
            text.append(f"  unit {j}: dL/dc = {num(via_h)} {_plus(dc - via_h)} = {num(dc)}; "
                        f"gates dL/dz: " + ", ".join(
                            f"{g} {num(float(rec.dz[r, t, q * H + j]))}" for q, g in enumerate(GATES))
                        + "\n")
        text.append("  (di = dc·g·i(1−i), df = dc·cₜ₋₁·f(1−f), dg = dc·i·(1−g²), "
                    "do = dh·tanh c·o(1−o))\n", style=DIM)
    if H > SHOWN:
        text.append(f"  … ({H} units)\n", style=DIM)
    text.append("this step's contribution: dW += xₜᵀ·dzₜ, dU += hₜ₋₁ᵀ·dzₜ, db += Σ dzₜ "
                f"(the same W, U, b at every step): ‖·‖ = {num(float(rec.contribution[t]))}\n")
    walked = rec.dh_norm[t:][::-1]          # steps T−1 … t
    text.append(f"‖dL/dh‖ over the batch, steps {T - 1} → {t}: {norm_bars(walked, *_range(rec))}  "
                f"{num(float(rec.dh_norm[T - 1]))} → {num(float(rec.dh_norm[t]))}\n")
    if t < T - 1 and rec.dh_norm[T - 1] > 0:
        ratio = float(rec.dh_norm[t] / rec.dh_norm[T - 1])
        word = ("shrinks as it flows back (vanishing)" if ratio < 0.5 else
                "grows as it flows back (exploding)" if ratio > 2 else "keeps about its size")
        text.append(f"  ratio to the last step {num(ratio)}: the gradient {word}\n", style=DIM)
    if t == 0:
        text.append(f"complete: ‖dL/dW‖ = {num(float(np.linalg.norm(lt.dW)))}, ‖dL/dU‖ = "
                    f"{num(float(np.linalg.norm(lt.dU)))}, ‖dL/db‖ = {num(float(np.linalg.norm(lt.db)))}"
                    "\n")
        if rec.clip_scale < 1.0:
            text.append(f"clipped: every gradient × {num(rec.clip_scale)} (clip_norm: the global norm "
                        "was larger)\n")
        if l > 0:
            text.append(f"dL/dx for layer {l} at every step: dL/dzₜ·Wᵀ\n", style=DIM)


def _plus(v: float) -> str:
    """"+ 0.12" or "− 0.12": a term added in an expression."""
    s = num(v)
    return f"− {s[1:]}" if s.startswith(mt.MINUS) else f"+ {s}"


def _range(rec: RecurrentTrace) -> tuple[float, float]:
    v = rec.dh_norm[rec.dh_norm > 0]
    return (float(v.min()), float(v.max())) if v.size else (1.0, 1.0)
