"""PlotsPanel: training charts (loss, metric, gradient norms, learning rate, weight histograms).

Charts are plotext figures (textual-plotext). A chart is rebuilt only when the data it shows
changed or the widget was resized: `CachedPlot` keeps the last rendered text, and the panel
compares cheap signatures of the history before asking for a redraw.

Axes are labelled in the one number format (`nnsim.numfmt`): epochs as whole numbers, values
at round steps, accuracies in %, histogram counts as integers, and quantities spanning many
orders of magnitude on a log axis labelled in powers of ten (1e-6 … 0.01 … 100), where an exact
zero is drawn on its own row labelled 0.
"""

from __future__ import annotations

import colorsys
import math
import re
from typing import Callable, Sequence

import numpy as np
from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.widgets import Tab, Tabs
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from nnsim.engine.history import History
from nnsim.numfmt import int_ticks, log_ticks, nice_ticks, num, power_label

DrawFn = Callable[[Plot], None]

#: Tab labels (short: all five fit the 49 columns the plots get at 80×24).
VIEWS: dict[str, str] = {"loss": "loss", "metric": "metric", "grads": "grad norm",
                         "lr": "lr", "weights": "weights"}
TRAIN_COLOUR, TEST_COLOUR = "orange", "blue"
#: Distinct colours for layers (more layers: evenly spaced hues).
LAYER_RGB: tuple[tuple[int, int, int], ...] = (
    (0, 200, 220), (230, 80, 200), (80, 200, 80), (240, 220, 60), (240, 70, 70), (90, 130, 255),
    (255, 150, 40), (230, 230, 230), (150, 110, 240), (150, 220, 170), (200, 150, 110),
    (255, 170, 200))
#: A log axis switches on when the positive values span more than this ratio.
LOG_ABOVE = 1e3


def layer_colours(n: int) -> list[tuple[int, int, int]]:
    """`n` distinct colours, one per layer."""
    if n <= len(LAYER_RGB):
        return list(LAYER_RGB[:n])
    return [tuple(round(255 * c) for c in colorsys.hsv_to_rgb(i / n, 0.65, 0.95))  # type: ignore[misc]
            for i in range(n)]


def epoch_axis(plt: Plot, xs: Sequence[float], label: str = "epoch") -> None:
    """Whole-number ticks on the x axis (epochs, mini-batches)."""
    if xs:
        ticks = int_ticks(min(xs), max(xs))
        plt.xticks(ticks, [str(t) for t in ticks])
    plt.xlabel(label)


def value_axis(plt: Plot, series: Sequence[Sequence[float | None]], percent: bool = False) -> None:
    """Round ticks on the y axis, labelled in the one number format (or in % for fractions)."""
    vals = [float(v) for ser in series for v in ser if v is not None and math.isfinite(v)]
    if not vals:
        return
    lo, hi = (0.0, 1.0) if percent else (min(vals), max(vals))
    ticks = nice_ticks(lo, hi, 5)
    if len(ticks) < 2:
        ticks = nice_ticks(lo - 0.5 * max(abs(lo), 1e-3), hi + 0.5 * max(abs(hi), 1e-3), 4)
    labels = [f"{t * 100:.0f}%" if percent else num(t, 3, trim=True) for t in ticks]
    plt.yticks(ticks, labels)
    if percent:
        plt.ylim(0, 1)


def wants_log(series: Sequence[Sequence[float | None]]) -> bool:
    """True when the positive values span more than LOG_ABOVE."""
    pos = [float(v) for ser in series for v in ser if v is not None and math.isfinite(v) and v > 0]
    return bool(pos) and max(pos) / min(pos) > LOG_ABOVE


def log_series(series: Sequence[Sequence[float | None]]) -> tuple[list[list[float | None]], float]:
    """log10 of each value; exact zeros (and negatives) at a floor one decade below the
    smallest positive value; non-finite values left out (None). Returns (series, floor)."""
    pos = [float(v) for ser in series for v in ser if v is not None and math.isfinite(v) and v > 0]
    floor = math.floor(math.log10(min(pos))) - 1 if pos else -1
    out = [[None if v is None or not math.isfinite(v) else
            (math.log10(v) if v > 0 else float(floor)) for v in ser] for ser in series]
    return out, float(floor)


def log_axis(plt: Plot, logged: Sequence[Sequence[float | None]], floor: float,
             zero: bool) -> None:
    """Ticks at powers of ten on a log10-transformed y axis; `zero`: a row for exact zeros."""
    vals = [v for ser in logged for v in ser if v is not None]
    if not vals:
        return
    lo = min(v for v in vals if v > floor) if any(v > floor for v in vals) else floor + 1
    exps = log_ticks(lo, max(vals), 6)
    ticks, labels = [float(e) for e in exps], [power_label(e) for e in exps]
    if zero:
        ticks, labels = [floor] + ticks, ["0"] + labels
    plt.yticks(ticks, labels)
    plt.ylim(min(ticks), max(ticks))


def _points(xs: Sequence[float], ys: Sequence[float | None]) -> tuple[list[float], list[float]]:
    """The (x, y) pairs whose y is known."""
    pairs = [(x, y) for x, y in zip(xs, ys) if y is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


class CachedPlot(PlotextPlot):
    """A PlotextPlot that builds its figure only when `redraw` was called or the size changed."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._draw: DrawFn | None = None
        self._version = 0
        self._cache_key: tuple | None = None
        self._cache: RenderResult | None = None
        self.build_count = 0
        """How many times the figure was built (tests check that nothing redraws needlessly)."""

    def redraw(self, draw: DrawFn) -> None:
        """Replace the figure with what `draw(plt)` plots (lazily, at the next render)."""
        self._draw = draw
        self._version += 1
        self.refresh()

    def render(self) -> RenderResult:
        key = (self.size, self._version, self.app.theme, self.theme)
        if key == self._cache_key and self._cache is not None:
            return self._cache
        plt = self.plt
        plt.clear_figure()
        if self._draw is not None:
            self._draw(plt)
        self._cache = super().render()
        self._cache_key = key
        self.build_count += 1
        return self._cache


def _layer_no(name: str) -> int:
    m = re.match(r"layer(\d+)\.", name)
    return int(m.group(1)) if m else 0


class PlotsPanel(Vertical):
    """Tabs (loss, metric, gradient norm, learning rate, weights) over one cached chart."""

    DEFAULT_CSS = """
    PlotsPanel {
        width: 1fr;
        height: 1fr;
    }
    PlotsPanel > CachedPlot {
        height: 1fr;
    }
    """

    def __init__(self, view: str = "loss", *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        if view not in VIEWS:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
        self._view = view
        self._history: History | None = None
        self._weights: dict[str, np.ndarray] = {}
        self._weights_sig: tuple = ()
        self._drawn: tuple | None = None

    def compose(self) -> ComposeResult:
        yield Tabs(*[Tab(label, id=f"plots-{key}") for key, label in VIEWS.items()],
                   active=f"plots-{self._view}")
        yield CachedPlot()

    @property
    def chart(self) -> CachedPlot:
        return self.query_one(CachedPlot)

    @property
    def view(self) -> str:
        """The chart shown now (a key of VIEWS)."""
        return self._view

    def set_view(self, view: str) -> None:
        """Show chart `view` ("loss", "metric", "grads", "lr", "weights")."""
        if view not in VIEWS:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
        self._view = view
        if self.is_mounted:
            self.query_one(Tabs).active = f"plots-{view}"
            self._sync()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab.id:
            self._view = event.tab.id.removeprefix("plots-")
            self._sync()

    def on_mount(self) -> None:
        self._sync()

    def update_history(self, history: History, weights: dict[str, np.ndarray] | None = None) -> None:
        """New data; the visible chart is rebuilt only if what it shows changed."""
        self._history = history
        if weights is not None:
            ws = {k: np.asarray(v) for k, v in weights.items() if k.endswith(".W")}
            self._weights = ws
            self._weights_sig = tuple((k, v.shape, float(np.abs(v).sum()), float(v.sum()))
                                      for k, v in sorted(ws.items()))
        if self.is_mounted:
            self._sync()

    # -- signatures and drawing ------------------------------------------------------------
    def _signature(self, view: str) -> tuple:
        h = self._history
        if view == "weights":
            return (view, self._weights_sig)
        if h is None:
            return (view, None)
        n_ep = h.epoch_count
        batches = h.batch_count if view == "loss" and n_ep < 2 else None
        return (view, id(h), n_ep, batches)

    def _sync(self) -> None:
        sig = self._signature(self._view)
        if sig != self._drawn:
            self._drawn = sig
            self.chart.redraw(getattr(self, f"_draw_{self._view}"))

    def _draw_series(self, plt: Plot, xs: Sequence[float],
                     series: list[tuple[str, Sequence[float | None], object]],
                     percent: bool = False) -> bool:
        """Plot named series on a linear axis (round ticks), or on a log axis when they span
        many decades. Returns whether the axis is logarithmic."""
        values = [ys for _, ys, _ in series]
        log = not percent and wants_log(values)
        if log:
            logged, floor = log_series(values)
            zero = any(v is not None and math.isfinite(v) and v <= 0 for ser in values for v in ser)
            values = logged
        marker = "braille" if len(xs) > 1 else "dot"
        for (label, _, colour), ys in zip(series, values):
            px, py = _points(xs, ys)
            if px:
                plt.plot(px, py, label=label, color=colour, marker=marker)
        if log:
            log_axis(plt, values, floor, zero)
        else:
            value_axis(plt, values, percent)
        return log

    def _draw_loss(self, plt: Plot) -> None:
        h = self._history
        if h is None or (not h.epochs and not h.batch_count):
            plt.title("loss — no data yet")
            return
        if len(h.epochs) < 2:
            steps = h.batch_step.tolist()
            log = self._draw_series(plt, steps, [("train mini-batch loss", h.batch_loss.tolist(),
                                                  TRAIN_COLOUR)])
            plt.title("loss per mini-batch" + (" (log scale)" if log else ""))
            epoch_axis(plt, steps, "mini-batch")
            return
        ep = [r.epoch for r in h.epochs]
        series = [("train", [r.train_loss for r in h.epochs], TRAIN_COLOUR)]
        test = [r.test_loss for r in h.epochs]
        if all(v is not None for v in test):
            series.append(("test", test, TEST_COLOUR))
        log = self._draw_series(plt, ep, series)
        plt.title("loss per epoch" + (" (log scale)" if log else ""))
        epoch_axis(plt, ep)

    def _draw_metric(self, plt: Plot) -> None:
        h = self._history
        if h is None or not h.epochs:
            plt.title("metric — no epochs yet")
            return
        name = h.epochs[-1].metric
        ep = [r.epoch for r in h.epochs]
        series = [(f"train {name}", [r.train_metric for r in h.epochs], TRAIN_COLOUR)]
        test = [r.test_metric for r in h.epochs]
        if all(v is not None for v in test):
            series.append((f"test {name}", test, TEST_COLOUR))
        accuracy = name == "accuracy"
        self._draw_series(plt, ep, series, percent=accuracy)
        plt.title(f"{name} per epoch" + (" (%)" if accuracy else ""))
        epoch_axis(plt, ep)

    def _draw_grads(self, plt: Plot) -> None:
        h = self._history
        if h is None or not h.epochs:
            plt.title("gradient norm — no epochs yet")
            return
        ep = [r.epoch for r in h.epochs]
        n_layers = len(h.epochs[-1].grad_norms)
        values = [[float(r.grad_norms[i]) if i < len(r.grad_norms) else None for r in h.epochs]
                  for i in range(n_layers)]
        logged, floor = log_series(values)
        zero = any(v is not None and v <= 0 for ser in values for v in ser)
        marker = "braille" if len(ep) > 1 else "dot"
        for i, (ys, colour) in enumerate(zip(logged, layer_colours(n_layers))):
            px, py = _points(ep, ys)
            if px:
                plt.plot(px, py, label=f"layer {i + 1}", color=colour, marker=marker)
        log_axis(plt, logged, floor, zero)
        plt.title("mean gradient norm per layer (log scale" + ("; 0 = no gradient)" if zero else ")"))
        epoch_axis(plt, ep)

    def _draw_lr(self, plt: Plot) -> None:
        h = self._history
        if h is None or not h.epochs:
            plt.title("learning rate — no epochs yet")
            return
        ep = [r.epoch for r in h.epochs]
        log = self._draw_series(plt, ep, [("learning rate", [r.learning_rate for r in h.epochs],
                                           "green")])
        plt.title("learning rate per epoch" + (" (log scale)" if log else ""))
        epoch_axis(plt, ep)

    def _draw_weights(self, plt: Plot) -> None:
        names = sorted(self._weights, key=_layer_no)
        if not names:
            plt.title("weights — no data yet")
            return
        plt.subplots(1, len(names))
        colours = layer_colours(len(names))
        for i, key in enumerate(names):
            w = self._weights[key].astype(np.float64).ravel()
            sub = plt.subplot(1, i + 1)
            lo, hi = float(w.min()), float(w.max())
            if hi - lo < 1e-12:
                lo, hi = lo - 0.5, hi + 0.5
            counts, edges = np.histogram(w, bins=min(20, max(5, w.size // 4)), range=(lo, hi))
            centres = ((edges[:-1] + edges[1:]) / 2).tolist()
            sub.bar(centres, counts.tolist(), color=colours[i], width=1.0)
            ticks = [lo, (lo + hi) / 2, hi]
            sub.xticks(ticks, [num(t, 2, trim=True) for t in ticks])
            counts_at = int_ticks(0, int(counts.max()), 4)      # counts are whole numbers
            sub.yticks(counts_at, [str(c) for c in counts_at])
            sub.title(f"layer {i + 1} W ({w.size})")
