"""SequencePlot: one sequence's input, target and the network's prediction along the time axis
(the third panel of sequence lessons, where plane data has its decision boundary).

One column (or two) per step: the input as grey dots, the target as blue, the prediction as
gold (where they meet the prediction wins). The prediction is the network's output for the
shown sample — after the last step for many-to-one (drawn at step T, one past the input), at
every step for many-to-many and one-to-many. Values on a shared vertical scale, its range in
the corner. Drawn with the line API into cached strips.
"""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from ._common import ACCENT, BLUE, StyleCache

DIM = (150, 150, 150)
INPUT = (110, 110, 110)


class SequencePlot(Widget):
    """Input, target and prediction of one sequence (see the module docstring)."""

    DEFAULT_CSS = """
    SequencePlot {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._x: np.ndarray | None = None       # (T,) the input's first feature
        self._y: np.ndarray | None = None       # (K,) the target(s)
        self._p: np.ndarray | None = None       # (K,) the prediction(s)
        self._title = ""
        self._styles = StyleCache()
        self._strips: list[Strip] | None = None
        self._built_size = (0, 0)

    def set_sequence(self, x: np.ndarray, y: np.ndarray, pred: np.ndarray, title: str = "") -> None:
        """x (T,) the input (first feature), y and pred: one value (after the last step) or T."""
        self._x, self._y, self._p = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (x, y, pred))
        self._title = title
        self._strips = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        W, H = self.size.width, self.size.height
        if self._strips is None or self._built_size != (W, H):
            self._built_size = (W, H)
            self._strips = self._build(W, H)
        return self._strips[y] if 0 <= y < len(self._strips) else Strip.blank(W)

    def _build(self, W: int, H: int) -> list[Strip]:
        cells: list[list[tuple[str, Style]]] = [[(" ", Style())] * W for _ in range(H)]

        def put(x: int, y: int, text: str, style: Style) -> None:
            if 0 <= y < H:
                for i, ch in enumerate(text):
                    if 0 <= x + i < W:
                        cells[y][x + i] = (ch, style)

        dim = self._styles.get(DIM)
        if self._x is None or self._y is None or self._p is None or H < 4:
            put(0, 0, "no sequence", dim)
        else:
            self._plot(put, W, H)
        return [Strip(Segment.simplify([Segment(c, s) for c, s in row]), W) for row in cells]

    def _plot(self, put, W: int, H: int) -> None:  # type: ignore[no-untyped-def]
        x, y, p = self._x, self._y, self._p
        assert x is not None and y is not None and p is not None
        T = len(x)
        one = len(y) == 1                        # many to one: the target follows the input
        n = T + (1 if one else 0)
        cw = max(1, min(3, (W - 1) // max(1, n)))
        rows = H - 2
        allv = np.concatenate([x, y, p])
        lo, hi = float(allv.min()), float(allv.max())
        if hi - lo < 1e-9:
            lo, hi = lo - 1, hi + 1

        def row(v: float) -> int:
            return 1 + int(round((hi - v) / (hi - lo) * (rows - 1)))

        dim = self._styles.get(DIM)
        put(0, 0, (self._title + f"  range {lo:+.2f} … {hi:+.2f}")[:W], dim)
        for t in range(T):
            put(t * cw, row(float(x[t])), "·", self._styles.get(INPUT))
        steps = [T] if one else list(range(T))
        for t, yv, pv in zip(steps, y, p):
            put(t * cw, row(float(yv)), "o", self._styles.get(BLUE, bold=True))
            put(t * cw, row(float(pv)), "●", self._styles.get(ACCENT, bold=True))
        put(0, H - 1, "· input  o target  ● prediction"[:W], dim)
