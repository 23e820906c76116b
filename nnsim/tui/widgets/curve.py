"""CurveView: 1-D regression — the data points and the network's fitted curve (plotext)."""

from __future__ import annotations

import numpy as np
from textual_plotext.plot import Plot

from nnsim.numfmt import nice_ticks, num

from .plots import TEST_COLOUR, TRAIN_COLOUR, CachedPlot, value_axis


def curve_points(x_range: tuple[float, float], n: int = 200) -> np.ndarray:
    """n evenly spaced inputs over x_range as an (n, 1) array (feed to transform + predict)."""
    return np.linspace(float(x_range[0]), float(x_range[1]), int(n)).reshape(-1, 1)


class CurveView(CachedPlot):
    """Scatter of train (●) and test points and the fitted curve ŷ(x); rebuilt only on change."""

    DEFAULT_CSS = """
    CurveView {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._train: tuple[list[float], list[float]] | None = None
        self._test: tuple[list[float], list[float]] | None = None
        self._curve: tuple[list[float], list[float]] | None = None
        self.x_range: tuple[float, float] = (-1.0, 1.0)

    def set_data(self, x_train: np.ndarray, y_train: np.ndarray,
                 x_test: np.ndarray | None = None, y_test: np.ndarray | None = None) -> None:
        """The data points (1-D inputs and targets); sets `x_range` to their bounds + 5%."""
        xt = np.asarray(x_train, dtype=np.float64).ravel()
        self._train = (xt.tolist(), np.asarray(y_train, dtype=np.float64).ravel().tolist())
        self._test = None
        xs = xt
        if x_test is not None and y_test is not None and len(x_test):
            xe = np.asarray(x_test, dtype=np.float64).ravel()
            self._test = (xe.tolist(), np.asarray(y_test, dtype=np.float64).ravel().tolist())
            xs = np.concatenate([xt, xe])
        if xs.size:
            lo, hi = float(xs.min()), float(xs.max())
            pad = max((hi - lo) * 0.05, 1e-3)
            self.x_range = (lo - pad, hi + pad)
        self.redraw(self._plot_all)

    def set_curve(self, xs: np.ndarray | None, ys: np.ndarray | None) -> None:
        """The network's prediction ŷ at inputs xs (e.g. `curve_points(view.x_range)`)."""
        curve = None if xs is None or ys is None else (
            np.asarray(xs, dtype=np.float64).ravel().tolist(),
            np.asarray(ys, dtype=np.float64).ravel().tolist())
        if curve != self._curve:
            self._curve = curve
            self.redraw(self._plot_all)

    def _plot_all(self, plt: Plot) -> None:
        if self._train is None and self._curve is None:
            plt.title("no data yet")
            return
        if self._train is not None:
            plt.scatter(*self._train, label="train", color=TRAIN_COLOUR, marker="dot")
        if self._test is not None:
            plt.scatter(*self._test, label="test", color=TEST_COLOUR, marker="dot")
        if self._curve is not None:
            plt.plot(*self._curve, label="network ŷ(x)", color="white", marker="braille")
        ys = [ser[1] for ser in (self._train, self._test, self._curve) if ser is not None]
        value_axis(plt, ys)                       # round ticks in the one number format
        xticks = nice_ticks(*self.x_range, 6)
        plt.xticks(xticks, [num(t, 3, trim=True) for t in xticks])
        plt.xlabel("x")
