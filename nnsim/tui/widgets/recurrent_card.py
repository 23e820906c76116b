"""The card of one unit of a recurrent layer at one time step, with the actual numbers.

SimpleRNN: z = W·x + U·h + b written as its three parts — the input part W·x = Σᵢ xᵢ·W[i, j],
the recurrent part U·h = Σₖ hₖ·U[k, j] of the previous step's state (0 at the first step), the
bias — and h = f(z). LSTM: the same three parts for each of the unit's four gates, the gate
values i, f, o = σ(·) and g = tanh(·), the cell update c = f·cₜ₋₁ + i·g and h = o·tanh(c).
After a traced step: dL/dh at that step (from the layer above and from the next step), dL/dc
(LSTM) and dL/dz of each gate. The step is the unrolled view's step cursor. Other units of the
network keep their cards (`ConvCard`, `NeuronCard`). Plain Rich Text, built from numbers only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text

from nnsim.engine import activations
from nnsim.engine.network import Network
from nnsim.engine.trace import RecurrentTrace, StepTrace
from nnsim.engine.unroll import recurrent_trace

from . import mathtext as mt
from ._common import forward_sample, num
from .conv_card import ConvCard

HEAD = "bold"
DIM = "grey62"
MAX_TERMS = 4          # products written out in W·x and U·h
GATES = (("i", "input gate", "σ"), ("f", "forget gate", "σ"), ("g", "candidate", "tanh"),
         ("o", "output gate", "σ"))


def _steps(net: Network, layer: int, trace: StepTrace | None, r: int,
           x_row: np.ndarray | None) -> tuple[RecurrentTrace | None, int]:
    """The row's steps for the shown sample (a batch of one) and its index."""
    if trace is not None and trace.layers[layer].recurrent is not None:
        return trace.layers[layer].recurrent, r
    if x_row is None:
        return None, 0
    acts, _ = forward_sample(net, x_row)
    out = np.zeros((1, int(np.prod(net.row_shape(layer)))))
    return recurrent_trace(net, layer, acts[layer][None, :], out, net.P.astype(np.float64), None), 0


def _parts(terms: np.ndarray, weights: np.ndarray, name: str, sym: str, total: float) -> str:
    """"Σᵢ xᵢ·W[i, j] = 0.5×0.2 + … = 0.31" with at most MAX_TERMS products written out."""
    shown = [f"{mt.term(float(a))}×{mt.term(float(w))}" for a, w in
             zip(terms[:MAX_TERMS], weights[:MAX_TERMS])]
    more = f" + … ({len(terms)} terms)" if len(terms) > MAX_TERMS else ""
    return f"{name} = Σ {sym}·{'W' if sym == 'x' else 'U'} = " + " + ".join(shown) + more + f" = {num(total)}"


def recurrent_card_text(net: Network, layer: int, unit: int, step: int | None = None,
                        trace: StepTrace | None = None, sample_row: int = 0,
                        x_row: np.ndarray | None = None) -> Text:
    """The card of hidden unit `unit` of recurrent row `layer` at time step `step` (None: the
    last), for the traced sample `sample_row` or, without a trace, `x_row`."""
    lay = net.rows[layer]
    r = max(0, min(sample_row, len(trace.indices) - 1)) if trace is not None else 0
    rec, r = _steps(net, layer, trace, r, x_row)
    text = Text()
    kind = "LSTM" if lay.kind == "lstm" else f"SimpleRNN ({lay.activation})"
    if rec is None:
        text.append(f"{kind} unit {unit} of layer {layer + 1}\n", style=HEAD)
        text.append("no sample to show yet\n", style=DIM)
        return text
    T, H = rec.steps, rec.units
    unit = min(unit, H - 1)
    t = T - 1 if step is None or not 0 <= step < T else step
    where = (f"sample {r + 1} of the batch (train #{int(trace.indices[r])}), step {trace.step}"
             if trace is not None else "the selected sample, now")
    text.append(f"{kind} unit {unit} of layer {layer + 1} at time step t = {t} (of 0…{T - 1})",
                style=HEAD)
    text.append(f" — {where}\n", style=DIM)
    ds = net.rows[layer]
    P = (trace.layers[layer].W, trace.layers[layer].U, trace.layers[layer].b) if trace is not None \
        else (ds.params["W"], ds.params["U"], ds.params["b"])
    W, U, b = (np.asarray(v, dtype=np.float64) for v in P)
    x = rec.x[r, t].astype(np.float64)
    h_prev = rec.h[r, t - 1].astype(np.float64) if t > 0 else np.zeros(H)
    text.append(f"x{mt.sub(t)} = {mt.vector(x, 6)};  h{mt.sub(t - 1) if t else '₋₁'} = "
                + (mt.vector(h_prev, 6) if t else "0 (the state starts empty)") + "\n")
    gates = GATES if rec.gates == 4 else (("h", "state", lay.activation),)
    for q, (g, words, fn) in enumerate(gates):
        col = q * H + unit
        xw, uh, z = float(rec.xw[r, t, col]), float(rec.uh[r, t, col]), float(rec.z[r, t, col])
        label = f"{g} ({words})" if rec.gates == 4 else "h"
        text.append(f"{label}:\n", style=HEAD if rec.gates == 1 else "")
        text.append(f"  input part      {_parts(x, W[:, col], 'W·x', 'x', xw)}\n")
        if t:
            text.append(f"  recurrent part  {_parts(h_prev, U[:, col], 'U·h', 'h', uh)}\n")
        else:
            text.append("  recurrent part  U·h = 0 (h₋₁ = 0)\n")
        text.append(f"  bias            b = {num(float(b[col]))}\n")
        value = float(rec.gate[r, t, col]) if rec.gate is not None else float(rec.h[r, t, unit])
        text.append(f"  z = {num(xw)} + {mt.term(uh)} + {mt.term(float(b[col]))} = {num(z)};  "
                    f"{g} = {fn}({num(z)}) = {num(value)}\n")
    if rec.gates == 4 and rec.gate is not None and rec.c is not None:
        i, f, g, o = (float(rec.gate[r, t, q * H + unit]) for q in range(4))
        c_prev = float(rec.c[r, t - 1, unit]) if t else 0.0
        c, h = float(rec.c[r, t, unit]), float(rec.h[r, t, unit])
        text.append("cell: ", style=HEAD)
        text.append(f"c = f·cₜ₋₁ + i·g = {num(f)}×{mt.term(c_prev)} + {num(i)}×{mt.term(g)} = {num(c)}"
                    "   (f keeps the old cell, i writes g)\n")
        text.append("output: ", style=HEAD)
        text.append(f"h = o·tanh(c) = {num(o)} × tanh({num(c)}) = {num(h)}\n")
    if trace is not None and rec.dh_norm.any():
        above, total = float(rec.dh_above[r, t, unit]), float(rec.dh[r, t, unit])
        text.append("backward (batch gradients): ", style=HEAD)
        text.append(f"dL/dh = {num(above)} (above) + {mt.term(total - above)} (from t+1) = {num(total)}")
        if rec.dc is not None:
            text.append(f";  dL/dc = {num(float(rec.dc[r, t, unit]))}")
        text.append("\n  dL/dz: " + ", ".join(
            f"{g} {num(float(rec.dz[r, t, q * H + unit]))}" for q, (g, _, _) in enumerate(gates)) + "\n")
        text.append(f"  ‖dL/dh‖ at this step over the batch {num(float(rec.dh_norm[t]))} "
                    f"(last step {num(float(rec.dh_norm[-1]))})\n", style=DIM)
    elif trace is None:
        text.append("step a batch (n) or walk one (f) for the gradients through time\n", style=DIM)
    act = activations.get(lay.activation)
    if rec.gates == 1:
        text.append(f"{act.formula}\n", style=DIM)
    return text


class RecurrentCard(ConvCard):
    """The card of a network with recurrent layers: `recurrent_card_text` for their units (at
    the unrolled view's step cursor), the conv or neuron card for the rest."""

    def show(self, net: Network, layer: int, unit: int, trace: StepTrace | None = None,  # type: ignore[override]
             sample_row: int = 0, x_row: np.ndarray | None = None, *args: Any, **kwargs: Any) -> None:
        if layer < 0 or net.row_kind(layer) not in ("simple_rnn", "lstm"):
            if layer >= 0 and net.row_kind(layer) == "dense" and len(net.row_input_shape(layer)) == 2:
                self._text = Text(f"Dense layer {layer + 1} on a sequence: the same W and b at "
                                  f"every step (z = hₜ·W + b for each t); its values are in the "
                                  "unrolled view above\n", style=DIM)
                self._show_text()
                return
            super().show(net, layer, unit, trace, sample_row, x_row, *args, **kwargs)
            return
        step = None
        if self.is_attached:                # the unrolled view's step cursor, when there is one
            views = self.screen.query("#netview")
            if views and hasattr(views.first(), "shown_step"):
                step = views.first().shown_step()
        self._text = recurrent_card_text(net, layer, unit, step, trace, sample_row, x_row)
        self._show_text()
