"""Shared helpers for the widgets: colours, a style cache, number formatting, a forward pass.

Nothing here touches the DOM; everything is plain NumPy/Rich so it is cheap and testable.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from rich.color import Color
from rich.style import Style

from nnsim import numfmt
from nnsim.engine import activations
from nnsim.engine.network import Network

RGB = tuple[int, int, int]

ORANGE: RGB = (245, 147, 34)    # negative / class 0 (TensorFlow Playground #f59322)
BLUE: RGB = (8, 119, 189)       # positive / class 1 (#0877bd)
NEUTRAL: RGB = (72, 72, 72)     # zero activation on a dark background
LINK_DIM: RGB = (58, 58, 58)    # weakest link colour
ACCENT: RGB = (255, 215, 0)     # cursor / highlight
#: Categorical palette (orange and blue first, like the binary case).
PALETTE: tuple[RGB, ...] = (
    ORANGE, BLUE, (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
)

MINUS = "\u2212"


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear blend a → b by t in [0, 1]."""
    t = min(1.0, max(0.0, t))
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


def diverging(v: float, scale: float = 1.0, levels: int = 16) -> RGB:
    """Orange (−) ↔ neutral (0) ↔ blue (+), |v|/scale quantized to `levels` steps."""
    if not np.isfinite(v):
        return (255, 0, 255)
    t = min(1.0, abs(v) / scale) if scale > 0 else 0.0
    t = round(t * levels) / levels
    return mix(NEUTRAL, BLUE if v >= 0 else ORANGE, t)


def contrast_text(bg: RGB) -> RGB:
    """Black or white text, whichever reads better on `bg`."""
    lum = 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2]
    return (0, 0, 0) if lum > 140 else (255, 255, 255)


class StyleCache:
    """Rich Styles by (fg, bg, bold, underline); a Style is built once per key."""

    def __init__(self) -> None:
        self._styles: dict[tuple, Style] = {}

    def __len__(self) -> int:
        return len(self._styles)

    def get(self, fg: RGB | None, bg: RGB | None = None, bold: bool = False,
            underline: bool = False) -> Style:
        key = (fg, bg, bold, underline)
        style = self._styles.get(key)
        if style is None:
            style = Style(color=Color.from_rgb(*fg) if fg else None,
                          bgcolor=Color.from_rgb(*bg) if bg else None,
                          bold=bold or None, underline=underline or None)
            self._styles[key] = style
        return style


# -- numbers -----------------------------------------------------------------------------
def num(v: float, decimals: int = 4) -> str:
    """A value for formulas in the app's one number format (`nnsim.numfmt.num`): `decimals`
    significant digits and at least that many decimals, scientific below 0.001 or from 1e5,
    "0" for zero; minus sign "−"."""
    return numfmt.num(v, decimals, min_decimals=decimals, minus=MINUS)


def vec(values: Sequence[float] | np.ndarray, limit: int = 6, decimals: int = 4) -> str:
    """"[0.1200, −0.3000, … (n values)]"."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    parts = [num(v, decimals) for v in arr[:limit]]
    if arr.size > limit:
        parts.append(f"… ({arr.size} values)")
    return "[" + ", ".join(parts) + "]"


def parse_num(text: str) -> float:
    """Inverse of `num` (tests and copy/paste)."""
    return float(text.replace(MINUS, "-"))


# -- forward pass of one sample ----------------------------------------------------------
def forward_sample(net: Network, x_row: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Eval-mode forward pass of one sample in float64.

    Returns (acts, zs): acts[0] = x, acts[l+1] = f(z_l); zs[l] = acts[l]·W_l + b_l. A network
    with conv, pool or flatten rows goes through the NumPy reference: each row's z and a come
    flattened (C·H·W values, channel by channel, row by row).
    """
    a = np.asarray(x_row, dtype=np.float64).reshape(-1)
    if a.shape[0] != net.input_dim:
        raise ValueError(f"x_row has {a.shape[0]} values, the network expects {net.input_dim}")
    if net.layered:
        from nnsim.kernels import reference
        ps = reference.forward(a[None, :], net.P.astype(np.float64), net.layi, net.layf64)
        return [v[0] for v in ps.a], [v[0] for v in ps.z[1:]]
    acts, zs = [a], []
    for layer in net.dense:
        z = a @ layer.params["W"].astype(np.float64) + layer.params["b"].astype(np.float64)
        act = activations.get(layer.activation)
        a = act.fn(z[None, :], float(layer.alpha or 0.0))[0]
        zs.append(z)
        acts.append(a)
    return acts, zs


def cell_text(v: float, width: int) -> str:
    """The value to 2 decimals when the cell is wide enough, else blank (colour only)."""
    if width < 5:
        return " " * width
    if not np.isfinite(v):
        text = "nan" if np.isnan(v) else ("+inf" if v > 0 else "-inf")
    elif abs(v) < 9.995:
        text = f"{v:+.2f}"
    elif abs(v) < 999.5:
        text = f"{v:+.0f}"
    else:
        text = numfmt.num(v, 2)        # the one format, short: "1234", "2.5e5", "-6e30"
        if len(text) > width:
            text = numfmt.num(v, 1)
    return text[:width].center(width)
