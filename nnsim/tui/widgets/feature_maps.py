"""FeatureMapView: a convolutional network as columns of feature maps, one small heat map per
channel, for the selected sample (the network view of networks with conv or pool layers).

Each column is a row of the network: the input image, every conv and pool layer's maps (two
pixels per character cell, "▀" with the upper pixel as the foreground colour and the lower one
as the background), and flatten and dense layers as a strip of cells. `k` shows the filters'
weights (every filter's kernel for every input channel) in place of a conv layer's maps.

It keeps NetworkView's interface (set_network, set_values, select, the cursor, NeuronSelected
with layer −1 for the input), so the workspace drives it the same way; a unit is an index into
the layer's flattened output (channel by channel, row by row). ↑ ↓ move one pixel in reading
order, PgUp PgDn one map row, Home End one channel; a click selects the pixel under it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.strip import Strip

from nnsim.engine.network import Network

from ._common import ACCENT, NEUTRAL, StyleCache, cell_text, contrast_text, diverging
from .network_view import NetworkView

KIND_SHORT = {"input": "in", "conv2d": "conv", "maxpool2d": "max", "avgpool2d": "avg",
              "flatten": "flat", "dense": "dense"}
GAP = 1              # blank columns between tiles and between layers
VALUE_W = 6          # a strip cell with room for "+0.23"
DIM_RGB = (150, 150, 150)


@dataclass
class _Col:
    """One layer column: where it is and how its channels are tiled."""

    layer: int                    # −1: the input
    kind: str
    shape: tuple[int, ...]        # (C, H, W) or (D,)
    x: int = 0
    w: int = 0                    # characters
    tiles_across: int = 1
    tiles_down: int = 1
    first: int = 0                # first channel shown (a window of channels around the cursor)
    strip_rows: int = 0           # flat columns: rows of the strip
    values: bool = False          # flat columns: one unit per row with its value
    zoom: int = 1                 # 1: two pixels per cell (half blocks); 2: a pixel is 2 × 1 cells

    @property
    def image(self) -> bool:
        return len(self.shape) == 3

    @property
    def n(self) -> int:
        return int(np.prod(self.shape))

    @property
    def tile_h(self) -> int:      # text rows of one channel's map
        return self.shape[1] if self.zoom == 2 else (self.shape[1] + 1) // 2

    @property
    def shown(self) -> int:
        return min(self.shape[0] - self.first, self.tiles_across * self.tiles_down)


def layer_shapes(net: Network) -> list[tuple[int, ...]]:
    """[input shape, each row's output shape] for one sample."""
    return [net.input_shape or (net.input_dim,)] + [net.row_shape(l) for l in range(net.n_rows)]


def short_label(kind: str, shape: tuple[int, ...], last: bool) -> str:
    """"conv 8×6×6", "out 10", …"""
    name = "out" if last else KIND_SHORT.get(kind, kind)
    return f"{name} {'×'.join(str(v) for v in shape)}"


class FeatureMapView(NetworkView):
    """The layers of a convolutional network as feature maps (see the module docstring)."""

    BINDINGS = [
        Binding("pageup", "map_row(-1)", "Row up", show=False),
        Binding("pagedown", "map_row(1)", "Row down", show=False),
        Binding("home", "channel(-1)", "Channel", show=False),
        Binding("end", "channel(1)", "Channel", show=False),
        Binding("k", "kernels", "Filters/maps", show=False),
    ]

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._fm_net: Network | None = None
        self._kinds: list[str] = []
        self._shapes: list[tuple[int, ...]] = []
        self._fm_acts: list[np.ndarray] | None = None
        self._fm_highlight: tuple[str, int] | None = None
        self._kernels: dict[int, np.ndarray] = {}       # column -> conv W (F, C, kh, kw)
        self.show_kernels = False
        self._cols: list[_Col] = []
        self._fm_styles = StyleCache()

    # -- the interface the workspace uses ------------------------------------------------------
    def set_network(self, net: Network) -> None:
        shapes = layer_shapes(net)
        kinds = ["input"] + [net.row_kind(l) for l in range(net.n_rows)]
        if shapes != self._shapes or kinds != self._kinds:
            self._fm_acts = None
            self.cursor, self.selected = (0, 0), None
        kernels = {l + 1: np.array(layer.params["W"], dtype=np.float64)
                   for l, layer in enumerate(net.rows) if layer.kind == "conv2d"}
        same = (net is self._fm_net and shapes == self._shapes and kinds == self._kinds
                and kernels.keys() == self._kernels.keys()
                and all(np.array_equal(kernels[c], self._kernels[c]) for c in kernels))
        self._fm_net, self._shapes, self._kinds, self._kernels = net, shapes, kinds, kernels
        self._sizes = [int(np.prod(s)) for s in shapes]    # what the base's checks read
        if not same:
            self._invalidate()

    def set_values(self, activations: list[np.ndarray] | None,
                   highlight: tuple[str, int] | None = None) -> None:
        """Outputs [x, a₁, …, a_L] of the selected sample, flattened (or None), and the
        stepper's layer."""
        if activations is not None:
            acts = [np.asarray(a, dtype=np.float64).reshape(-1) for a in activations]
            if [a.size for a in acts] != self._sizes:
                raise ValueError(f"activations have sizes {[a.size for a in acts]}, "
                                 f"the network has {self._sizes}")
            activations = acts
        old = self._fm_acts
        if highlight == self._fm_highlight and (
                (activations is None and old is None)
                or (activations is not None and old is not None
                    and all(np.array_equal(a, b) for a, b in zip(activations, old)))):
            return
        self._fm_acts, self._fm_highlight = activations, highlight
        self._invalidate()

    def select(self, layer: int, unit: int) -> None:
        col = layer + 1
        if 0 <= col < len(self._sizes) and 0 <= unit < self._sizes[col]:
            self.cursor = self.selected = (col, unit)
            self._invalidate()

    # -- moving the cursor ------------------------------------------------------------------------
    def action_move(self, dcol: int, dunit: int) -> None:
        if not self._sizes:
            return
        col, unit = self.cursor
        if dcol:
            new = max(0, min(len(self._sizes) - 1, col + dcol))
            unit = min(self._sizes[new] - 1, unit * self._sizes[new] // max(1, self._sizes[col]))
            col = new
        unit = max(0, min(self._sizes[col] - 1, unit + dunit))
        if (col, unit) != self.cursor:
            self.cursor = (col, unit)
            self._invalidate()

    def action_map_row(self, delta: int) -> None:
        """One row of the map up or down (one unit in a flat layer)."""
        shape = self._shapes[self.cursor[0]] if self._shapes else (1,)
        self.action_move(0, delta * (shape[2] if len(shape) == 3 else 1))

    def action_channel(self, delta: int) -> None:
        """The same pixel in the previous or next channel."""
        shape = self._shapes[self.cursor[0]] if self._shapes else (1,)
        step = shape[1] * shape[2] if len(shape) == 3 else 1
        col, unit = self.cursor
        if 0 <= unit + delta * step < self._sizes[col]:
            self.action_move(0, delta * step)

    def action_kernels(self) -> None:
        """Conv layers: their filters' weights ↔ their feature maps."""
        self.show_kernels = not self.show_kernels
        self._invalidate()

    def hit_test(self, x: int, y: int) -> tuple[int, int] | None:
        """(column, unit) at content offset (x, y), or None."""
        self._ensure_built()
        for c, col in enumerate(self._cols):
            if not col.x <= x < col.x + col.w:
                continue
            if not col.image:
                r = y - 1
                if not 0 <= r < col.strip_rows:
                    return None
                if col.values:
                    return (c, r) if r < col.n else None
                return c, min(col.n - 1, r * col.n // col.strip_rows)
            if self.show_kernels and col.kind == "conv2d":
                return None
            C, H, W = col.shape
            tx, px = divmod(x - col.x, W * col.zoom + GAP)
            ty, py = divmod(y - 1, col.tile_h + GAP)
            if px >= W * col.zoom or py >= col.tile_h or ty < 0 or ty >= col.tiles_down or tx >= col.tiles_across:
                return None
            ch = col.first + ty * col.tiles_across + tx
            row = py if col.zoom == 2 else 2 * py
            px //= col.zoom
            if ch >= C or row >= H:
                return None
            return c, (ch * H + row) * W + px
        return None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        hit = self.hit_test(offset.x, offset.y)
        if hit is not None:
            self.cursor = hit
            self.action_select()

    # -- layout --------------------------------------------------------------------------------------
    def _layout(self, W: int, H: int) -> list[_Col]:  # type: ignore[override]
        """Pixels two cells wide (zoom 2) where they fit and hide no more channels than the
        half-block pixels of zoom 1 (e.g. 6 maps of 8×8 in 16 rows: one at zoom 2, all six at
        zoom 1); one zoom for every column, so equal maps look equal."""
        body = max(1, H - 2)            # header row, legend row
        small = self._widen(self._columns_at(W, body, zoom=1), W)
        big = self._columns_at(W, body, zoom=2)
        if sum(c.w for c in big) + GAP * (len(big) - 1) > W or any(
                c.image and c.tile_h > body for c in big):
            return small
        big = self._widen(big, W)
        return big if _hidden(big) <= _hidden(small) else small

    def _columns_at(self, W: int, body: int, zoom: int) -> list[_Col]:
        cols = [_Col(c - 1, kind, shape, zoom=zoom)
                for c, (kind, shape) in enumerate(zip(self._kinds, self._shapes))]
        for col in cols:
            if col.image:
                col.tiles_down = max(1, (body + GAP) // (col.tile_h + GAP))
                if col.tiles_down * 8 < col.shape[0] and body > col.tile_h + 1:
                    col.tiles_down = max(1, body // (col.tile_h + GAP))   # a row for "0–3 of 8"
                col.w = self._tile_w(col)
            else:
                col.values = col.n <= body
                col.strip_rows = min(col.n, body)
                col.w = VALUE_W if col.values else 2
        return cols

    def _widen(self, cols: list[_Col], W: int) -> list[_Col]:
        spare = W - sum(c.w for c in cols) - GAP * (len(cols) - 1)
        grew = True
        while spare > 0 and grew:       # widen the image columns that hide channels
            grew = False
            for col in cols:
                if not col.image:
                    continue
                need = self._tile_w(col)
                if col.tiles_across * col.tiles_down < col.shape[0] and need + GAP <= spare:
                    col.tiles_across += 1
                    col.w += need + GAP
                    spare -= need + GAP
                    grew = True
        for c, col in enumerate(cols):  # room left: wide enough for the whole header
            want = len(self._label(c, col)) - col.w
            if 0 < want <= spare:
                col.w += want
                spare -= want
        x = 0
        for c, col in enumerate(cols):
            col.x = x
            x += col.w + GAP
            if col.image:
                per = max(1, col.tiles_across * col.tiles_down)
                ch = self.cursor[1] // (col.shape[1] * col.shape[2]) if self.cursor[0] == c else 0
                col.first = (ch // per) * per
        return cols

    def _tile_w(self, col: _Col) -> int:
        if self.show_kernels and col.kind == "conv2d":
            k = self._kernels.get(col.layer + 1)
            return int(k.shape[3]) if k is not None else col.shape[2]
        return col.shape[2] * col.zoom

    # -- drawing -------------------------------------------------------------------------------------
    def _build(self, W: int, H: int) -> list[Strip]:  # type: ignore[override]
        if W <= 0 or H <= 0:
            return []
        chars = [[" "] * W for _ in range(H)]
        styles: list[list[Style | None]] = [[None] * W for _ in range(H)]
        if not self._shapes:
            _put(chars, styles, 0, 0, "no network", self._fm_styles.get(DIM_RGB))
            return _to_strips(chars, styles)
        self._cols = cols = self._layout(W, H)
        for c, col in enumerate(cols):
            self._draw_header(chars, styles, c, col)
            if col.image and self.show_kernels and col.kind == "conv2d":
                self._draw_kernels(chars, styles, col)
            elif col.image:
                self._draw_maps(chars, styles, c, col)
            else:
                self._draw_strip(chars, styles, c, col)
        self._draw_legend(chars, styles, H - 1)
        return _to_strips(chars, styles)

    def _values(self, c: int) -> np.ndarray | None:
        return self._fm_acts[c] if self._fm_acts is not None else None

    def _label(self, c: int, col: _Col) -> str:
        label = short_label(col.kind, col.shape, c == len(self._shapes) - 1)
        if self.show_kernels and col.kind == "conv2d":
            k = self._kernels.get(c)
            label = f"filters {'×'.join(str(v) for v in k.shape)}" if k is not None else label
        return label

    def _draw_header(self, chars, styles, c: int, col: _Col) -> None:  # type: ignore[no-untyped-def]
        label = self._label(c, col)
        style = self._fm_styles.get((200, 200, 200), bold=True)
        hl = self._fm_highlight
        if hl is not None and hl[1] == col.layer:
            label = ("▶ " if hl[0] == "forward" else "◀ ") + label
            style = self._fm_styles.get((0, 0, 0), ACCENT, bold=True)
        if c == self.cursor[0] and self.has_focus and hl is None:
            style = self._fm_styles.get(ACCENT, bold=True)
        short = label.split(" ")[0]
        fits = [t for t in (label, f"{short} {col.shape[0]}", short) if len(t) <= col.w]
        _put(chars, styles, col.x, 0, fits[0] if fits else short[:max(1, col.w)], style)

    def _scale(self, v: np.ndarray | None) -> float:
        return max(1e-12, float(np.abs(v).max())) if v is not None and v.size else 1.0

    def _pixel(self, v: float | None, scale: float, cursor: bool, selected: bool) -> tuple:
        if cursor:
            return ACCENT if self.has_focus else (200, 200, 200)
        if selected:
            return (255, 255, 255)
        return NEUTRAL if v is None else diverging(v, scale)

    def _draw_maps(self, chars, styles, c: int, col: _Col) -> None:  # type: ignore[no-untyped-def]
        C, Hh, Ww = col.shape
        vals = self._values(c)
        scale = self._scale(vals)
        cur = self.cursor[1] if self.cursor[0] == c else -1
        sel = self.selected[1] if self.selected and self.selected[0] == c else -1
        for k in range(col.shown):
            ch = col.first + k
            ty, tx = divmod(k, col.tiles_across)
            x0 = col.x + tx * (Ww * col.zoom + GAP)
            y0 = 1 + ty * (col.tile_h + GAP)
            base = ch * Hh * Ww
            if col.zoom == 2:             # a pixel is two cells side by side
                for r in range(Hh):
                    for j in range(Ww):
                        q = base + r * Ww + j
                        rgb = self._pixel(None if vals is None else float(vals[q]), scale, q == cur, q == sel)
                        _put(chars, styles, x0 + 2 * j, y0 + r, "  ", self._fm_styles.get(None, rgb))
                continue
            for r in range(0, Hh, 2):
                for j in range(Ww):
                    up = base + r * Ww + j
                    dn = up + Ww if r + 1 < Hh else None
                    fg = self._pixel(None if vals is None else float(vals[up]), scale, up == cur, up == sel)
                    bg = (None if dn is None else
                          self._pixel(None if vals is None else float(vals[dn]), scale, dn == cur, dn == sel))
                    _put(chars, styles, x0 + j, y0 + r // 2, "▀", self._fm_styles.get(fg, bg))
        hidden = C - col.shown
        if hidden > 0:
            last = col.first + col.shown - 1
            note = next(t for t in (f"{col.first}–{last} of {C}", f"{col.first}–{last}", "…", "")
                        if len(t) <= col.w)
            y = 1 + col.tiles_down * (col.tile_h + GAP) - 1
            if y < len(chars) - 1:
                _put(chars, styles, col.x, y, note, self._fm_styles.get(DIM_RGB))

    def _draw_kernels(self, chars, styles, col: _Col) -> None:  # type: ignore[no-untyped-def]
        k = self._kernels.get(col.layer + 1)
        if k is None:
            return
        F, Cin, kh, kw = k.shape
        scale = self._scale(k)
        th = (kh + 1) // 2
        across = max(1, (col.w + GAP) // (kw + GAP))
        down = max(1, (len(chars) - 2 + GAP) // (th + GAP))
        for t in range(min(F * Cin, across * down)):
            f, ci = divmod(t, Cin)
            ty, tx = divmod(t, across)
            x0, y0 = col.x + tx * (kw + GAP), 1 + ty * (th + GAP)
            for r in range(0, kh, 2):
                for j in range(kw):
                    fg = diverging(float(k[f, ci, r, j]), scale)
                    bg = diverging(float(k[f, ci, r + 1, j]), scale) if r + 1 < kh else None
                    _put(chars, styles, x0 + j, y0 + r // 2, "▀", self._fm_styles.get(fg, bg))

    def _draw_strip(self, chars, styles, c: int, col: _Col) -> None:  # type: ignore[no-untyped-def]
        vals = self._values(c)
        scale = self._scale(vals)
        cur = self.cursor[1] if self.cursor[0] == c else -1
        focused = self.has_focus
        for r in range(col.strip_rows):
            if col.values:
                lo, hi = r, r + 1
            else:
                lo = r * col.n // col.strip_rows
                hi = max(lo + 1, (r + 1) * col.n // col.strip_rows)
            v = float(vals[lo:hi].mean()) if vals is not None else None
            bg = NEUTRAL if v is None else diverging(v, scale)
            text = cell_text(v, col.w) if (col.values and v is not None) else " " * col.w
            on_cursor = lo <= cur < hi
            style = self._fm_styles.get(contrast_text(bg), bg, underline=on_cursor and focused)
            _put(chars, styles, col.x, 1 + r, text, style)
            if on_cursor:
                _put(chars, styles, col.x + col.w, 1 + r, "◂",
                     self._fm_styles.get(ACCENT if focused else DIM_RGB, bold=True))

    def _draw_legend(self, chars, styles, y: int) -> None:  # type: ignore[no-untyped-def]
        col, unit = self.cursor
        if not self._shapes or y < 2:
            return
        shape = self._shapes[col]
        where = (f"ch {unit // (shape[1] * shape[2])} y {unit // shape[2] % shape[1]} x {unit % shape[2]}"
                 if len(shape) == 3 else f"unit {unit}")
        value = ""
        vals = self._values(col)
        if vals is not None:
            value = f" = {float(vals[unit]):.3g}"
        hint = "  k filters" if any(k == "conv2d" for k in self._kinds) else ""
        _put(chars, styles, 0, y, f"▸ {where}{value}  ↑↓ PgUp PgDn Home End{hint}"[:len(chars[0])],
             self._fm_styles.get(DIM_RGB))


def _hidden(cols: list[_Col]) -> int:
    """Channels the image columns leave out."""
    return sum(max(0, c.shape[0] - c.tiles_across * c.tiles_down) for c in cols if c.image)


def _put(chars: list[list[str]], styles: list[list[Style | None]], x: int, y: int, text: str,
         style: Style) -> None:
    if not 0 <= y < len(chars):
        return
    row_c, row_s = chars[y], styles[y]
    for i, ch in enumerate(text):
        if 0 <= x + i < len(row_c):
            row_c[x + i] = ch
            row_s[x + i] = style


def _to_strips(chars: list[list[str]], styles: list[list[Style | None]]) -> list[Strip]:
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
