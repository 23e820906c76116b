"""NetworkView: the network as columns of neurons coloured by activation, links by weight.

Drawn with the line API: the whole picture is laid out once per change into cached Strips
(styles cached by colour), and `render_line` only hands them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from nnsim.engine.network import Network

from ._common import (ACCENT, BLUE, LINK_DIM, NEUTRAL, ORANGE, StyleCache, contrast_text,
                      cell_text, diverging, forward_sample, mix)

CELL_W = 6          # a neuron cell with room for "+0.23"
STATS_ROWS = 5      # n units, min, mean, max, cursor unit under a collapsed strip
LINK_LEVELS = 7     # shades of |w|


def sample_activations(net: Network, x_row: np.ndarray) -> list[np.ndarray]:
    """[x, a₁, …, a_L] for one sample (eval mode, float64) — what `set_values` expects."""
    return forward_sample(net, x_row)[0]


@dataclass
class _Column:
    """Geometry of one column: inputs (layer −1) or dense layer `layer`."""

    layer: int
    n: int
    slot: tuple[int, int]        # x range [start, end) the column owns
    x: int                       # left edge of the cells
    w: int                       # cell width
    collapsed: bool
    ys: list[int] = field(default_factory=list)  # row of each unit (not collapsed)
    top: int = 1                 # strip rows [top, top + rows) when collapsed
    rows: int = 0

    def unit_row(self, unit: int) -> int:
        if not self.collapsed:
            return self.ys[unit]
        return self.top + min(self.rows - 1, unit * self.rows // self.n)


class NetworkView(Widget, can_focus=True):
    """Columns of neurons (input, hidden…, output); arrows move a cursor, Enter/click selects."""

    DEFAULT_CSS = """
    NetworkView {
        width: 1fr;
        height: 1fr;
        min-height: 6;
    }
    """

    BINDINGS = [
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("left", "move(-1, 0)", "Left", show=False),
        Binding("right", "move(1, 0)", "Right", show=False),
        Binding("pageup", "move(0, -8)", "Page up", show=False),
        Binding("pagedown", "move(0, 8)", "Page down", show=False),
        Binding("enter", "select", "Select neuron"),
    ]

    class NeuronSelected(Message):
        """A neuron was chosen: layer −1 for inputs, else the dense layer index."""

        def __init__(self, view: "NetworkView", layer: int, unit: int) -> None:
            self.view = view
            self.layer = layer
            self.unit = unit
            super().__init__()

        @property
        def control(self) -> "NetworkView":
            return self.view

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._net: Network | None = None
        self._sizes: list[int] = []
        self._weights: list[np.ndarray] = []
        self._acts: list[np.ndarray] | None = None
        self._highlight: tuple[str, int] | None = None
        self.cursor: tuple[int, int] = (0, 0)          # (column, unit)
        self.selected: tuple[int, int] | None = None   # (column, unit)
        self._styles = StyleCache()
        self._strips: list[Strip] | None = None
        self._built_for: Size | None = None
        self._columns: list[_Column] = []
        self._weights_version = 0
        self._links: tuple[tuple, list[list[str]], list[list[Style | None]]] | None = None

    # -- public API ------------------------------------------------------------------------
    def set_network(self, net: Network) -> None:
        """Show `net` (call again after the weights change: it re-reads them)."""
        sizes = [net.input_dim] + [int(d.units) for d in net.dense]
        if sizes != self._sizes:
            self._acts = None
            self.cursor, self.selected = (0, 0), None
        weights = [np.array(d.params["W"], dtype=np.float64) for d in net.dense]
        same = (net is self._net and sizes == self._sizes
                and all(np.array_equal(a, b) for a, b in zip(weights, self._weights)))
        self._net, self._sizes = net, sizes
        if same:
            return                      # nothing to redraw
        self._weights = weights
        self._weights_version += 1
        self._invalidate()

    def set_values(self, activations: list[np.ndarray] | None,
                   highlight: tuple[str, int] | None = None) -> None:
        """Activations [x, a₁, …, a_L] of the selected sample (or None) and the stepper's layer."""
        if activations is not None:
            acts = [np.asarray(a, dtype=np.float64).reshape(-1) for a in activations]
            if [a.size for a in acts] != self._sizes:
                raise ValueError(f"activations have sizes {[a.size for a in acts]}, "
                                 f"the network has {self._sizes}")
            activations = acts
        old = self._acts
        if highlight == self._highlight and (
                (activations is None and old is None)
                or (activations is not None and old is not None
                    and all(np.array_equal(a, b) for a, b in zip(activations, old)))):
            return                      # unchanged: keep the cached strips
        self._acts, self._highlight = activations, highlight
        self._invalidate()

    def layout_columns(self) -> list[_Column]:
        """Column geometry for the current size (built on demand)."""
        self._ensure_built()
        return self._columns

    # -- input -----------------------------------------------------------------------------
    def action_move(self, dcol: int, dunit: int) -> None:
        if not self._sizes:
            return
        col, unit = self.cursor
        if dcol:
            new = max(0, min(len(self._sizes) - 1, col + dcol))
            unit = min(self._sizes[new] - 1, unit * self._sizes[new] // self._sizes[col])
            col = new
        unit = max(0, min(self._sizes[col] - 1, unit + dunit))
        if (col, unit) != self.cursor:
            self.cursor = (col, unit)
            self._invalidate()

    def action_select(self) -> None:
        if not self._sizes:
            return
        self.selected = self.cursor
        self._invalidate()
        self.post_message(self.NeuronSelected(self, self.cursor[0] - 1, self.cursor[1]))

    def select(self, layer: int, unit: int) -> None:
        """Move the cursor to (layer, unit) and mark it selected, without posting a message."""
        col = layer + 1
        if 0 <= col < len(self._sizes) and 0 <= unit < self._sizes[col]:
            self.cursor = self.selected = (col, unit)
            self._invalidate()

    def hit_test(self, x: int, y: int) -> tuple[int, int] | None:
        """(column, unit) at content offset (x, y), or None."""
        for c in self.layout_columns():
            if not c.x - 1 <= x <= c.x + c.w:
                continue
            if c.collapsed:
                if c.top <= y < c.top + c.rows:
                    return c.layer + 1, min(c.n - 1, (y - c.top) * c.n // c.rows)
                return None
            best = min(range(c.n), key=lambda i: abs(c.ys[i] - y))
            gap = (c.ys[1] - c.ys[0]) if c.n > 1 else 99
            return (c.layer + 1, best) if abs(c.ys[best] - y) <= max(1, gap // 2) else None
        return None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        hit = self.hit_test(offset.x, offset.y)
        if hit is not None:
            self.cursor = hit
            self.action_select()

    def on_resize(self, event: events.Resize) -> None:
        self._invalidate()

    def on_focus(self) -> None:
        self._invalidate()

    def on_blur(self) -> None:
        self._invalidate()

    # -- drawing ---------------------------------------------------------------------------
    def _invalidate(self) -> None:
        self._strips = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        self._ensure_built()
        strips = self._strips or []
        return strips[y] if 0 <= y < len(strips) else Strip.blank(self.size.width)

    def _ensure_built(self) -> None:
        size = self.size
        if self._strips is not None and self._built_for == size:
            return
        self._built_for = size
        self._strips = self._build(size.width, size.height)

    def _layout(self, W: int, H: int) -> list[_Column]:
        cols: list[_Column] = []
        ncol = len(self._sizes)
        slot = max(1, W // max(1, ncol))
        cw = CELL_W if slot >= CELL_W + 3 else max(1, min(2, slot - 1))
        body_h = max(1, H - 1)
        for c, n in enumerate(self._sizes):
            x = c * slot + max(0, (slot - cw) // 2)
            col = _Column(layer=c - 1, n=n, slot=(c * slot, (c + 1) * slot), x=x, w=cw,
                          collapsed=n > body_h)
            if col.collapsed:
                stats = STATS_ROWS if body_h >= STATS_ROWS + 3 else 0
                col.top, col.rows = 1, max(1, body_h - stats)
            else:
                spacing = body_h / n
                col.ys = [1 + int((i + 0.5) * spacing) for i in range(n)]
            cols.append(col)
        return cols

    def _build(self, W: int, H: int) -> list[Strip]:
        if W <= 0 or H <= 0:
            return []
        if not self._sizes:
            chars = [[" "] * W for _ in range(H)]
            styles: list[list[Style | None]] = [[None] * W for _ in range(H)]
            self._put(chars, styles, 0, 0, "no network", self._styles.get((150, 150, 150)))
            return self._to_strips(chars, styles)
        self._columns = cols = self._layout(W, H)
        chars, styles = self._link_layer(W, H, cols)
        for col in cols:
            self._draw_column(chars, styles, col)
        return self._to_strips(chars, styles)

    def _link_layer(self, W: int, H: int, cols: list[_Column]
                    ) -> tuple[list[list[str]], list[list[Style | None]]]:
        """A fresh copy of the links drawn on a blank grid (cached: cursor moves skip this)."""
        key = (W, H, self._weights_version, self._highlight[1] if self._highlight else None)
        if self._links is None or self._links[0] != key:
            chars = [[" "] * W for _ in range(H)]
            styles: list[list[Style | None]] = [[None] * W for _ in range(H)]
            for c in range(len(cols) - 1):
                if not cols[c].collapsed and not cols[c + 1].collapsed:
                    self._draw_links(chars, styles, cols[c], cols[c + 1], self._weights[c])
            self._links = (key, chars, styles)
        return [row[:] for row in self._links[1]], [row[:] for row in self._links[2]]

    def _to_strips(self, chars: list[list[str]], styles: list[list[Style | None]]) -> list[Strip]:
        strips = []
        blank = Style()
        for row_c, row_s in zip(chars, styles):
            segs: list[Segment] = []
            start = 0
            for x in range(1, len(row_c) + 1):
                if x == len(row_c) or row_s[x] is not row_s[start]:
                    segs.append(Segment("".join(row_c[start:x]), row_s[start] or blank))
                    start = x
            strips.append(Strip(segs, len(row_c)))
        return strips

    @staticmethod
    def _put(chars: list[list[str]], styles: list[list[Style | None]], x: int, y: int,
             text: str, style: Style) -> None:
        if not 0 <= y < len(chars):
            return
        row_c, row_s = chars[y], styles[y]
        for i, ch in enumerate(text):
            if 0 <= x + i < len(row_c):
                row_c[x + i] = ch
                row_s[x + i] = style

    def _link_style(self, w: float, wmax: float, bold: bool) -> Style:
        level = round(min(1.0, abs(w) / wmax) * LINK_LEVELS) if wmax > 0 else 0
        rgb = mix(LINK_DIM, BLUE if w >= 0 else ORANGE, 0.15 + 0.85 * level / LINK_LEVELS)
        return self._styles.get(rgb, bold=bold)

    def _draw_links(self, chars: list[list[str]], styles: list[list[Style | None]],
                    a: _Column, b: _Column, W: np.ndarray) -> None:
        x0, x1 = a.x + a.w, b.x - 1
        if x1 < x0:
            return
        wmax = float(np.abs(W).max()) if W.size else 0.0
        bold = self._highlight is not None and self._highlight[1] == b.layer
        order = np.argsort(np.abs(W), axis=None)       # strongest drawn last (on top)
        span = x1 - x0 + 1
        for flat in order:
            i, j = divmod(int(flat), W.shape[1])
            ya, yb = a.ys[i], b.ys[j]
            style = self._link_style(float(W[i, j]), wmax, bold)
            dy = yb - ya
            for k in range(span):
                r0 = round(ya + dy * k / span)
                r1 = round(ya + dy * (k + 1) / span)
                if r0 == r1:
                    self._put(chars, styles, x0 + k, r0, "─", style)
                else:
                    step = 1 if r1 > r0 else -1
                    ch = "╲" if step > 0 else "╱"
                    for r in range(r0, r1 + step, step) if abs(r1 - r0) > 1 else (r0,):
                        self._put(chars, styles, x0 + k, r, ch, style)

    def _draw_column(self, chars: list[list[str]], styles: list[list[Style | None]],
                     col: _Column) -> None:
        c = col.layer + 1
        acts = self._acts[c] if self._acts is not None else None
        scale = max(1.0, float(np.abs(acts).max())) if acts is not None and acts.size else 1.0
        self._draw_header(chars, styles, col)
        focused = self.has_focus
        cur_style = self._styles.get(ACCENT if focused else (150, 150, 150), bold=True)
        sel_style = self._styles.get((255, 255, 255), bold=True)
        if col.collapsed:
            for r in range(col.rows):
                lo, hi = r * col.n // col.rows, max(r * col.n // col.rows + 1, (r + 1) * col.n // col.rows)
                v = float(acts[lo:hi].mean()) if acts is not None else 0.0
                bg = diverging(v, scale) if acts is not None else NEUTRAL
                self._put(chars, styles, col.x, col.top + r, " " * col.w, self._styles.get(None, bg))
            self._draw_stats(chars, styles, col, acts)
        else:
            for u, y in enumerate(col.ys):
                if acts is not None:
                    bg = diverging(float(acts[u]), scale)
                    text = cell_text(float(acts[u]), col.w)
                else:
                    bg, text = NEUTRAL, "·".center(col.w)
                style = self._styles.get(contrast_text(bg), bg,
                                         underline=(c, u) == self.cursor and focused)
                self._put(chars, styles, col.x, y, text, style)
        for (cc, u), mark, st in (((self.selected or (-1, -1)), "[]", sel_style),
                                  (self.cursor, "▸◂", cur_style)):
            if cc != c:
                continue
            y = col.unit_row(u)
            self._put(chars, styles, col.x - 1, y, mark[0], st)
            self._put(chars, styles, col.x + col.w, y, mark[1], st)

    def _draw_header(self, chars: list[list[str]], styles: list[list[Style | None]],
                     col: _Column) -> None:
        net = self._net
        assert net is not None
        if col.layer < 0:
            label = "input"
        else:
            kind = "out" if col.layer == net.n_dense - 1 else f"L{col.layer + 1}"
            label = f"{kind} {net.dense[col.layer].activation}"
        style = self._styles.get((200, 200, 200), bold=True)
        if self._highlight is not None and self._highlight[1] == col.layer:
            arrow = "▶ " if self._highlight[0] == "forward" else "◀ "
            label = arrow + label
            style = self._styles.get((0, 0, 0), ACCENT, bold=True)
        width = col.slot[1] - col.slot[0]
        label = label[: max(1, width - 1)]
        x = col.slot[0] + max(0, (width - len(label)) // 2)
        self._put(chars, styles, x, 0, label, style)

    def _draw_stats(self, chars: list[list[str]], styles: list[list[Style | None]],
                    col: _Column, acts: np.ndarray | None) -> None:
        if col.rows >= len(chars) - 1:
            return
        lines = [f"{col.n} units"]
        if acts is not None:
            lines += [f"min {acts.min():.2f}", f"mean {acts.mean():.2f}", f"max {acts.max():.2f}"]
            if self.cursor[0] == col.layer + 1:
                lines.append(f"#{self.cursor[1]} {acts[self.cursor[1]]:.2f}")
        elif self.cursor[0] == col.layer + 1:
            lines.append(f"#{self.cursor[1]}")
        width = col.slot[1] - col.slot[0] - 1
        style = self._styles.get((190, 190, 190))
        for k, line in enumerate(lines[:STATS_ROWS]):
            self._put(chars, styles, col.slot[0] + 1, col.top + col.rows + k, line[:width], style)

