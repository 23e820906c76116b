"""Feeding the workspace's views from the lab: network, card, stepper, boundary/curve, plots.

`Display` decides what to show (the live state, or a stored step while browsing history),
computes the numbers each widget takes and hands them over; it keeps no widgets of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from textual.widget import Widget

from nnsim.engine import History, Network, StepTrace
from nnsim.engine import activations as acts_registry
from nnsim.numfmt import num

from ..controller import Lab
from ..widgets import (
    BoundaryView,
    CurveView,
    NetworkView,
    NeuronCard,
    PlotsPanel,
    StepperPanel,
    curve_points,
    grid_points,
    sample_activations,
)
from ..widgets.autoencoder import AutoencoderView, bottleneck
from ..widgets.sequence_plot import SequencePlot
from ..widgets.unrolled import UnrolledView

#: Epochs drawn at most in the plots (the history is thinned beyond that).
PLOT_EPOCHS = 300
#: Pixels (columns, rows) of the per-unit maps over the input plane (2-D data).
MAP_GRID = (16, 12)
#: Activations whose neutral value is 0.5 (their maps are centred there).
HALF_CENTRED = ("sigmoid", "softmax")


def plane_extent(points: list[np.ndarray]) -> tuple[float, float, float, float]:
    """The data's bounds plus 10% (as the boundary view draws the plane)."""
    allp = np.vstack([p.reshape(-1, 2) for p in points if p is not None and len(p)])
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    pad = np.maximum((hi - lo) * 0.1, 1e-3)
    return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])


def unit_maps(net: Network, features: np.ndarray, shape: tuple[int, int]) -> list[np.ndarray]:
    """Every unit's value over a grid of the input plane: [inputs, layer 1, …] each
    (units, rows, cols), from `features` = the grid's points through the data's features."""
    cols, rows = shape
    a = np.asarray(features, dtype=np.float64)
    out = [a.T.reshape(-1, rows, cols)]
    for layer in net.dense:
        z = a @ layer.params["W"].astype(np.float64) + layer.params["b"].astype(np.float64)
        a = acts_registry.get(layer.activation).fn(z, float(layer.alpha or 0.0))
        out.append(a.T.reshape(-1, rows, cols))
    return out


@dataclass
class Selection:
    """Which neuron and which sample the views show."""

    neuron: tuple[int, int] | None = None   # (dense layer or −1 for inputs, unit)
    sample: int = 0                         # training-set index when there is no trace
    row: int = 0                            # row of the traced batch when there is one
    weight: int = 0                         # the card's selected incoming weight (input index)


def _probabilities(out: np.ndarray, lab: Lab) -> np.ndarray:
    """Outputs as the boundary shows them: probabilities for logits, else as they are."""
    t = lab.trainer
    if not t.from_logits:
        return out
    if out.shape[1] == 1:
        return 1.0 / (1.0 + np.exp(-np.clip(out, -60, 60)))
    e = np.exp(out - out.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class Display:
    """What the workspace draws for a lab and a selection."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.sel = Selection(sample=int(lab.scenario.view.sample or 0))
        self._plot_key: tuple[int, int] | None = None
        self._plot_history = History()
        self._map_features: np.ndarray | None = None     # the map grid through the features

    # -- which state ---------------------------------------------------------------------------
    def net(self) -> Network:
        return self.lab.network_at(self.lab.browsed)

    def trace(self) -> StepTrace | None:
        snap = self.lab.browsed
        if snap is not None:
            return snap.trace
        if self.lab.walking and self.lab.phase is not None:   # a step walked with f: its numbers
            return self.lab.phase.trace
        return self.lab.last_trace

    def highlight(self) -> tuple[str, int] | None:
        err = self.lab.diverged
        if err is not None and err.layer is not None:
            return ("backward", int(err.layer) - 1)
        ph = self.lab.phase if self.lab.browsed is None else None
        if ph is not None and ph.kind in ("forward", "backward") and ph.layer is not None:
            return (ph.kind, int(ph.layer))
        return None

    def x_row(self) -> np.ndarray:
        x = self.lab.trainer.x_train
        self.sel.sample %= len(x)
        return x[self.sel.sample]

    def activations(self, net: Network, trace: StepTrace | None) -> list[np.ndarray]:
        """[x, a₁, …, a_L] of the traced sample, or of the selected sample now."""
        if trace is not None and len(trace.layers) == net.n_dense:
            r = min(self.sel.row, len(trace.indices) - 1)
            return [trace.layers[0].a_in[r]] + [lt.a[r] for lt in trace.layers]
        return sample_activations(net, self.x_row())

    def selected_weight(self) -> tuple[int, int, int] | None:
        """(dense layer, input i, unit j) of the card's selected weight W[i, j], if a neuron of
        a dense layer is selected."""
        if self.sel.neuron is None or self.sel.neuron[0] < 0:
            return None
        layer, unit = self.sel.neuron
        net = self.net()
        if layer >= net.n_dense or net.dense[layer].kind != "dense" or unit >= net.dense[layer].units:
            return None
        return layer, self.sel.weight % int(net.dense[layer].params["W"].shape[0]), unit

    def move_weight(self, delta: int) -> str:
        """`w`/`W`: the next/previous incoming weight of the selected neuron."""
        found = self.selected_weight()
        if found is None:
            return "select a neuron of a dense layer first (arrows + enter in the network view)"
        layer, i, unit = found
        fan_in = int(self.net().dense[layer].params["W"].shape[0])
        self.sel.weight = (i + delta) % fan_in
        return (f"selected weight w{self.sel.weight} = layer{layer + 1}.W[{self.sel.weight}, {unit}]"
                " (g checks it numerically)")

    def move_sample(self, delta: int) -> str:
        """`,`/`.`: the previous/next sample (a batch row when a trace is shown)."""
        trace = self.trace()
        if trace is not None:
            self.sel.row = (self.sel.row + delta) % len(trace.indices)
            return f"batch row {self.sel.row + 1} of {len(trace.indices)}"
        self.sel.sample = (self.sel.sample + delta) % self.lab.trainer.n_train
        return f"training sample #{self.sel.sample}"

    # -- drawing ---------------------------------------------------------------------------------
    def set_data(self, screen: Widget) -> None:
        """The data points under the boundary or the curve (once per screen)."""
        for view in screen.query(BoundaryView):
            self.set_boundary_data(view)
        for curve in screen.query(CurveView):
            self.set_curve_data(curve)

    def draw_tab(self, screen: Widget, tab: str, card: bool) -> None:
        """Redraw the view on tab `tab`; the neuron card too when `card`."""
        if tab == "tab-network":
            self.draw_network(screen.query_one(NetworkView),
                              screen.query_one(NeuronCard) if card else None)
        elif tab == "tab-stepper":
            self.draw_stepper(screen.query_one(StepperPanel))
        elif tab == "tab-boundary":
            for view in screen.query(BoundaryView):
                self.draw_boundary(view)
            for curve in screen.query(CurveView):
                self.draw_curve(curve)
            for auto in screen.query(AutoencoderView):
                self.draw_autoencoder(auto)
            for seq in screen.query(SequencePlot):
                self.draw_sequence(seq)
        elif tab == "tab-plots":
            screen.query_one(PlotsPanel).update_history(self.plot_history(), self.net().get_weights())

    def plot_history(self) -> History:
        """The history, thinned to at most PLOT_EPOCHS epochs (every k-th and the last): a
        plotext chart of thousands of points takes tenths of a second, blocking the keys."""
        h = self.lab.trainer.history
        kept = h.epochs                  # bounded: see nnsim.engine.history
        n = len(kept)
        if n <= PLOT_EPOCHS:
            return h
        key = (id(h), h.epoch_count)
        if self._plot_key != key:
            epochs = list(kept[:: -(-n // PLOT_EPOCHS)])
            if epochs[-1] is not kept[-1]:
                epochs.append(kept[-1])
            self._plot_key, self._plot_history = key, History(epochs=epochs)
        return self._plot_history

    def draw_network(self, view: NetworkView, card: NeuronCard | None) -> None:
        """The network for the shown sample; the selected neuron's card unless `card` is None."""
        net, trace = self.net(), self.trace()
        if trace is not None and len(trace.layers) != net.n_dense:
            trace = None
        view.set_network(net)
        ds = self.lab.session.dataset
        view.set_labels(ds.feature_names, ds.image_shape if ds.input_kind == "image" else None)
        try:
            acts = self.activations(net, trace)
            view.set_values(acts, self.highlight())
        except ValueError:
            acts = None
            view.set_values(None, self.highlight())
        view.set_outputs(self.output_notes(acts[-1] if acts else None, trace))
        view.set_maps(*self.maps(net))
        if isinstance(view, UnrolledView):     # recurrent layers: their steps and gradients
            walking = self.lab.phase if self.lab.browsed is None and self.lab.walking else None
            view.set_trace(trace, min(self.sel.row, len(trace.indices) - 1) if trace else 0,
                           walking.time if walking is not None else None)
        if self.sel.neuron is None or card is None:
            return
        layer, unit = self.sel.neuron
        sizes = [net.input_dim] + [int(np.prod(net.row_shape(l))) for l in range(net.n_dense)]
        if not (-1 <= layer < net.n_dense and 0 <= unit < sizes[layer + 1]):
            self.sel.neuron = None
            card.clear("select a neuron (arrows + enter in the network view)")
            return
        row = min(self.sel.row, len(trace.indices) - 1) if trace is not None else 0
        if layer >= 0 and net.dense[layer].kind == "dense":
            self.sel.weight %= int(net.dense[layer].params["W"].shape[0])
        card.show(net, layer, unit, trace, row, None if trace is not None else self.x_row(),
                  self.sel.weight)

    def target(self, trace: StepTrace | None) -> np.ndarray:
        """The shown sample's target: a class index, or the regression target(s)."""
        ds = self.lab.session.dataset
        if trace is not None:
            index = int(trace.indices[min(self.sel.row, len(trace.indices) - 1)])
        else:
            index = self.sel.sample % ds.n_train
        return np.asarray(ds.y_train[index]).reshape(-1)

    def output_notes(self, out: np.ndarray | None, trace: StepTrace | None) -> list[str]:
        """One note per output unit beside its cell (which shows the output itself): the
        class it stands for, the probability when the cell holds a logit, and the target —
        "y=+1", "y=0.40", "3 ◀y", "3 p=0.91 ◀y" — padded to one width."""
        if out is None:
            return []
        ds, t = self.lab.session.dataset, self.lab.trainer
        y = self.target(trace)
        a = np.asarray(out, dtype=np.float64).reshape(1, -1)
        logits = bool(t.from_logits)
        if ds.task == "regression":
            notes = [f"y={num(y[i], 3)}" if i < y.size else "" for i in range(a.shape[1])]
        elif a.shape[1] == 1:
            cls = int(y[0])
            target = ("+1" if cls else "-1") if t.pm1 else str(cls)
            p = _probabilities(a, self.lab)[0, 0]
            notes = [(f"p={num(p, 2)} " if logits else "") + f"y={target}"]
        else:
            p = _probabilities(a, self.lab)[0]
            names = [str(n) for n in (ds.class_names or [])]
            if len(names) != a.shape[1] or max(len(n) for n in names) > 6:
                names = [f"c{k}" for k in range(a.shape[1])]
            cls = int(y[0])
            notes = [names[k] + (f" p={num(p[k], 2)}" if logits else "")
                     + (" ◀y" if k == cls else "") for k in range(a.shape[1])]
        width = max(len(n) for n in notes)
        if a.shape[1] > 1 and ds.task != "regression":
            width = max(width, max(len(n) for n in notes if "◀" not in n) + 3)
        return [n.ljust(width) for n in notes]

    def maps(self, net: Network) -> tuple[list[np.ndarray | None] | None, list[float]]:
        """The per-unit maps of 2-D (plane) data, and each column's neutral value."""
        ds = self.lab.session.dataset
        if ds.input_kind != "plane" or ds.points_train is None:
            return None, []
        if self._map_features is None:
            cols, rows = MAP_GRID
            extent = plane_extent([ds.points_train, ds.points_test])
            self._map_features = ds.transform(grid_points(extent, cols, rows))
        maps = unit_maps(net, self._map_features, MAP_GRID)
        centres = [0.0] + [0.5 if d.activation in HALF_CENTRED else 0.0 for d in net.dense]
        return maps, centres

    def draw_stepper(self, panel: StepperPanel) -> None:
        lab = self.lab
        phase = lab.phase if lab.browsed is None else None
        if lab.browsed is not None and lab.browsed.trace is not None:
            from ..controller import phases_of
            phase = phases_of(lab.browsed.trace)[-1]
        t = lab.trainer
        trace_row = min(self.sel.row, len(phase.trace.indices) - 1) if phase is not None else 0
        panel.show_phase(phase, trace_row, t.loss.name, t.optimizer.name)

    def set_boundary_data(self, view: BoundaryView) -> None:
        ds = self.lab.session.dataset
        if ds.points_train is None:
            return
        k = int(ds.n_classes or 2)
        view.class_names = [str(n) for n in ds.class_names] if ds.class_names else None
        view.set_data(ds.points_train, ds.y_train, ds.points_test, ds.y_test, n_classes=k)

    def draw_boundary(self, view: BoundaryView) -> None:
        ds, net = self.lab.session.dataset, self.net()
        cols, rows = view.grid_shape()
        if not self.lab.kernels_ready():   # drawn once a first launch has compiled predict
            return
        if cols <= 0 or rows <= 0 or ds.points_train is None:
            return
        pts = grid_points(view.extent, cols, rows)
        out = _probabilities(net.predict(ds.transform(pts)).astype(np.float64), self.lab)
        signed = bool(self.lab.trainer.pm1) or ds.task == "regression"
        field = out.reshape(rows, cols, -1)
        view.set_field(field[:, :, 0] if field.shape[2] == 1 else field, signed=signed)

    def draw_autoencoder(self, view: AutoencoderView, pairs: int = 6) -> None:
        """The shown training sample and the next ones beside their reconstructions; the 2-D
        codes of the test set when a hidden layer has two units."""
        if not self.lab.kernels_ready():
            return
        ds, net = self.lab.session.dataset, self.net()
        start = self.sel.sample % ds.n_train
        idx = [(start + k) % ds.n_train for k in range(pairs)]
        x = ds.x_train[idx]
        out = net.predict(x).astype(np.float64)
        image = tuple(ds.input_shape[1:]) if ds.input_shape and len(ds.input_shape) == 3 else None
        codes = labels = None
        l = bottleneck(net)
        if l is not None and ds.n_test:
            from nnsim.kernels import reference
            ps = reference.forward(ds.x_test, net.P.astype(np.float64), net.layi, net.layf64)
            codes, labels = ps.a[l + 1], ds.labels_test
        view.set_data(x, out, image, codes, labels,
                      f"train #{start} and the next {pairs - 1}; , . move")

    def draw_sequence(self, view: SequencePlot) -> None:
        """The shown sample's input, target and prediction along the time axis."""
        if not self.lab.kernels_ready():
            return
        ds, net = self.lab.session.dataset, self.net()
        i = self.sel.sample % ds.n_train
        x = ds.x_train[i]
        steps, feats = ds.input_shape if ds.input_shape and len(ds.input_shape) == 2 else (len(x), 1)
        pred = net.predict(x[None, :])[0].astype(np.float64)
        y = np.asarray(ds.y_train[i], dtype=np.float64).reshape(-1)
        title = f"train #{i}"
        if ds.task != "regression":        # a class: said in the title, the inputs drawn
            label = int(ds.y_train[i])
            guess = int(pred.argmax()) if pred.size > 1 else int(pred[0] >= 0.5)
            title += f": label {label}, predicted {guess}"
            y = pred = np.zeros(0)
        view.set_sequence(x.reshape(steps, feats)[:, 0], y, pred[:y.size], title)

    def set_curve_data(self, view: CurveView) -> None:
        ds = self.lab.session.dataset
        if ds.points_train is not None:
            view.set_data(ds.points_train, ds.y_train, ds.points_test, ds.y_test)

    def draw_curve(self, view: CurveView) -> None:
        if not self.lab.kernels_ready():   # drawn once a first launch has compiled predict
            return
        ds, net = self.lab.session.dataset, self.net()
        xs = curve_points(view.x_range)
        ys = net.predict(ds.transform(xs))[:, 0]
        view.set_curve(xs[:, 0], ys)
