"""NeuronCard: every number of one neuron for one sample — inputs, weights, the written-out
sum z, a = f(z), and after a backward pass dL/da, dL/dz, dL/dwᵢ and the update applied."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from nnsim.engine import activations
from nnsim.engine.network import Network
from nnsim.engine.trace import StepTrace

from ._common import forward_sample, num, written_sum

MAX_ROWS = 8            # input rows in the table
HEAD = "bold"
DIM = "grey62"


def _table(text: Text, cols: list[tuple[str, np.ndarray | None]], n: int) -> None:
    """Aligned columns (header + up to MAX_ROWS rows, each as narrow as it can be)."""
    rows = min(n, MAX_ROWS)
    table = [(h, [str(i) if h == "i" else num(v[i]) for i in range(rows)])
             for h, v in cols if v is not None]
    widths = [max(len(h), *(len(c) for c in cells)) + 2 if cells else len(h) + 2
              for h, cells in table]
    text.append("".join(f"{h:>{w}}" for (h, _), w in zip(table, widths)) + "\n", style=DIM)
    for i in range(rows):
        text.append("".join(f"{cells[i]:>{w}}" for (_, cells), w in zip(table, widths)) + "\n")
    if n > MAX_ROWS:
        text.append(f"  … {n - MAX_ROWS} more inputs\n", style=DIM)


def neuron_card_text(net: Network, layer: int, unit: int, trace: StepTrace | None = None,
                     sample_row: int = 0, x_row: np.ndarray | None = None) -> Text:
    """The card's content (plain Rich Text) for dense `layer` (−1: input), `unit`."""
    if layer < -1 or layer >= net.n_dense:
        raise ValueError(f"layer must be in -1..{net.n_dense - 1}, got {layer}")
    n_units = net.input_dim if layer < 0 else int(net.dense[layer].units)
    if not 0 <= unit < n_units:
        raise ValueError(f"unit must be in 0..{n_units - 1}, got {unit}")
    text = Text()
    if trace is not None:
        sample_row = max(0, min(sample_row, len(trace.indices) - 1))
        where = (f"sample {sample_row + 1} of the batch (train #{int(trace.indices[sample_row])}),"
                 f" step {trace.step}")
    else:
        where = "the selected sample" if x_row is not None else "no sample selected"
    if layer < 0:
        return _input_card(text, net, unit, trace, sample_row, x_row, where)

    dense = net.dense[layer]
    act = activations.get(dense.activation)
    alpha = float(dense.alpha or 0.0)
    kind = "output" if layer == net.n_dense - 1 else "hidden"
    text.append(f"Neuron {unit} of {net.dense_label(layer)}", style=HEAD)
    text.append(f" — {kind}, {act.name}, {where}\n", style=DIM)

    if trace is not None:
        lt = trace.layers[layer]
        r = sample_row
        xs, ws, b = lt.a_in[r].astype(np.float64), lt.W[:, unit].astype(np.float64), float(lt.b[unit])
        z, a = float(lt.z[r, unit]), float(lt.a[r, unit])
    else:
        ws = net.dense[layer].params["W"][:, unit].astype(np.float64)
        b = float(net.dense[layer].params["b"][unit])
        if x_row is None:
            text.append("inputs: select a sample to see the forward pass\n", style=DIM)
            _table(text, [("i", None), ("wᵢ", ws)], len(ws))
            text.append(f"bias b = {num(b)}\n")
            return text
        acts, zs = forward_sample(net, x_row)
        xs, z, a = acts[layer], float(zs[layer][unit]), float(acts[layer + 1][unit])
        lt = None

    backward = lt is not None and lt.dW is not None
    cols: list[tuple[str, np.ndarray | None]] = [("i", np.arange(len(xs))), ("xᵢ", xs), ("wᵢ", ws),
                                                 ("wᵢxᵢ", ws * xs)]
    if backward:
        cols.append(("dL/dwᵢ", lt.dW[:, unit].astype(np.float64)))
        if lt.update_W is not None:
            cols.append(("−η·g", -trace.learning_rate * lt.dW[:, unit].astype(np.float64)))
            cols.append(("Δwᵢ", lt.update_W[:, unit].astype(np.float64)))
    text.append(f"inputs ({len(xs)} from {'the data' if layer == 0 else net.dense_label(layer - 1)})\n",
                style=HEAD)
    _table(text, cols, len(xs))
    text.append(f"bias b = {num(b)}\n")
    text.append("z = Σ wᵢxᵢ + b = ", style=HEAD)
    text.append(written_sum(xs, ws, b, z) + "\n")
    if act.name == "softmax":
        text.append(f"a = softmax(z)[{unit}] = {num(a)}  (over the layer's {n_units} outputs)\n")
    else:
        text.append(f"a = {act.name}(z) = {act.name}({num(z)}) = {num(a)}\n")
        fz = float(act.fn(np.array([[z]]), alpha)[0, 0])
        if lt is not None and abs(fz - a) > 1e-5 * max(1.0, abs(fz)):
            text.append(f"  (dropout: f(z) = {num(fz)} was scaled or dropped to {num(a)})\n", style=DIM)
    text.append(f"  {act.formula}\n", style=DIM)

    if not backward:
        text.append("\nrun a traced step to see the gradients and the update\n", style=DIM)
        return text
    r = sample_row
    da, dz = float(lt.dA[r, unit]), float(lt.dZ[r, unit])
    text.append("\nbackward", style=HEAD)
    text.append(f" (dL/dW sums over the batch of {len(trace.indices)})\n", style=DIM)
    text.append(f"dL/da = {num(da)}" + ("  (from the loss)\n" if kind == "output" else "\n"))
    if act.name == "softmax":
        text.append(f"dL/dz = a ⊙ (dL/da − Σₖ dL/daₖ·aₖ) = {num(dz)}\n")
    else:
        fp = float(act.grad(np.array([[z]]), np.array([[a]]), alpha)[0, 0])
        text.append(f"f′(z) = {num(fp)}\n")
        note = "  (dropout mask applied)" if abs(da * fp - dz) > 1e-5 * max(1.0, abs(dz)) else ""
        text.append(f"dL/dz = dL/da ⊙ f′(z) = {num(da)} × {num(fp)} = {num(dz)}{note}\n")
    text.append(f"dL/db = Σ dL/dz over the batch = {num(float(lt.db[unit]))}\n")
    if lt.update_W is None:
        text.append("update: not applied yet (walk to the update phase)\n", style=DIM)
    else:
        ub = float(lt.update_b[unit])
        text.append(f"update: Δb = {num(ub)}, b → {num(b + ub)}; "
                    f"Δwᵢ is what the optimizer applied (η = {num(trace.learning_rate)})\n")
    return text


def _input_card(text: Text, net: Network, unit: int, trace: StepTrace | None, r: int,
                x_row: np.ndarray | None, where: str) -> Text:
    text.append(f"Input x{unit}", style=HEAD)
    text.append(f" — {where}\n", style=DIM)
    x = None
    if trace is not None:
        x = float(trace.layers[0].a_in[r, unit])
    elif x_row is not None:
        x = float(np.asarray(x_row, dtype=np.float64).reshape(-1)[unit])
    text.append(f"x{unit} = {num(x) if x is not None else '—'}\n")
    w = net.dense[0].params["W"][unit].astype(np.float64)
    text.append(f"outgoing weights to {net.dense_label(0)}:\n", style=HEAD)
    for j in range(min(len(w), MAX_ROWS)):
        text.append(f"  w[{unit},{j}] = {num(w[j])}\n")
    if len(w) > MAX_ROWS:
        text.append(f"  … {len(w) - MAX_ROWS} more\n", style=DIM)
    return text


class NeuronCard(VerticalScroll):
    """A scrollable panel with `neuron_card_text` for the selected neuron."""

    DEFAULT_CSS = """
    NeuronCard {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._text = Text("select a neuron (arrows + Enter in the network view)", style=DIM)
        self._body = Static(self._text, classes="neuron-card-body")

    def compose(self) -> ComposeResult:
        yield self._body

    @property
    def text(self) -> str:
        """Plain text of what the card shows."""
        return self._text.plain

    def show(self, net: Network, layer: int, unit: int, trace: StepTrace | None = None,
             sample_row: int = 0, x_row: np.ndarray | None = None) -> None:
        """Show dense `layer` (−1 for an input), `unit` for one sample of `trace` (row
        `sample_row`), or without a trace for a forward pass of `x_row` with the current weights."""
        self._text = neuron_card_text(net, layer, unit, trace, sample_row, x_row)
        self._show_text()

    def clear(self, message: str = "select a neuron") -> None:
        self._text = Text(message, style=DIM)
        self._show_text()

    def _show_text(self) -> None:
        if self._body.is_attached:
            self._body.update(self._text)
        else:  # not mounted (yet, or any more): compose will use a fresh body
            self._body = Static(self._text, classes="neuron-card-body")
