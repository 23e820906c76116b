"""The card of one unit of a convolutional network, with the actual numbers (CNN Explainer's
view, in the terminal).

A conv output: its receptive field (the patch of the layer below under the kernel, zeros where
the window reaches into the padding), the kernel, the products and their sum, + b, a = f(z);
after a traced step dL/da, dL/dz, the kernel's gradient and the update. A pool output: its
window, which input won (max) or the mean (average), and where its gradient goes. A flatten
unit: which channel, row and column it comes from. An input pixel: its value. Dense units keep
the neuron card (`neuron_card_text`). Plain Rich Text, built from numbers only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text

from nnsim.engine import activations
from nnsim.engine.network import Network
from nnsim.engine.trace import StepTrace

from ._common import forward_sample, num
from .neuron_card import NeuronCard

HEAD = "bold"
DIM = "grey62"
WON = "bold gold1"
MAX_CHANNELS = 3        # input channels written out in full; the others as their sums


def _where(trace: StepTrace | None, r: int, x_row: np.ndarray | None) -> str:
    if trace is not None:
        return f"sample {r + 1} of the batch (train #{int(trace.indices[r])}), step {trace.step}"
    return "the selected sample" if x_row is not None else "no sample selected"


def _grid(text: Text, blocks: list[tuple[str, np.ndarray]], mark: tuple[int, int] | None = None) -> None:
    """Small matrices side by side under their titles, two decimals each."""
    cells = [[[num(v, 2) for v in row] for row in m] for _, m in blocks]
    widths = [max([len(t)] + [len(c) for row in m for c in row]) for (t, _), m in zip(blocks, cells)]
    cw = [max(len(c) for row in m for c in row) for m in cells]
    col_w = [max(w, len(m[0]) * (c + 1)) for w, m, c in zip(widths, cells, cw)]
    text.append("  ".join(f"{t:<{w}}" for (t, _), w in zip(blocks, col_w)) + "\n", style=DIM)
    rows = max(len(m) for m in cells)
    for i in range(rows):
        for k, (m, c, w) in enumerate(zip(cells, cw, col_w)):
            if k:
                text.append("  ")
            line = m[i] if i < len(m) else []
            for j, v in enumerate(line):
                style = WON if (k == 0 and mark == (i, j)) else ""
                text.append(f"{v:>{c}} ", style=style)
            text.append(" " * (w - len(line) * (c + 1)))
        text.append("\n")


def _values(net: Network, layer: int, trace: StepTrace | None, r: int,
            x_row: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(input block, z, a) of row `layer` for the shown sample, flattened; None without one."""
    if trace is not None:
        lt = trace.layers[layer]
        return (lt.a_in[r].astype(np.float64), lt.z[r].astype(np.float64),
                lt.a[r].astype(np.float64))
    if x_row is None:
        return None
    acts, zs = forward_sample(net, x_row)
    return acts[layer], zs[layer], acts[layer + 1]


def conv_card_text(net: Network, layer: int, unit: int, trace: StepTrace | None = None,
                   sample_row: int = 0, x_row: np.ndarray | None = None) -> Text:
    """The card for row `layer` (−1: an input pixel), flat output index `unit`, of a network with
    conv or pool rows. Dense rows: use `neuron_card_text`."""
    if not -1 <= layer < net.n_rows:
        raise ValueError(f"layer must be in -1..{net.n_rows - 1}, got {layer}")
    r = max(0, min(sample_row, len(trace.indices) - 1)) if trace is not None else 0
    text = Text()
    where = _where(trace, r, x_row)
    if layer < 0:
        return _input(text, net, unit, trace, r, x_row, where)
    kind = net.row_kind(layer)
    shape = net.row_shape(layer)
    if not 0 <= unit < int(np.prod(shape)):
        raise ValueError(f"unit must be in 0..{int(np.prod(shape)) - 1}, got {unit}")
    vals = _values(net, layer, trace, r, x_row)
    if kind == "flatten":
        return _flatten(text, net, layer, unit, vals, trace, r, where)
    c, i, j = np.unravel_index(unit, shape)
    title = {"conv2d": "Feature map", "maxpool2d": "Max pool", "avgpool2d": "Average pool"}[kind]
    text.append(f"{title} {c}, row {i}, column {j} of {net.dense_label(layer)} ({kind})", style=HEAD)
    text.append(f" — {where}\n", style=DIM)
    if vals is None:
        text.append("select a sample (, .) or step (n) to see the numbers\n", style=DIM)
        if kind == "conv2d":
            W = net.rows[layer].params["W"].astype(np.float64)
            _grid(text, [(f"kernel of filter {c}, channel {k}", W[c, k]) for k in range(min(W.shape[1], MAX_CHANNELS))])
        return text
    if kind == "conv2d":
        return _conv(text, net, layer, int(c), int(i), int(j), unit, vals, trace, r)
    return _pool(text, net, layer, kind, int(c), int(i), int(j), unit, vals, trace, r)


def _geometry(net: Network, layer: int) -> Any:
    return net.shapes[net.row_positions[layer]]


def _conv(text: Text, net: Network, layer: int, f: int, i: int, j: int, unit: int,
          vals: tuple[np.ndarray, np.ndarray, np.ndarray], trace: StepTrace | None, r: int) -> Text:
    sh = _geometry(net, layer)
    C, H, W = sh.input
    (kh, kw), (sy, sx), (py, px) = sh.window, sh.stride, sh.padding
    conv = net.rows[layer]
    lt = trace.layers[layer] if trace is not None else None
    Wt = (lt.W if lt is not None else conv.params["W"]).astype(np.float64)
    bt = (lt.b if lt is not None else conv.params["b"]).astype(np.float64)
    a_in, z, a = vals
    x = a_in.reshape(C, H, W)
    y0, x0 = i * sy - py, j * sx - px
    patch = np.zeros((C, kh, kw))
    inside = np.zeros((kh, kw), dtype=bool)
    for u in range(kh):
        for v in range(kw):
            if 0 <= y0 + u < H and 0 <= x0 + v < W:
                patch[:, u, v] = x[:, y0 + u, x0 + v]
                inside[u, v] = True
    rows = f"rows {max(y0, 0)}–{min(y0 + kh, H) - 1}, columns {max(x0, 0)}–{min(x0 + kw, W) - 1}"
    below = "the input" if layer == 0 else net.dense_label(layer - 1)
    text.append(f"receptive field: {rows} of {below} ({C} channel{'s' if C > 1 else ''}, "
                f"{kh}×{kw} window, stride {sy}×{sx})\n")
    if not inside.all():
        text.append("  the window reaches into the zero padding: those patch entries are 0\n", style=DIM)
    products = Wt[f] * patch
    sums = products.reshape(C, -1).sum(axis=1)
    for k in range(min(C, MAX_CHANNELS)):
        if C > 1:
            text.append(f"channel {k}\n", style=HEAD)
        _grid(text, [("patch x", patch[k]), ("kernel w", Wt[f, k]), ("products w·x", products[k])])
        text.append(f"  Σ products = {num(sums[k])}\n")
    if C > MAX_CHANNELS:
        text.append(f"  channels {MAX_CHANNELS}–{C - 1}: Σ products = "
                    + ", ".join(num(v, 2) for v in sums[MAX_CHANNELS:]) + "\n", style=DIM)
    total = float(sums.sum())
    b = float(bt[f]) if conv.use_bias else 0.0
    text.append("z = Σ w·x + b = ", style=HEAD)
    text.append(f"{num(total)} + {num(b)} = {num(float(z[unit]))}\n")
    act = activations.get(conv.activation)
    text.append(f"a = {act.name}(z) = {num(float(a[unit]))}\n")
    text.append(f"  {act.formula}\n", style=DIM)
    text.append(f"the same kernel (filter {f}, {C * kh * kw} weights + b) makes every one of the "
                f"{sh.output[1]}×{sh.output[2]} outputs of this map\n", style=DIM)
    if lt is None or lt.dZ is None:
        text.append("\nrun a traced step (n) to see the gradients\n", style=DIM)
        return text
    da, dz = float(lt.dA[r, unit]), float(lt.dZ[r, unit])
    text.append("\nbackward", style=HEAD)
    text.append(f" (the batch of {len(trace.indices)})\n", style=DIM)
    text.append(f"dL/da = {num(da)}, dL/dz = dL/da · f′(z) = {num(dz)}\n")
    text.append("this output adds dL/dz × patch to dL/dW of the kernel; dL/dW sums that over the "
                f"batch and all {sh.output[1] * sh.output[2]} positions:\n", style=DIM)
    dW = lt.dW.astype(np.float64)
    for k in range(min(C, MAX_CHANNELS)):
        blocks = [("dz × patch", dz * patch[k]), (f"dL/dW (filter {f}{f', ch {k}' if C > 1 else ''})", dW[f, k])]
        if lt.update_W is not None and lt.update_W.size:
            blocks.append(("ΔW applied", lt.update_W[f, k].astype(np.float64)))
        _grid(text, blocks)
    text.append(f"dL/db = Σ dL/dz over the batch and positions = {num(float(lt.db[f]))}\n")
    if lt.update_W is None:
        text.append("update: not applied yet (walk to the update phase)\n", style=DIM)
    return text


def _window(net: Network, layer: int, c: int, i: int, j: int) -> tuple[list[tuple[int, int]], Any]:
    sh = _geometry(net, layer)
    (kh, kw), (sy, sx) = sh.window, sh.stride
    return [(i * sy + u, j * sx + v) for u in range(kh) for v in range(kw)], sh


def _pool(text: Text, net: Network, layer: int, kind: str, c: int, i: int, j: int, unit: int,
          vals: tuple[np.ndarray, np.ndarray, np.ndarray], trace: StepTrace | None, r: int) -> Text:
    cells, sh = _window(net, layer, c, i, j)
    C, H, W = sh.input
    kh, kw = sh.window
    a_in, z, _ = vals
    x = a_in.reshape(C, H, W)
    win = np.array([x[c, y, v] for y, v in cells]).reshape(kh, kw)
    below = "the input" if layer == 0 else net.dense_label(layer - 1)
    text.append(f"window: rows {cells[0][0]}–{cells[-1][0]}, columns {cells[0][1]}–{cells[-1][1]} "
                f"of channel {c} of {below}\n")
    g = None
    if trace is not None and trace.layers[layer].dZ is not None:
        g = float(trace.layers[layer].dZ[r, unit])
    if kind == "maxpool2d":
        k = int(np.argmax(win.reshape(-1)))          # the first of equal ones, row by row
        wy, wx = divmod(k, kw)
        _grid(text, [("inputs (winner marked)", win)], mark=(wy, wx))
        ties = int(np.count_nonzero(win.reshape(-1) == win.reshape(-1)[k]))
        text.append(f"z = max(window) = {num(float(z[unit]))}: the input at row {cells[k][0]}, "
                    f"column {cells[k][1]} won" + (f" (a tie of {ties}: the first one, reading "
                                                   "the window row by row)" if ties > 1 else "") + "\n")
        text.append("backward: ∂z/∂a is 1 for the winner and 0 for the others (the max gate)\n",
                    style=DIM)
        if g is not None:
            text.append(f"dL/dz = {num(g)} → dL/da at row {cells[k][0]}, column {cells[k][1]} gets "
                        f"{num(g)}; the other {kh * kw - 1} inputs get 0 from this output\n")
    else:
        _grid(text, [("inputs", win)])
        text.append(f"z = mean(window) = Σ / {kh * kw} = {num(float(win.sum()))} / {kh * kw} = "
                    f"{num(float(z[unit]))}\n")
        text.append(f"backward: ∂z/∂a = 1/{kh * kw} for every input of the window\n", style=DIM)
        if g is not None:
            text.append(f"dL/dz = {num(g)} → each of the {kh * kw} inputs gets dL/dz / {kh * kw} "
                        f"= {num(g / (kh * kw))}\n")
    if g is None:
        text.append("\nrun a traced step (n) to see where the gradient goes\n", style=DIM)
    text.append("no parameters: a pool layer only passes values forward and gradients back\n", style=DIM)
    return text


def _flatten(text: Text, net: Network, layer: int, unit: int, vals: Any,
             trace: StepTrace | None, r: int, where: str) -> Text:
    shape = net.row_input_shape(layer)
    text.append(f"Unit {unit} of {net.dense_label(layer)} (flatten)", style=HEAD)
    text.append(f" — {where}\n", style=DIM)
    if len(shape) == 3:
        c, i, j = np.unravel_index(unit, shape)
        below = "the input" if layer == 0 else net.dense_label(layer - 1)
        text.append(f"= channel {c}, row {i}, column {j} of {below} ({shape[0]}×{shape[1]}×{shape[2]}, "
                    "read channel by channel, row by row)\n")
    if vals is not None:
        text.append(f"a = {num(float(vals[2][unit]))}\n")
    if trace is not None and trace.layers[layer].dA is not None:
        text.append(f"dL/da = {num(float(trace.layers[layer].dA[r, unit]))}, passed back unchanged\n")
    text.append("no parameters: flatten only reorders\n", style=DIM)
    return text


def _input(text: Text, net: Network, unit: int, trace: StepTrace | None, r: int,
           x_row: np.ndarray | None, where: str) -> Text:
    shape = net.input_shape or (net.input_dim,)
    if len(shape) == 3:
        c, i, j = np.unravel_index(unit, shape)
        text.append(f"Input pixel: channel {c}, row {i}, column {j}", style=HEAD)
    else:
        text.append(f"Input x{unit}", style=HEAD)
    text.append(f" — {where}\n", style=DIM)
    x = None
    if trace is not None:
        x = float(trace.layers[0].a_in[r, unit])
    elif x_row is not None:
        x = float(np.asarray(x_row, dtype=np.float64).reshape(-1)[unit])
    text.append(f"x = {num(x) if x is not None else '—'}\n")
    first = net.rows[0]
    if first.kind == "conv2d":
        sh = _geometry(net, 0)
        text.append(f"it lies under the {sh.window[0]}×{sh.window[1]} window of up to "
                    f"{sh.window[0] * sh.window[1]} positions of each of the {first.filters} "
                    "filters of layer 1\n", style=DIM)
    return text


class ConvCard(NeuronCard):
    """The card for a network with conv or pool layers: `conv_card_text` for conv, pool and
    flatten units and input pixels, the neuron card for dense units."""

    def show(self, net: Network, layer: int, unit: int, trace: StepTrace | None = None,  # type: ignore[override]
             sample_row: int = 0, x_row: np.ndarray | None = None, *args: Any, **kwargs: Any) -> None:
        if layer >= 0 and net.row_kind(layer) == "dense":
            super().show(net, layer, unit, trace, sample_row, x_row, *args, **kwargs)
            return
        self._text = conv_card_text(net, layer, unit, trace, sample_row, x_row)
        self._show_text()
