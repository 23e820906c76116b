"""BoundaryView: the network's output over a 2-D input plane as a half-block heat map.

Each terminal cell is two pixels: "▀" with fg = upper pixel, bg = lower pixel. Rows are built
into cached Strips when the field, data or size change (styles cached by colour pair), and
`render_line` only hands them out. Train points "●" and test points "○" are drawn on top.
"""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from ._common import BLUE, ORANGE, PALETTE, RGB, StyleCache, mix

Extent = tuple[float, float, float, float]

FIELD_MID: RGB = (232, 234, 235)   # an undecided field (the Playground's light grey)
FIELD_STRENGTH = 0.8               # full confidence stops short of the point colours
BINARY_LEVELS = 32                 # binary field: shades per side
#: Points are their class colour this much darker: a contrast of at least 3.5 : 1 against their
#: own class's region at full confidence, for every colour of the palette.
POINT_DARKEN = 0.6
LEGEND_BG: RGB = (30, 30, 30)


def grid_points(extent: Extent, cols: int, rows: int) -> np.ndarray:
    """Pixel centres of a cols × rows grid over extent, row-major from the top: (rows*cols, 2).

    Reshape the network's outputs for them to (rows, cols[, K]) for `BoundaryView.set_field`.
    """
    xmin, xmax, ymin, ymax = extent
    xs = xmin + (np.arange(cols) + 0.5) * (xmax - xmin) / cols
    ys = ymax - (np.arange(rows) + 0.5) * (ymax - ymin) / rows
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def _pack(rgb: np.ndarray) -> np.ndarray:
    """(…, 3) uint8 → (…,) int colour keys 0xRRGGBB."""
    r = rgb.astype(np.int64)
    return (r[..., 0] << 16) | (r[..., 1] << 8) | r[..., 2]


def _unpack(key: int) -> RGB:
    return (key >> 16) & 255, (key >> 8) & 255, key & 255


class BoundaryView(Widget):
    """Heat map of the output over the input plane, with train (●) and test (○) points."""

    DEFAULT_CSS = """
    BoundaryView {
        width: 1fr;
        height: 1fr;
        min-height: 4;
    }
    """

    discretize: reactive[bool] = reactive(False)
    """Colour by the predicted class only (no blending by probability)."""
    show_test: reactive[bool] = reactive(True)
    """Draw the test points (○)."""

    class GridResized(Message):
        """The pixel grid changed size: recompute the field for (cols, rows) pixels."""

        def __init__(self, view: "BoundaryView", cols: int, rows: int) -> None:
            self.view, self.cols, self.rows = view, cols, rows
            super().__init__()

        @property
        def control(self) -> "BoundaryView":
            return self.view

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._styles = StyleCache()
        self._strips: list[Strip] | None = None
        self._built_for: Size | None = None
        self._field: np.ndarray | None = None
        self._signed = False
        self._n_classes = 2
        self.extent: Extent = (-1.0, 1.0, -1.0, 1.0)
        self._train: tuple[np.ndarray, np.ndarray] | None = None
        self._test: tuple[np.ndarray, np.ndarray] | None = None
        self.class_names: list[str] | None = None
        """Names shown in the legend row (class colours); None: "class 0", "class 1", …"""

    # -- public API ------------------------------------------------------------------------
    def set_data(self, points_train: np.ndarray, y_train: np.ndarray,
                 points_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
                 n_classes: int = 2, extent: Extent | None = None) -> None:
        """Points to overlay and the plane's extent (default: the points' bounds + 10%).

        Binary labels may be 0/1 or ±1 (then the field is read as ±1 values too).
        """
        tr = np.asarray(points_train, dtype=np.float64).reshape(-1, 2)
        ytr = np.asarray(y_train, dtype=np.float64).reshape(len(tr), -1)
        self._train = (tr, ytr)
        self._test = None
        if points_test is not None and y_test is not None and len(points_test):
            te = np.asarray(points_test, dtype=np.float64).reshape(-1, 2)
            self._test = (te, np.asarray(y_test, dtype=np.float64).reshape(len(te), -1))
        self._n_classes = int(n_classes)
        self._signed = bool(self._n_classes == 2 and ytr.size and ytr.min() < 0)
        if extent is None:
            allp = tr if self._test is None else np.vstack([tr, self._test[0]])
            lo, hi = (allp.min(axis=0), allp.max(axis=0)) if len(allp) else (-np.ones(2), np.ones(2))
            pad = np.maximum((hi - lo) * 0.1, 1e-3)
            extent = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
        self.extent = tuple(float(v) for v in extent)  # type: ignore[assignment]
        self._invalidate()

    def set_field(self, values: np.ndarray | None, signed: bool | None = None,
                  grid: tuple[int, int] | None = None) -> None:
        """Output over the grid: (rows, cols) probabilities or ±1 values, or (rows, cols, K).

        With `grid=(cols, rows)`, values may be flat as `predict(grid_points(extent, cols, rows))`
        returns them: (rows*cols,) or (rows*cols, K). `signed` says binary values are in [−1, 1]
        (default: guessed from ±1 labels). A field of another size than `grid_shape()` is
        resampled (nearest pixel).
        """
        if values is not None:
            values = np.asarray(values, dtype=np.float64)
            if grid is not None:
                cols, rows = grid
                if values.size % (rows * cols):
                    raise ValueError(f"a field of shape {values.shape} does not fit grid {grid}")
                values = values.reshape(rows, cols, -1)
            if values.ndim == 3 and values.shape[2] == 1:
                values = values[:, :, 0]
            if values.ndim not in (2, 3):
                raise ValueError(f"field must be (rows, cols) or (rows, cols, K), got {values.shape}")
        if signed is not None:
            self._signed = bool(signed)
        self._field = values
        self._invalidate()

    def legend_rows(self, height: int | None = None) -> int:
        """1 when the bottom row holds the legend (tall enough, data set), else 0."""
        h = self.size.height if height is None else height
        return 1 if h >= 6 and self._train is not None else 0

    def grid_shape(self) -> tuple[int, int]:
        """(cols, pixel rows) of the field: (width, 2 × the rows above the legend)."""
        return self.size.width, (self.size.height - self.legend_rows()) * 2

    def watch_discretize(self) -> None:
        self._invalidate()

    def watch_show_test(self) -> None:
        self._invalidate()

    def on_resize(self, event: events.Resize) -> None:
        self._invalidate()
        cols, rows = self.grid_shape()
        if cols > 0 and rows > 0:
            self.post_message(self.GridResized(self, cols, rows))

    # -- drawing ---------------------------------------------------------------------------
    def _invalidate(self) -> None:
        self._strips = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        size = self.size
        if self._strips is None or self._built_for != size:
            self._built_for = size
            self._strips = self._build(size.width, size.height)
        return self._strips[y] if 0 <= y < len(self._strips) else Strip.blank(size.width)

    def field_rgb(self, cols: int, rows: int) -> np.ndarray | None:
        """The field's colours resampled to (rows, cols, 3) uint8 (quantized), or None."""
        f = self._field
        if f is None or cols <= 0 or rows <= 0:
            return None
        ri = (np.arange(rows) * f.shape[0]) // rows
        ci = (np.arange(cols) * f.shape[1]) // cols
        f = f[ri][:, ci]
        mid = np.array(FIELD_MID, dtype=np.float64)
        if f.ndim == 2:
            t = (f + 1.0) / 2.0 if self._signed else f
            t = np.clip(np.nan_to_num(t, nan=0.5), 0.0, 1.0)
            if self.discretize:
                t = (t >= 0.5).astype(np.float64)
            strength = np.round(np.abs(t - 0.5) * 2 * BINARY_LEVELS) / BINARY_LEVELS
            side = np.where(t[..., None] >= 0.5, np.array(BLUE, float), np.array(ORANGE, float))
            rgb = mid + (side - mid) * (strength * FIELD_STRENGTH)[..., None]
        else:
            p = np.clip(np.nan_to_num(f, nan=0.0), 0.0, None)
            k = p.shape[2]
            if self.discretize:
                p = np.eye(k)[np.argmax(p, axis=2)]
            p = p / np.maximum(p.sum(axis=2, keepdims=True), 1e-12)
            pal = np.array([PALETTE[i % len(PALETTE)] for i in range(k)], dtype=np.float64)
            rgb = mid + (p @ pal - mid) * FIELD_STRENGTH
            rgb = np.round(rgb / 8) * 8          # quantize: bounded number of styles
        return np.clip(np.round(rgb), 0, 255).astype(np.uint8)

    def _point_colour(self, y: np.ndarray) -> RGB:
        """Class colour of one label row (darkened so it shows on the field)."""
        if y.size > 1:
            base = PALETTE[int(np.argmax(y)) % len(PALETTE)]
        elif self._n_classes > 2:
            base = PALETTE[int(y[0]) % len(PALETTE)]
        else:
            base = BLUE if y[0] > (0.0 if self._signed else 0.5) else ORANGE
        return mix(base, (0, 0, 0), POINT_DARKEN)

    def legend_parts(self) -> list[tuple[str, Style]]:
        """The legend row: "● train ○ test", then a swatch per class (or the two sides)."""
        grey = self._styles.get((200, 200, 200), LEGEND_BG)
        parts = [(" ● train ○ test " if self.show_test else " ● train ", grey)]
        k = self._n_classes
        names = self.class_names or [f"class {i}" for i in range(k)]
        if k <= 2:
            sides = [(ORANGE, names[0] if names else "−"), (BLUE, names[1] if len(names) > 1 else "+")]
        else:
            sides = [(PALETTE[i % len(PALETTE)], names[i] if i < len(names) else str(i))
                     for i in range(k)]
        for rgb, name in sides:
            parts.append((" ■", self._styles.get(rgb, LEGEND_BG, bold=True)))
            parts.append((f" {name}", grey))
        parts.append((" ", grey))
        return parts

    def _overlay(self, cols: int, rows: int) -> dict[tuple[int, int], tuple[str, RGB]]:
        """(text row, col) → (glyph, colour): test points first, train points on top."""
        out: dict[tuple[int, int], tuple[str, RGB]] = {}
        xmin, xmax, ymin, ymax = self.extent
        sets = [(self._test, "○")] if self.show_test else []
        for data, glyph in sets + [(self._train, "●")]:
            if data is None:
                continue
            pts, ys = data
            cx = np.floor((pts[:, 0] - xmin) / (xmax - xmin) * cols).astype(np.int64)
            cy = np.floor((ymax - pts[:, 1]) / (ymax - ymin) * rows).astype(np.int64)
            ok = (cx >= 0) & (cx < cols) & (cy >= 0) & (cy < rows)
            for i in np.flatnonzero(ok):
                out[(int(cy[i]), int(cx[i]))] = (glyph, self._point_colour(ys[i]))
        return out

    def _build(self, W: int, H: int) -> list[Strip]:
        if W <= 0 or H <= 0:
            return []
        legend_rows = self.legend_rows(H)
        H -= legend_rows
        rgb = self.field_rgb(W, 2 * H)
        overlay = self._overlay(W, H)
        strips = []
        cache = self._styles
        for y in range(H):
            if rgb is None:
                top = bot = [None] * W
            else:
                top = _pack(rgb[2 * y]).tolist()
                bot = _pack(rgb[2 * y + 1]).tolist()
            segs: list[Segment] = []
            run_key: tuple | None = None
            run_len = 0
            for x in range(W):
                point = overlay.get((y, x))
                if point is None:
                    key = (top[x], bot[x])
                    if key == run_key:
                        run_len += 1
                        continue
                    if run_len:
                        segs.append(self._run(run_key, run_len))
                    run_key, run_len = key, 1
                    continue
                if run_len:
                    segs.append(self._run(run_key, run_len))
                    run_key, run_len = None, 0
                bg = None
                if top[x] is not None:
                    t, b = _unpack(top[x]), _unpack(bot[x])
                    bg = ((t[0] + b[0]) // 2, (t[1] + b[1]) // 2, (t[2] + b[2]) // 2)
                segs.append(Segment(point[0], cache.get(point[1], bg, bold=True)))
            if run_len:
                segs.append(self._run(run_key, run_len))
            strips.append(Strip(segs, W))
        if legend_rows:                                # the legend row under the field
            legend = Strip([Segment(t, st) for t, st in self.legend_parts()])
            strips.append(legend.crop(0, W).extend_cell_length(W, Style(bgcolor=Color.from_rgb(*LEGEND_BG))))
        return strips

    def _run(self, key: tuple | None, n: int) -> Segment:
        if key is None or key[0] is None:
            return Segment(" " * n, Style())
        return Segment("▀" * n, self._styles.get(_unpack(key[0]), _unpack(key[1])))
