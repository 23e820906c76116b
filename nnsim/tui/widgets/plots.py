"""PlotsPanel: training charts (loss, metric, gradient norms, learning rate, weight histograms).

Charts are plotext figures (textual-plotext). A chart is rebuilt only when the data it shows
changed or the widget was resized: `CachedPlot` keeps the last rendered text, and the panel
compares cheap signatures of the history before asking for a redraw.
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np
from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.widgets import Tab, Tabs
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from nnsim.engine.history import History

DrawFn = Callable[[Plot], None]

VIEWS: dict[str, str] = {"loss": "loss", "metric": "metric", "grads": "gradient norm",
                         "lr": "learning rate", "weights": "weights"}
TRAIN_COLOUR, TEST_COLOUR = "orange", "blue"
LAYER_COLOURS = ("cyan", "magenta", "green", "yellow", "red", "blue", "orange", "white")


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

    def _draw_loss(self, plt: Plot) -> None:
        h = self._history
        if h is None or (not h.epochs and not h.batch_count):
            plt.title("loss — no data yet")
            return
        if len(h.epochs) < 2:
            plt.plot(h.batch_step.tolist(), h.batch_loss.tolist(), label="mini-batch loss",
                     color=TRAIN_COLOUR)
            plt.title("loss per mini-batch")
            plt.xlabel("batch")
            return
        ep = [r.epoch for r in h.epochs]
        plt.plot(ep, [r.train_loss for r in h.epochs], label="train", color=TRAIN_COLOUR)
        test = [r.test_loss for r in h.epochs]
        if all(v is not None for v in test):
            plt.plot(ep, test, label="test", color=TEST_COLOUR)
        plt.title("loss per epoch")
        plt.xlabel("epoch")

    def _draw_metric(self, plt: Plot) -> None:
        h = self._history
        if h is None or not h.epochs:
            plt.title("metric — no epochs yet")
            return
        name = h.epochs[-1].metric
        ep = [r.epoch for r in h.epochs]
        plt.plot(ep, [r.train_metric for r in h.epochs], label=f"train {name}",
                 color=TRAIN_COLOUR, marker="braille" if len(ep) > 1 else "dot")
        test = [r.test_metric for r in h.epochs]
        if all(v is not None for v in test):
            plt.plot(ep, test, label=f"test {name}", color=TEST_COLOUR,
                     marker="braille" if len(ep) > 1 else "dot")
        if name == "accuracy":
            plt.ylim(0, 1)
        plt.title(f"{name} per epoch")
        plt.xlabel("epoch")

    def _draw_grads(self, plt: Plot) -> None:
        h = self._history
        if h is None or not h.epochs:
            plt.title("gradient norm — no epochs yet")
            return
        ep = [r.epoch for r in h.epochs]
        n_layers = len(h.epochs[-1].grad_norms)
        for i in range(n_layers):
            vals = [max(float(r.grad_norms[i]), 1e-12) if i < len(r.grad_norms) else 1e-12
                    for r in h.epochs]
            plt.plot(ep, vals, label=f"layer {i + 1}", color=LAYER_COLOURS[i % len(LAYER_COLOURS)])
        plt.yscale("log")
        plt.title("mean gradient norm per layer (log scale)")
        plt.xlabel("epoch")

    def _draw_lr(self, plt: Plot) -> None:
        h = self._history
        if h is None or not h.epochs:
            plt.title("learning rate — no epochs yet")
            return
        ep = [r.epoch for r in h.epochs]
        plt.plot(ep, [r.learning_rate for r in h.epochs], label="learning rate", color="green")
        plt.title("learning rate per epoch")
        plt.xlabel("epoch")

    def _draw_weights(self, plt: Plot) -> None:
        names = sorted(self._weights, key=_layer_no)
        if not names:
            plt.title("weights — no data yet")
            return
        plt.subplots(1, len(names))
        for i, key in enumerate(names):
            w = self._weights[key].astype(np.float64).ravel()
            sub = plt.subplot(1, i + 1)
            lo, hi = float(w.min()), float(w.max())
            if hi - lo < 1e-12:
                lo, hi = lo - 0.5, hi + 0.5
            counts, edges = np.histogram(w, bins=min(20, max(5, w.size // 4)), range=(lo, hi))
            centres = ((edges[:-1] + edges[1:]) / 2).tolist()
            sub.bar(centres, counts.tolist(), color=LAYER_COLOURS[i % len(LAYER_COLOURS)],
                    width=1.0)
            ticks = [lo, (lo + hi) / 2, hi]
            sub.xticks(ticks, [f"{t:.2g}" for t in ticks])
            sub.title(f"layer {i + 1} W ({w.size})")
