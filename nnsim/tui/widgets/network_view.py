"""NetworkView: the network as columns of neurons coloured by activation, links by weight.

Drawn with the line API: the whole picture is laid out once per change into cached Strips
(styles cached by colour), and `render_line` only hands them out.

It explains itself: input names in a left gutter (x1, x2, x1², …; an image's pixels drawn as
the image), output notes in a right gutter (class, probability or value, and the target),
dropout layers as dotted lines between the columns they sit between, a legend on the last
row, and — for 2-D inputs, when there is room — a small map under each unit of what it
computes over the input plane (as TensorFlow Playground draws beside each neuron). Layers too
tall to draw collapse to a heat strip that says how many units each row stands for and which
unit the cursor is on.
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

from ._common import (
    ACCENT,
    BLUE,
    LINK_DIM,
    NEUTRAL,
    ORANGE,
    StyleCache,
    cell_text,
    contrast_text,
    diverging,
    forward_sample,
    mix,
)

CELL_W = 6          # a neuron cell with room for "+0.23"
STATS_ROWS = 6      # n units (and per row), min, mean, max, cursor unit under a collapsed strip
LINK_LEVELS = 7     # shades of |w|
MAP_ROWS = 3        # text rows (two pixels each) of a unit's map, at most
NAME_W = 7          # input names, at most
NOTE_W = 16         # output notes, at most
DROP_RGB = (190, 120, 220)   # dropout marks
LEGEND_MIN_H = 9    # the legend row only from this height


def dropout_marks(net: Network) -> list[tuple[int, float]]:
    """(column, rate) of each dropout layer: it sits after column `column` (0 = the inputs,
    k = the k-th dense layer) and before the next."""
    marks, dense_seen = [], 0
    for layer in net.layers:
        kind = getattr(layer, "kind", "")
        if kind == "dense":
            dense_seen += 1
        elif kind == "dropout":
            marks.append((dense_seen, float(layer.rate)))
    return marks


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
    map_rows: int = 0            # rows of a unit's map under its cell (0: none)

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
        Binding("enter", "select", "Select neuron", show=False),   # the footer keeps q and ?
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
        self._names: list[str] = []                     # input names
        self._image: tuple[int, int] | None = None      # (height, width) of image inputs
        self._notes: list[str] = []                     # one per output unit
        self._maps: list[np.ndarray | None] | None = None   # per column: (units, gh, gw)
        self._centres: list[float] = []                 # per column: a map's neutral value
        self._drops: list[tuple[int, float]] = []       # (column after which, rate)

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
        self._drops = dropout_marks(net)
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

    def set_labels(self, inputs: list[str] | None = None,
                   image: tuple[int, int] | None = None) -> None:
        """Input names (x1, x2, x1², …) for the left gutter; `image`: (height, width) when the
        inputs are an image's pixels, drawn as that image."""
        names, image = list(inputs or []), tuple(image) if image else None
        if names != self._names or image != self._image:
            self._names, self._image = names, image  # type: ignore[assignment]
            self._invalidate()

    def set_outputs(self, notes: list[str] | None) -> None:
        """One short note per output unit for the right gutter: its class, probability or
        value, and whether it is the target ("3 p=0.91 ◀y")."""
        notes = list(notes or [])
        if notes != self._notes:
            self._notes = notes
            self._invalidate()

    def set_maps(self, maps: list[np.ndarray | None] | None,
                 centres: list[float] | None = None) -> None:
        """Per column (inputs, then each dense layer): (units, gh, gw) values of each unit over
        the input plane, drawn under the unit when there is room; None: no maps. `centres`:
        each column's neutral value (0 for tanh, 0.5 for sigmoid)."""
        old = self._maps
        same = (maps is None and old is None) or (
            maps is not None and old is not None and len(maps) == len(old)
            and all((a is None and b is None) or (a is not None and b is not None
                                                   and a.shape == b.shape and np.array_equal(a, b))
                    for a, b in zip(maps, old)))
        if not same:
            self._maps = maps
            self._centres = list(centres or [0.0] * (len(maps) if maps else 0))
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

    def _gutters(self, W: int, H: int) -> tuple[int, int]:
        """Widths of the input-name and output-note gutters (0 when they would crowd the
        columns — each column keeps room for a cell and some links — or when that column is
        collapsed to a strip)."""
        ncol = max(1, len(self._sizes))
        body = self._body_h(H)
        drawn = [bool(self._sizes) and n <= body for n in (self._sizes[:1] + self._sizes[-1:])]
        left = min(NAME_W, max((len(n) for n in self._names), default=0)) if drawn[0] else 0
        right = min(NOTE_W, max((len(n) for n in self._notes), default=0)) if drawn[-1] else 0
        left, right = (left + 1 if left else 0), (right + 1 if right else 0)
        while right and W - left - right < ncol * (CELL_W + 4):
            right -= 1
            if right < 6:
                right = 0
        if left and W - left - right < ncol * (CELL_W + 4):
            left = 0
        return left, right

    def _body_h(self, H: int) -> int:
        return max(1, H - 1 - (1 if H >= LEGEND_MIN_H else 0))

    def _layout(self, W: int, H: int) -> list[_Column]:
        cols: list[_Column] = []
        ncol = len(self._sizes)
        left, right = self._gutters(W, H)
        inner = max(1, W - left - right)
        slot = max(1, inner // max(1, ncol))
        cw = CELL_W if slot >= CELL_W + 3 else max(1, min(2, slot - 1))
        body_h = self._body_h(H)
        for c, n in enumerate(self._sizes):
            x0 = left + c * slot
            x = x0 + max(0, (slot - cw) // 2)
            col = _Column(layer=c - 1, n=n, slot=(x0, x0 + slot), x=x, w=cw,
                          collapsed=n > body_h)
            if col.collapsed:
                stats = STATS_ROWS if body_h >= STATS_ROWS + 3 else 0
                col.top, col.rows = 1, max(1, body_h - stats)
            else:
                spacing = body_h / n
                maps = self._maps[c] if self._maps is not None and c < len(self._maps) else None
                if maps is not None and cw >= 5:
                    col.map_rows = max(0, min(MAP_ROWS, int(spacing) - 1))
                if col.map_rows:
                    pad = (int(spacing) - 1 - col.map_rows) // 2
                    col.ys = [1 + int(i * spacing) + pad for i in range(n)]
                else:
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
        self._draw_drops(chars, styles, cols, H)
        for col in cols:
            self._draw_column(chars, styles, col)
        self._draw_gutters(chars, styles, cols, W)
        if H >= LEGEND_MIN_H:
            self._draw_legend(chars, styles, W, H - 1)
        return self._to_strips(chars, styles)

    def _link_layer(self, W: int, H: int, cols: list[_Column]
                    ) -> tuple[list[list[str]], list[list[Style | None]]]:
        """A fresh copy of the links drawn on a blank grid (cached: cursor moves skip this)."""
        key = (W, H, self._weights_version, self._highlight[1] if self._highlight else None,
               tuple((c.x, c.w, tuple(c.ys)) for c in cols))
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
        if col.collapsed and c == 0 and self._image is not None:
            self._draw_image(chars, styles, col, acts)
            self._draw_stats(chars, styles, col, acts)
        elif col.collapsed:
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
                if col.map_rows and self._maps is not None and self._maps[c] is not None:
                    self._draw_map(chars, styles, col, u, self._maps[c][u],
                                   self._centres[c] if c < len(self._centres) else 0.0)
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
        if col.collapsed:             # a strip: say how many units it stands for
            label += f" ({col.n})"
        style = self._styles.get((200, 200, 200), bold=True)
        if self._highlight is not None and self._highlight[1] == col.layer:
            arrow = "▶ " if self._highlight[0] == "forward" else "◀ "
            label = arrow + label
            style = self._styles.get((0, 0, 0), ACCENT, bold=True)
        width = col.slot[1] - col.slot[0]
        label = label[: max(1, width - 1)]
        x = col.slot[0] + max(0, (width - len(label)) // 2)
        self._put(chars, styles, x, 0, label, style)

    def _draw_map(self, chars: list[list[str]], styles: list[list[Style | None]], col: _Column,
                  unit: int, values: np.ndarray, centre: float) -> None:
        """The unit's output over the input plane, under its cell: col.map_rows text rows of
        two pixels each ("▀", fg upper, bg lower), orange below `centre`, blue above."""
        rows, w = col.map_rows * 2, col.w
        gh, gw = values.shape
        ri = (np.arange(rows) * gh) // rows
        ci = (np.arange(w) * gw) // w
        grid = values[ri][:, ci] - centre
        scale = float(np.abs(grid).max()) if grid.size else 0.0
        scale = scale if scale > 1e-12 else 1.0
        y0 = col.ys[unit] + 1
        for r in range(col.map_rows):
            for k in range(w):
                top = diverging(float(grid[2 * r, k]), scale, 8)
                bot = diverging(float(grid[2 * r + 1, k]), scale, 8)
                self._put(chars, styles, col.x + k, y0 + r, "▀", self._styles.get(top, bot))

    def _draw_image(self, chars: list[list[str]], styles: list[list[Style | None]], col: _Column,
                    acts: np.ndarray | None) -> None:
        """Image inputs: the shown sample as its picture (grey levels, two pixels a cell)."""
        h, w = self._image or (1, col.n)
        x0 = col.slot[0] + max(0, (col.slot[1] - col.slot[0] - w) // 2)
        if acts is None or acts.size != h * w:
            return
        img = acts.reshape(h, w)
        lo, hi = float(img.min()), float(img.max())
        span = hi - lo if hi > lo else 1.0
        grey = lambda v: (round(40 + 215 * (v - lo) / span),) * 3  # noqa: E731
        for r in range(0, h, 2):
            for k in range(w):
                top = grey(float(img[r, k]))
                bot = grey(float(img[r + 1, k])) if r + 1 < h else (0, 0, 0)
                self._put(chars, styles, x0 + k, col.top + r // 2, "▀", self._styles.get(top, bot))
        col.rows = (h + 1) // 2

    def _draw_drops(self, chars: list[list[str]], styles: list[list[Style | None]],
                    cols: list[_Column], H: int) -> None:
        """A dropout layer: a dotted line between the columns it sits between, "drop 0.2"."""
        style = self._styles.get(DROP_RGB)
        body = self._body_h(H)
        for after, rate in self._drops:
            if after + 1 >= len(cols):
                continue
            a, b = cols[after], cols[after + 1]
            x = (a.x + a.w + b.x) // 2
            for y in range(1, 1 + body):
                chars[y][x], styles[y][x] = "┊", style
            label = f"drop {rate:g}"
            if len(label) > b.x - (a.x + a.w) - 2:
                label = f"p{rate:g}"
            self._put(chars, styles, x - len(label) // 2, 1 + body - 1, label, style)

    def _draw_gutters(self, chars: list[list[str]], styles: list[list[Style | None]],
                      cols: list[_Column], W: int) -> None:
        """Input names left of the inputs, output notes right of the outputs."""
        left, right = self._gutters(W, len(chars))
        dim = self._styles.get((170, 170, 170))
        first, last = cols[0], cols[-1]
        if left and not first.collapsed:
            for u, y in enumerate(first.ys):
                name = self._names[u] if u < len(self._names) else f"x{u + 1}"
                name = name[: left - 1]
                self._put(chars, styles, first.x - 2 - len(name), y, name, dim)
        if right and not last.collapsed:
            x = last.x + last.w + 2
            for u, y in enumerate(last.ys):
                if u < len(self._notes):
                    self._put(chars, styles, x, y, self._notes[u][: W - x], dim)

    def _draw_legend(self, chars: list[list[str]], styles: list[list[Style | None]],
                     W: int, y: int) -> None:
        """The last row: what the colours mean."""
        parts: list[tuple[str, Style]] = [
            ("links ", self._styles.get((150, 150, 150))), ("━ w>0 ", self._styles.get(BLUE)),
            ("━ w<0", self._styles.get(ORANGE)), ("  cells ", self._styles.get((150, 150, 150))),
            (" a<0 ", self._styles.get((0, 0, 0), ORANGE)), (" ", None),
            (" a>0 ", self._styles.get((255, 255, 255), BLUE)),
        ]
        if W >= 70:
            parts.append(("  brighter = larger |w| or |a|", self._styles.get((150, 150, 150))))
        if self._drops:
            parts.append(("  ┊ dropout", self._styles.get(DROP_RGB)))
        x = 0
        for text, style in parts:
            self._put(chars, styles, x, y, text, style or Style())
            x += len(text)

    def _draw_stats(self, chars: list[list[str]], styles: list[list[Style | None]],
                    col: _Column, acts: np.ndarray | None) -> None:
        if col.rows >= len(chars) - 1:
            return
        per_row = -(-col.n // max(1, col.rows))
        lines = [f"{col.n} units", f"{per_row} per row" if self._image is None or col.layer >= 0
                 else f"{self._image[0]}×{self._image[1]} px"]
        if acts is not None:
            lines += [f"min {acts.min():.2f}", f"mean {acts.mean():.2f}", f"max {acts.max():.2f}"]
            if self.cursor[0] == col.layer + 1:
                lines.append(f"▸ #{self.cursor[1]}: {acts[self.cursor[1]]:.2f}")
        elif self.cursor[0] == col.layer + 1:
            lines.append(f"▸ #{self.cursor[1]} of {col.n}")
        width = col.slot[1] - col.slot[0] - 1
        style = self._styles.get((190, 190, 190))
        for k, line in enumerate(lines[:STATS_ROWS]):
            self._put(chars, styles, col.slot[0] + 1, col.top + col.rows + k, line[:width], style)

