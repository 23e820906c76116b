"""AutoencoderView: what an autoencoder rebuilds, and where it puts each input.

Left: input images with their reconstructions beside them (the shown sample first, then the
next test samples), drawn with half blocks (two pixels per character cell) in grey levels.
Right, when the network has a hidden layer of exactly two units (the bottleneck): the 2-D code
of every test sample, one dot at its (code₀, code₁), coloured by its class label when the data
has labels (the network never saw them), with a legend. Drawn with the line API into cached
strips, like the other views.
"""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from nnsim.engine.network import Network

from ._common import PALETTE, StyleCache

GAP = 2
DIM = (150, 150, 150)


def bottleneck(net: Network) -> int | None:
    """The hidden dense row with exactly two units (the first one), or None."""
    for l, layer in enumerate(net.rows[:-1]):
        if layer.kind == "dense" and int(layer.units) == 2:
            return l
    return None


def grey(v: float) -> tuple[int, int, int]:
    g = int(round(30 + 225 * min(1.0, max(0.0, v))))
    return (g, g, g)


class AutoencoderView(Widget):
    """Inputs beside their reconstructions, and the 2-D codes (see the module docstring)."""

    DEFAULT_CSS = """
    AutoencoderView {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self._shape: tuple[int, int] | None = None
        self._codes: np.ndarray | None = None
        self._labels: np.ndarray | None = None
        self._note = ""
        self._styles = StyleCache()
        self._strips: list[Strip] | None = None
        self._built_size = (0, 0)

    def set_data(self, inputs: np.ndarray, outputs: np.ndarray, image: tuple[int, int] | None,
                 codes: np.ndarray | None, labels: np.ndarray | None, note: str = "") -> None:
        """`inputs`, `outputs` (k, D) shown as pairs (images of `image` = (height, width), or
        strips); `codes` (n, 2) of the test set with their `labels` (or None)."""
        self._pairs = [(np.asarray(a, float), np.asarray(b, float)) for a, b in zip(inputs, outputs)]
        self._shape, self._codes, self._labels, self._note = image, codes, labels, note
        self._strips = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        W, H = self.size.width, self.size.height
        if self._strips is None or self._built_size != (W, H):
            self._built_size = (W, H)
            self._strips = self._build(W, H)
        return self._strips[y] if 0 <= y < len(self._strips) else Strip.blank(W)

    # -- drawing ---------------------------------------------------------------------------------
    def _build(self, W: int, H: int) -> list[Strip]:
        cells: list[list[tuple[str, Style]]] = [[(" ", Style())] * W for _ in range(H)]
        dim = self._styles.get(DIM)

        def put(x: int, y: int, text: str, style: Style) -> None:
            if 0 <= y < H:
                for i, ch in enumerate(text):
                    if 0 <= x + i < W:
                        cells[y][x + i] = (ch, style)

        left = self._draw_pairs(put, W, H)
        if self._codes is not None and W - left > 12:
            self._draw_codes(put, left + GAP, W - left - GAP, H)
        elif self._codes is None:
            put(left + GAP, 0, "code plot: needs a hidden layer of 2 units"[:max(0, W - left - GAP)], dim)
        if self._note:
            put(0, H - 1, self._note[:W], dim)
        strips = []
        for row in cells:
            segs = [Segment(ch, st) for ch, st in row]
            strips.append(Strip(Segment.simplify(segs), W))
        return strips

    def _draw_pairs(self, put, W: int, H: int) -> int:  # type: ignore[no-untyped-def]
        """Input | reconstruction pairs in a grid on the left; returns the width used."""
        dim = self._styles.get(DIM)
        if not self._pairs:
            put(0, 0, "no samples", dim)
            return 10
        if self._shape is not None:
            h, w = self._shape
            th = (h + 1) // 2
        else:
            h, w, th = 1, min(16, self._pairs[0][0].size), 1
        pair_w = 2 * w + 1
        across = max(1, min(3, (W // 2 + GAP) // (pair_w + GAP)))
        down = max(1, (H - 2) // (th + 1))
        put(0, 0, "input | rebuilt", dim)
        for k, (a, b) in enumerate(self._pairs[:across * down]):
            ty, tx = divmod(k, across)
            x0, y0 = tx * (pair_w + GAP), 1 + ty * (th + 1)
            self._draw_image(put, x0, y0, a, h, w)
            put(x0 + w, y0, "│", dim)
            self._draw_image(put, x0 + w + 1, y0, b, h, w)
        return across * (pair_w + GAP) - GAP

    def _draw_image(self, put, x0: int, y0: int, v: np.ndarray, h: int, w: int) -> None:  # type: ignore[no-untyped-def]
        if self._shape is None:
            for j in range(w):
                put(x0 + j, y0, " ", self._styles.get(None, grey(float(v[j]))))
            return
        img = v.reshape(-1)[:h * w].reshape(h, w)
        for r in range(0, h, 2):
            for j in range(w):
                fg = grey(float(img[r, j]))
                bg = grey(float(img[r + 1, j])) if r + 1 < h else None
                put(x0 + j, y0 + r // 2, "▀", self._styles.get(fg, bg))

    def _draw_codes(self, put, x0: int, w: int, H: int) -> None:  # type: ignore[no-untyped-def]
        codes = self._codes
        assert codes is not None
        dim = self._styles.get(DIM)
        put(x0, 0, "2-D codes (test set)"[:w], dim)
        rows = max(3, H - 3)
        lo, hi = codes.min(axis=0), codes.max(axis=0)
        span = np.where(hi - lo > 1e-12, hi - lo, 1.0)
        cols = max(3, w)
        xs = ((codes[:, 0] - lo[0]) / span[0] * (cols - 1)).round().astype(int)
        ys = ((hi[1] - codes[:, 1]) / span[1] * (rows - 1)).round().astype(int)
        labels = self._labels if self._labels is not None else np.zeros(len(codes), dtype=int)
        for x, y, c in zip(xs, ys, labels):
            put(x0 + x, 1 + y, "•", self._styles.get(PALETTE[int(c) % len(PALETTE)]))
        if self._labels is not None:
            k = int(labels.max()) + 1
            legend = [(str(c), self._styles.get(PALETTE[c % len(PALETTE)], bold=True)) for c in range(k)]
            x = x0
            for text, st in legend:
                put(x, H - 2, text, st)
                x += 2
