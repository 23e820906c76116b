"""The stepper's forward and backward phases of conv, pool and flatten layers, with numbers.

Written for one sample of the traced batch, as the dense phases are: the rule, the shapes, a
few outputs written out (a window of the layer below, the kernel, the sum), and a summary of
each map. `stepper.phase_text` calls these for layers whose trace kind is not "dense".
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

from nnsim.engine import activations
from nnsim.engine.trace import LayerTrace, StepTrace

from ._common import num

HEAD = "bold"
DIM = "grey62"
SHOWN = 2          # outputs written out per phase


def _shape(s: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in s)


def _patch(lt: LayerTrace, r: int, i: int, j: int) -> np.ndarray:
    """The receptive field (C, kh, kw) of output (i, j), zeros in the padding."""
    C, H, W = lt.in_shape
    (kh, kw), (sy, sx), (py, px) = lt.window, lt.stride, lt.padding
    x = lt.a_in[r].astype(np.float64).reshape(C, H, W)
    out = np.zeros((C, kh, kw))
    for u in range(kh):
        for v in range(kw):
            y, xx = i * sy - py + u, j * sx - px + v
            if 0 <= y < H and 0 <= xx < W:
                out[:, u, v] = x[:, y, xx]
    return out


def _positions(lt: LayerTrace, values: np.ndarray) -> list[tuple[int, int, int]]:
    """The outputs written out: in each of the first SHOWN channels, the one where |values|
    is largest (the first such, row by row)."""
    C, Ho, Wo = lt.out_shape
    maps = np.abs(values.reshape(C, Ho * Wo))
    return [(c, *divmod(int(np.argmax(maps[c])), Wo)) for c in range(min(C, SHOWN))]


def _header(text: Text, tr: StepTrace, l: int, what: str) -> LayerTrace:
    lt = tr.layers[l]
    text.append(f"{what} · layer {l + 1} of {len(tr.layers)} ({lt.kind}"
                + (f", {lt.activation}" if lt.kind == "conv2d" else "") + ")\n", style=HEAD)
    return lt


def _map_summary(text: Text, name: str, values: np.ndarray, shape: tuple[int, ...]) -> None:
    maps = values.reshape(shape[0], -1)
    for c in range(min(shape[0], 4)):
        text.append(f"  {name}[{c}]: min {num(maps[c].min(), 2)}, mean {num(maps[c].mean(), 2)}, "
                    f"max {num(maps[c].max(), 2)}\n")
    if shape[0] > 4:
        text.append(f"  … ({shape[0]} maps)\n", style=DIM)


def spatial_forward(text: Text, tr: StepTrace, l: int, r: int) -> None:
    """Forward phase of a conv, pool or flatten layer for batch row r."""
    lt = _header(text, tr, l, "Forward")
    if lt.kind == "flatten":
        text.append(f"flatten: {_shape(lt.in_shape)} → {_shape(lt.out_shape)} values, channel by "
                    "channel, row by row; nothing is computed\n")
        a = lt.a[r].astype(np.float64)
        if len(lt.in_shape) == 3:
            C, H, W = lt.in_shape
            for k in (0, 1, H * W):
                if k < a.size:
                    c, i, j = np.unravel_index(k, lt.in_shape)
                    text.append(f"  a[{k}] = channel {c}, row {i}, column {j} = {num(a[k])}\n")
        return
    C, H, W = lt.in_shape
    (kh, kw), (sy, sx) = lt.window, lt.stride
    z = lt.z[r].astype(np.float64).reshape(lt.out_shape)
    if lt.kind == "conv2d":
        F = lt.out_shape[0]
        text.append(f"z[f] = Σ_c W[f, c] ⋆ a[c] + b[f]   a: {_shape(lt.in_shape)}, W: "
                    f"{_shape(lt.W.shape)}, b: {F}, z: {_shape(lt.out_shape)} (stride {sy}×{sx}, "
                    f"padding {lt.padding[0]}/{lt.padding[1]} above/left)\n")
        text.append("each output is the sum of kernel × the window of the input under it, plus b\n",
                    style=DIM)
        W4 = lt.W.astype(np.float64)
        a = lt.a[r].astype(np.float64).reshape(lt.out_shape)
        shown = _positions(lt, a)
        for f, i, j in shown:
            p = _patch(lt, r, i, j)
            s = float((W4[f] * p).sum())
            text.append(f"  z[{f},{i},{j}] = Σ w·x over the {C}×{kh}×{kw} window at rows "
                        f"{i * sy - lt.padding[0]}…, columns {j * sx - lt.padding[1]}… = {num(s)} + "
                        f"{num(float(lt.b[f]))} = {num(float(z[f, i, j]))}\n")
        act = activations.get(lt.activation)
        text.append(f"a = {act.name}(z)    {act.formula}\n")
        for f, i, j in shown:
            text.append(f"  a[{f},{i},{j}] = {act.name}({num(float(z[f, i, j]))}) = "
                        f"{num(float(a[f, i, j]))}\n")
        _map_summary(text, "a", a, lt.out_shape)
        return
    is_max = lt.kind == "maxpool2d"
    text.append(f"{'max' if is_max else 'mean'} of each {kh}×{kw} window (stride {sy}×{sx}): "
                f"{_shape(lt.in_shape)} → {_shape(lt.out_shape)}; no parameters\n")
    x = lt.a_in[r].astype(np.float64).reshape(lt.in_shape)
    for c, i, j in _positions(lt, z):
        win = x[c, i * sy:i * sy + kh, j * sx:j * sx + kw]
        vals = ", ".join(num(v, 2) for v in win.reshape(-1))
        if is_max:
            k = int(np.argmax(win.reshape(-1)))
            text.append(f"  z[{c},{i},{j}] = max({vals}) = {num(float(z[c, i, j]))}  (winner: row "
                        f"{i * sy + k // kw}, column {j * sx + k % kw})\n")
        else:
            text.append(f"  z[{c},{i},{j}] = mean({vals}) = {num(float(z[c, i, j]))}\n")
    _map_summary(text, "z", z, lt.out_shape)


def spatial_backward(text: Text, tr: StepTrace, l: int, r: int) -> None:
    """Backward phase of a conv, pool or flatten layer for batch row r."""
    lt = _header(text, tr, l, "Backward")
    below = f"layer {l}" if l > 0 else "the input (not needed)"
    if lt.kind == "flatten":
        text.append(f"dL/da of {below} = dL/dz reshaped to {_shape(lt.in_shape)}: the same numbers\n")
        return
    dZ = lt.dZ[r].astype(np.float64).reshape(lt.out_shape)
    (kh, kw), (sy, sx) = lt.window, lt.stride
    if lt.kind == "conv2d":
        act = activations.get(lt.activation)
        text.append(f"δ = dL/dz = dL/da ⊙ f′(z)    {act.formula}\n")
        dA = lt.dA[r].astype(np.float64).reshape(lt.out_shape)
        zz = lt.z[r].astype(np.float64).reshape(lt.out_shape)
        aa = lt.a[r].astype(np.float64).reshape(lt.out_shape)
        for f, i, j in _positions(lt, dZ):
            fp = float(act.grad(zz[f:f + 1, i, j:j + 1], aa[f:f + 1, i, j:j + 1], lt.alpha)[0, 0])
            text.append(f"  δ[{f},{i},{j}] = {num(float(dA[f, i, j]))} × f′(z = {num(float(zz[f, i, j]), 2)}) "
                        f"= {num(float(dA[f, i, j]))} × {num(fp)} = {num(float(dZ[f, i, j]))}\n")
        B = len(tr.indices)
        text.append(f"dL/dW[f] = Σ over the batch of {B} and all {lt.out_shape[1]}×{lt.out_shape[2]} "
                    "positions of δ[f, i, j] × the window under (i, j)\n")
        dW = lt.dW.astype(np.float64)
        for f in range(min(lt.out_shape[0], SHOWN)):
            rows = "; ".join(" ".join(num(v, 3) for v in row) for row in dW[f, 0])
            text.append(f"  dL/dW[{f}, 0] = [{rows}]   dL/db[{f}] = Σ δ[{f}] = {num(float(lt.db[f]))}\n")
        if l > 0:
            text.append(f"dL/da of {below}: each input pixel sums w × δ over every window that "
                        "contains it (the kernel slid back: col2im)\n")
        return
    is_max = lt.kind == "maxpool2d"
    x = lt.a_in[r].astype(np.float64).reshape(lt.in_shape)
    if is_max:
        text.append("the max gate: each δ goes to the input that won its window; the others get 0\n")
    else:
        text.append(f"each δ is shared equally: every input of the window gets δ / {kh * kw}\n")
    for c, i, j in _positions(lt, dZ):
        g = float(dZ[c, i, j])
        if is_max:
            win = x[c, i * sy:i * sy + kh, j * sx:j * sx + kw]
            k = int(np.argmax(win.reshape(-1)))
            text.append(f"  δ[{c},{i},{j}] = {num(g)} → row {i * sy + k // kw}, column "
                        f"{j * sx + k % kw} of channel {c}; {kh * kw - 1} inputs get 0\n")
        else:
            text.append(f"  δ[{c},{i},{j}] = {num(g)} → {num(g / (kh * kw))} to each of {kh * kw} inputs\n")
    text.append("no parameters, so no dL/dW: the gradient only passes through\n", style=DIM)
