"""NeuronCard: every number of one neuron for one sample — inputs, weights, the written-out
sum z, a = f(z), and after a backward pass this sample's dℓ/da, f′(z), dℓ/dz (the per-sample
quantities the texts teach), its share of the batch gradient (÷ B), dL/dwᵢ as the batch sum of
the samples' shares, and the optimizer's actual step with its state. Equations: `mathtext`."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from nnsim.engine import activations
from nnsim.engine.network import Network
from nnsim.engine.trace import StepTrace

from . import mathtext as mt
from ._common import forward_sample

MAX_ROWS = 8            # input rows in the table
HEAD = "bold"
DIM = "grey62"
MARK = "▸"              # the selected weight's row


#: Columns left out first when the card is too narrow for the table (their numbers stay in the
#: lines under it: the selected weight's sum and update).
OPTIONAL = ("m̂ᵢ", "v̂ᵢ", "vᵢ", "cᵢ", "xᵢ·dL/dz", "xᵢwᵢ")


def _table(text: Text, cols: list[tuple[str, np.ndarray | None]], n: int, selected: int | None,
           width: int | None = None) -> None:
    """Aligned columns (header + up to MAX_ROWS rows around the selected one), dropping
    `OPTIONAL` columns until the table fits `width`."""
    first = 0 if selected is None or selected < MAX_ROWS else selected - MAX_ROWS + 1
    rows = range(first, min(n, first + MAX_ROWS))
    table = [(h, [(MARK if i == selected else " ") + str(i) if h == "i" else mt.fmt(v[i]) for i in rows])
             for h, v in cols if v is not None]
    widths = [max(len(h), *(len(c) for c in cells)) + 2 if cells else len(h) + 2
              for h, cells in table]
    for name in OPTIONAL:
        if width is None or sum(widths) <= width:
            break
        k = next((k for k, (h, _) in enumerate(table) if h == name), None)
        if k is not None:
            del table[k], widths[k]
    text.append("".join(f"{h:>{w}}" for (h, _), w in zip(table, widths)) + "\n", style=DIM)
    for k in range(len(rows)):
        text.append("".join(f"{cells[k]:>{w}}" for (_, cells), w in zip(table, widths)) + "\n")
    if n > len(rows):
        text.append(f"  … {n - len(rows)} more inputs\n", style=DIM)


def neuron_card_text(net: Network, layer: int, unit: int, trace: StepTrace | None = None,
                     sample_row: int = 0, x_row: np.ndarray | None = None,
                     weight: int | None = 0, width: int | None = None) -> Text:
    """The card's content (plain Rich Text) for dense `layer` (−1: input), `unit`; `weight` is
    the selected incoming weight's input index (its row is marked, its sums written out);
    `width`, the columns the card has, makes the input table leave out optional columns."""
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
    alpha = float(dense.alpha if dense.alpha is not None else act.default_alpha)
    kind = "output" if layer == net.n_dense - 1 else "hidden"
    text.append(f"Neuron {unit} of {net.dense_label(layer)}", style=HEAD)
    text.append(f" — {kind}, {act.name}, {where}\n", style=DIM)

    lt = None
    if trace is not None:
        lt = trace.layers[layer]
        r = sample_row
        xs, ws, b = lt.a_in[r].astype(np.float64), lt.W[:, unit].astype(np.float64), float(lt.b[unit])
        z, a = float(lt.z[r, unit]), float(lt.a[r, unit])
        fz = float(lt.fz[r, unit]) if lt.fz is not None else a
    else:
        ws = net.dense[layer].params["W"][:, unit].astype(np.float64)
        b = float(net.dense[layer].params["b"][unit])
        if x_row is None:
            text.append("inputs: select a sample to see the forward pass\n", style=DIM)
            _table(text, [("i", None), ("wᵢ", ws)], len(ws), None)
            text.append(f"bias b = {mt.fmt(b)}\n")
            return text
        acts, zs = forward_sample(net, x_row)
        xs, z, a = acts[layer], float(zs[layer][unit]), float(acts[layer + 1][unit])
        fz = a
    sel = None if weight is None else max(0, min(int(weight), len(xs) - 1))

    backward = lt is not None and lt.dW is not None
    cols: list[tuple[str, np.ndarray | None]] = [("i", np.arange(len(xs))), ("xᵢ", xs), ("wᵢ", ws),
                                                 ("xᵢwᵢ", ws * xs)]
    if backward:
        cols.append(("xᵢ·dL/dz", xs * float(lt.dZ[sample_row, unit])))
        cols.append(("dL/dwᵢ", lt.dW[:, unit].astype(np.float64)))
        if lt.update_W is not None:
            cols.append(("Δwᵢ", lt.update_W[:, unit].astype(np.float64)))
            st = lt.state_W
            if "m" in st:                              # adam: the bias-corrected moments
                mh, vh = trace.adam_hats(st["m"][:, unit], st["v"][:, unit])
                cols += [("m̂ᵢ", mh), ("v̂ᵢ", vh)]
            for key, label in (("v", "vᵢ"), ("c", "cᵢ")):
                if key in st and "m" not in st:
                    cols.append((label, st[key][:, unit].astype(np.float64)))
    source = "the data" if layer == 0 else net.dense_label(layer - 1)
    text.append(f"inputs ({len(xs)} from {source}; {MARK} the selected weight, w to move)\n", style=HEAD)
    _table(text, cols, len(xs), sel, width)
    text.append(f"bias b = {mt.fmt(b)}\n")
    text.append("z = Σ xᵢwᵢ + b = ", style=HEAD)
    text.append(mt.dot_expr(xs, ws, b, z) + "\n")
    if act.name == "softmax":
        text.append(f"a = softmax(z){mt.sub(unit)}, component {unit} of softmax over the layer's "
                    f"{n_units} z values:\n")
        if lt is not None:
            z_layer, a_layer = lt.z[sample_row], lt.a[sample_row]
        else:
            z_layer, a_layer = zs[layer], acts[layer + 1]
        for line in mt.softmax_lines(z_layer, a_layer, [unit]):
            text.append(f"  {line}\n")
    else:
        text.append(f"a = {act.name}(z) = {act.name}({mt.fmt(z)}) = {mt.fmt(fz)}\n")
        drop = mt.dropout_factor(lt, sample_row, unit) if lt is not None else None
        if drop is not None:
            m, scale = drop
            text.append(f"  dropout (rate {lt.drop_rate:g}): a = f(z) × m × 1/(1 − rate) = "
                        f"{mt.dropped_line(fz, m, scale, a)}  ({'kept' if m else 'dropped'} in this step)\n")
    text.append(f"  {act.formula}\n", style=DIM)

    if not backward:
        text.append("\nrun a traced step to see the gradients and the update\n", style=DIM)
        return _legend(text)
    _backward(text, net, trace, layer, unit, sample_row, sel, act.name, alpha, z, fz)
    return _legend(text)


def _legend(text: Text) -> Text:
    if mt.APPROX in text.plain:
        text.append(mt.LEGEND + "\n", style=DIM)
    return text


def _backward(text: Text, net: Network, trace: StepTrace, layer: int, unit: int, r: int,
              sel: int | None, act: str, alpha: float, z: float, fz: float) -> None:
    """dℓ/da, f′(z), dℓ/dz per sample; the share ÷ B; dL/dw as a batch sum; the update."""
    lt = trace.layers[layer]
    dz_share = float(lt.dZ[r, unit])
    text.append("\nbackward", style=HEAD)
    text.append(f" — ℓ is this sample's loss; {mt.reduction_words(trace)}\n", style=DIM)
    if layer == net.n_dense - 1:
        of, g, line = mt.output_gradient(trace, r, unit)
        text.append(line + "\n")
        if of == "z":
            dz = g
        elif act == "softmax":
            dz = _softmax_backward(text, trace, r, unit)
        else:
            out_name = "ŷ" if trace.loss_name in ("mse", "sse", "mae") else "p"
            dz = _chain(text, lt, r, unit, act, alpha, z, fz, g, out_name)
    else:
        nxt = trace.layers[layer + 1]
        w_next = nxt.W[unit].astype(np.float64)
        d_next = trace.per_sample(nxt.dZ[r].astype(np.float64))
        da = float(trace.per_sample(float(lt.dA[r, unit])))
        text.append(f"dℓ/da = Σₖ w[{unit},k]·dℓ/dzₖ over {net.dense_label(layer + 1)} = "
                    f"{mt.dot_expr(w_next, d_next, None, da)}\n")
        dz = _chain(text, lt, r, unit, act, alpha, z, fz, da, "a")
    text.append(mt.share_line(trace, "z", dz, dz_share) + "\n")
    if sel is not None:
        text.append(mt.weight_gradient_line(trace, lt, sel, unit, f"w{mt.sub(sel)}") + "\n")
    text.append(f"dL/db = Σ dL/dz over the batch = "
                f"{mt.sum_expr(lt.dZ[:, unit].astype(np.float64).tolist(), float(lt.db[unit]))}\n")
    text.append("update", style=HEAD)
    text.append(f" — {mt.optimizer_words(trace)}\n", style=DIM)
    if lt.update_W is None:
        text.append("not applied yet (walk to the update phase)\n", style=DIM)
        return
    if sel is not None:
        for line in mt.update_lines(trace, lt, "W", (sel, unit), f"w{mt.sub(sel)}"):
            text.append(line + "\n")
    for line in mt.update_lines(trace, lt, "b", (unit,), "b"):
        text.append(line + "\n")


def _chain(text: Text, lt, r: int, unit: int, act: str, alpha: float, z: float, fz: float,
           da: float, of: str) -> float:
    """dℓ/dz = dℓ/da (× dropout mask and scale) × f′(z), written out; returns dℓ/dz."""
    fp, fp_line = mt.f_prime(act, z, fz, alpha)
    text.append(fp_line + "\n")
    drop = mt.dropout_factor(lt, r, unit)
    dz = da * fp * (1.0 if drop is None else drop[0] * drop[1])
    text.append(mt.chain_line(of, da, fp, dz, drop))
    if drop is not None:
        text.append(f"   (dropout: m = {int(drop[0])}, {'kept' if drop[0] else 'dropped'} in this step)")
    text.append("\n")
    return dz


def _softmax_backward(text: Text, trace: StepTrace, r: int, unit: int) -> float:
    """dℓ/dz for a softmax output under a loss without the fused rule."""
    out = trace.layers[-1]
    k = out.a.shape[1]
    a = out.a[r].astype(np.float64)
    da = np.array([mt.output_gradient(trace, r, j)[1] for j in range(k)])
    s = float(np.dot(da, a))
    text.append(f"Σₖ dℓ/daₖ·aₖ = {mt.dot_expr(da, a, None, s)}\n")
    dz = float(a[unit] * (da[unit] - s))
    text.append("dℓ/dz = a × (dℓ/da − Σₖ dℓ/daₖ·aₖ) = " + mt.written(
        lambda e: (f"{mt.fmt(a[unit], e)} × ({mt.fmt(da[unit], e)} − {mt.term(s, e)})",
                   mt.shown(a[unit], e) * (mt.shown(da[unit], e) - mt.shown(s, e))), dz)
        + "   (softmax's Jacobian)\n")
    return dz


def _input_card(text: Text, net: Network, unit: int, trace: StepTrace | None, r: int,
                x_row: np.ndarray | None, where: str) -> Text:
    text.append(f"Input x{unit}", style=HEAD)
    text.append(f" — {where}\n", style=DIM)
    x = None
    if trace is not None:
        x = float(trace.layers[0].a_in[r, unit])
    elif x_row is not None:
        x = float(np.asarray(x_row, dtype=np.float64).reshape(-1)[unit])
    text.append(f"x{unit} = {mt.fmt(x) if x is not None else '—'}")
    if trace is not None and trace.input_keep is not None:
        m = int(trace.input_keep[r, unit])
        text.append(f"  (input dropout, rate {trace.input_drop_rate:g}: "
                    f"{'kept and scaled by 1/(1 − rate)' if m else 'dropped in this step'})")
    text.append("\n")
    w = net.dense[0].params["W"][unit].astype(np.float64)
    text.append(f"outgoing weights to {net.dense_label(0)}:\n", style=HEAD)
    for j in range(min(len(w), MAX_ROWS)):
        text.append(f"  w[{unit},{j}] = {mt.fmt(w[j])}\n")
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
             sample_row: int = 0, x_row: np.ndarray | None = None, weight: int | None = 0) -> None:
        """Show dense `layer` (−1 for an input), `unit` for one sample of `trace` (row
        `sample_row`), or without a trace for a forward pass of `x_row` with the current weights;
        `weight` is the selected incoming weight."""
        width = self.scrollable_content_region.width if self.is_attached else 0
        self._text = neuron_card_text(net, layer, unit, trace, sample_row, x_row, weight,
                                      width - 1 if width > 1 else None)
        self._show_text()

    def clear(self, message: str = "select a neuron") -> None:
        self._text = Text(message, style=DIM)
        self._show_text()

    def _show_text(self) -> None:
        if self._body.is_attached:
            self._body.update(self._text)
        else:  # not mounted (yet, or any more): compose will use a fresh body
            self._body = Static(self._text, classes="neuron-card-body")
