"""Widgets of nnsim.tui.widgets, each mounted in a tiny App and checked on what it renders."""

from __future__ import annotations

import asyncio
import re
from typing import Awaitable, Callable

import numpy as np
import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Static

from nnsim.engine import Dense, Network, Trainer
from nnsim.tui.widgets import (
    BoundaryView,
    CurveView,
    NetworkView,
    NeuronCard,
    PlotsPanel,
    StepperPanel,
    grid_points,
    sample_activations,
)
from nnsim.tui.widgets._common import parse_num

SIZE = (100, 30)
NUMBER = r"(−?\d+\.\d+(?:e[−+]\d+)?)"


# -- helpers -----------------------------------------------------------------------------
class Host(App):
    """One widget filling the screen; records NeuronSelected messages."""

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget
        self.selected: list[tuple[int, int]] = []

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_network_view_neuron_selected(self, message: NetworkView.NeuronSelected) -> None:
        self.selected.append((message.layer, message.unit))


def run(widget: Widget, body: Callable[[Host, object], Awaitable[None]]) -> Host:
    """Mount `widget` in a Host at SIZE and run `body(app, pilot)`."""
    app = Host(widget)

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await body(app, pilot)

    asyncio.run(main())
    return app


def rendered(widget: Widget) -> list[str]:
    """The widget's lines as drawn (through Textual's styles cache)."""
    w, h = widget.size
    return [strip.text for strip in widget.render_lines(Region(0, 0, w, h))]


def rendered_strips(widget: Widget) -> list:
    w, h = widget.size
    return widget.render_lines(Region(0, 0, w, h))


def value_after(pattern: str, text: str) -> float:
    m = re.search(pattern + NUMBER, text)
    assert m, f"{pattern!r} not found in:\n{text}"
    return parse_num(m.group(1))


@pytest.fixture(scope="module")
def walked():
    """A small XOR-like problem, one walked step (8 phases) and one traced step."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (100, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    net = Network(2, [Dense(4, "tanh"), Dense(2, "tanh"), Dense(1, "sigmoid")], seed=0)
    tr = Trainer(net, X, y, loss="binary_crossentropy", optimizer="sgd", learning_rate=0.03,
                 batch_size=10)
    phases = list(tr.walk_step())
    _, trace, _ = tr.step_batch(trace=True)
    return {"X": X, "y": y, "net": net, "trainer": tr, "phases": phases, "trace": trace}


# -- NetworkView -------------------------------------------------------------------------
def test_network_view_draws_values_and_posts_selection(walked) -> None:
    net, x = walked["net"], walked["X"][0]
    view = NetworkView()
    acts = sample_activations(net, x)

    async def body(app: Host, pilot) -> None:
        view.set_network(net)
        view.set_values(acts, ("forward", 1))
        view.focus()
        await pilot.pause()
        text = "\n".join(rendered(view))
        assert f"{x[0]:+.2f}" in text and f"{acts[-1][0]:+.2f}" in text
        assert "▶ L2 tanh" in text                      # the stepper's current layer
        assert "─" in text                              # links
        await pilot.press("right", "down", "enter")
        await pilot.pause()

    app = run(view, body)
    assert app.selected == [(0, 1)]


def test_network_view_click_selects(walked) -> None:
    net = walked["net"]
    view = NetworkView()

    async def body(app: Host, pilot) -> None:
        view.set_network(net)
        await pilot.pause()
        out = view.layout_columns()[-1]                  # the output column
        await pilot.click(NetworkView, offset=(out.x + 1, out.ys[0]))
        await pilot.pause()

    app = run(view, body)
    assert app.selected == [(2, 0)]


def test_network_view_link_colours_follow_weight_sign(walked) -> None:
    net = walked["net"]
    view = NetworkView()

    async def body(app: Host, pilot) -> None:
        view.set_network(net)
        await pilot.pause()
        colours = set()
        for strip in rendered_strips(view):
            for seg in strip:
                if seg.text.strip("─╲╱") == "" and seg.text.strip() and seg.style.color:
                    r, g, b = seg.style.color.get_truecolor()
                    colours.add("blue" if b > r else "orange")
        assert colours == {"blue", "orange"}

    run(view, body)


def test_network_view_collapses_wide_layers_to_statistics() -> None:
    net = Network(64, [Dense(128, "relu"), Dense(10, "softmax")], seed=1)
    x = np.random.default_rng(1).uniform(0, 1, 64)
    acts = sample_activations(net, x)
    view = NetworkView()

    async def body(app: Host, pilot) -> None:
        view.set_network(net)
        view.set_values(acts)
        await pilot.pause()
        text = "\n".join(rendered(view))
        assert "64 units" in text and "128 units" in text
        for a in acts[:2]:
            assert f"min {a.min():.2f}" in text
            assert f"mean {a.mean():.2f}" in text
            assert f"max {a.max():.2f}" in text
        cols = view.layout_columns()
        assert [c.collapsed for c in cols] == [True, True, False]

    run(view, body)


def test_network_view_keeps_its_drawing_when_nothing_changed() -> None:
    net = Network(2, [Dense(3, "relu"), Dense(1, "linear")], seed=4)
    acts = sample_activations(net, np.array([0.3, -0.2]))
    view = NetworkView()
    view.set_network(net)
    view.set_values(acts)
    first = view._build(60, 12)
    view._strips, view._built_for = first, None
    view.set_network(net)                                # same weights
    view.set_values([a.copy() for a in acts])            # same values
    assert view._strips is first
    net.dense[0].params["W"][0, 0] += 1.0
    view.set_network(net)                                # weights changed: redraw
    assert view._strips is None


def test_network_view_rejects_mismatched_activations(walked) -> None:
    view = NetworkView()
    view.set_network(walked["net"])
    with pytest.raises(ValueError, match="sizes"):
        view.set_values([np.zeros(2), np.zeros(3)])


# -- NeuronCard --------------------------------------------------------------------------
def last_value(start: str, text: str) -> float:
    """The number after the last "=" (or "≈") of the first line starting with `start`."""
    line = next(l.strip() for l in text.splitlines() if l.strip().startswith(start))
    return parse_num(re.split(r" [=≈] ", line.split("   (")[0])[-1].split()[0])


def test_neuron_card_writes_out_z_and_gradients_from_trace(walked) -> None:
    trace, net = walked["trace"], walked["net"]
    layer, unit, row = 1, 1, 3
    lt = trace.layers[layer]
    B = len(trace.indices)
    z = float(lt.a_in[row].astype(np.float64) @ lt.W[:, unit] + lt.b[unit])
    a = np.tanh(z)
    per_sample = float(lt.dA[row, unit]) * B * (1 - a * a)      # dℓ/dz of this sample
    card = NeuronCard()

    async def body(app: Host, pilot) -> None:
        card.show(net, layer, unit, trace, sample_row=row)
        await pilot.pause()
        shown = "\n".join(rendered(card.query_one(Static)))
        assert "z = Σ xᵢwᵢ + b = " in shown
        assert "a = tanh(z)" in shown

    run(card, body)
    text = card.text
    assert last_value("z = Σ", text) == pytest.approx(z, abs=1e-4)
    assert last_value("dℓ/dz = dℓ/da × f′(z) = ", text) == pytest.approx(per_sample, rel=1e-3)
    assert last_value("dL/dz = dℓ/dz ÷ B = ", text) == pytest.approx(per_sample / B, rel=1e-3)
    assert last_value("dL/db = Σ dL/dz over the batch = ", text) == pytest.approx(
        float(lt.db[unit]), abs=1e-5)
    assert last_value("dL/dw₀ = Σ over the", text) == pytest.approx(float(lt.dW[0, unit]), rel=1e-3)
    new_w = float(lt.W[0, unit]) + float(lt.update_W[0, unit])  # the update actually applied
    assert last_value("w₀ → w₀ + Δw₀", text) == pytest.approx(new_w, abs=1e-4)


def test_neuron_card_forward_pass_without_trace_and_long_sums() -> None:
    net = Network(64, [Dense(8, "relu"), Dense(3, "softmax")], seed=2)
    x = np.random.default_rng(2).uniform(0, 1, 64)
    W, b = net.dense[0].params["W"].astype(np.float64), net.dense[0].params["b"]
    z = float(x @ W[:, 5] + b[5])
    card = NeuronCard()

    async def body(app: Host, pilot) -> None:
        card.show(net, 0, 5, x_row=x)
        await pilot.pause()

    run(card, body)
    text = card.text
    assert "… (64 products)" in text
    assert last_value("z = Σ", text) == pytest.approx(z, abs=1e-4)
    relu = next(l for l in text.splitlines() if l.startswith("a = relu(z) = relu("))
    assert parse_num(relu.split("relu(")[2].split(")")[0]) == pytest.approx(z, abs=1e-4)
    assert last_value("a = relu(z)", text) == pytest.approx(max(z, 0.0), abs=1e-4)
    assert "run a traced step" in text
    card.show(net, -1, 7, x_row=x)
    assert last_value("x7 = ", card.text) == pytest.approx(x[7], abs=1e-4)


# -- BoundaryView ------------------------------------------------------------------------
def test_boundary_view_half_blocks_with_two_colours_and_points() -> None:
    view = BoundaryView()
    pts = np.array([[-0.5, 0.5], [0.5, -0.5]])

    async def body(app: Host, pilot) -> None:
        view.set_data(pts, np.array([0, 1]), np.array([[0.5, 0.5]]), np.array([1]), 2,
                      extent=(-1, 1, -1, 1))
        cols, rows = view.grid_shape()
        assert (cols, rows) == (SIZE[0], (SIZE[1] - 1) * 2)    # the last row: the legend
        g = grid_points(view.extent, cols, rows)
        view.set_field((g[:, 0] > 0).astype(float).reshape(rows, cols))   # left 0, right 1
        await pilot.pause()
        strips = rendered_strips(view)
        fgs = {seg.style.color.get_truecolor() for s in strips for seg in s if "▀" in seg.text}
        assert len(fgs) == 2
        left, right = sorted(fgs, key=lambda c: c[2])    # orange has less blue
        assert left[0] > left[2] and right[2] > right[0]
        text = "\n".join(s.text for s in strips[:-1])
        assert text.count("●") == 2 and text.count("○") == 1
        assert "● train ○ test" in strips[-1].text and "■ class 0" in strips[-1].text
        view.show_test = False
        await pilot.pause()
        assert "○" not in "\n".join(rendered(view))

    run(view, body)


def test_boundary_view_signed_and_multiclass_fields() -> None:
    view = BoundaryView()
    view.set_data(np.zeros((1, 2)), np.array([-1]), n_classes=2, extent=(-1, 1, -1, 1))
    view.set_field(np.array([[-1.0, 1.0]]))              # ±1 values (labels are ±1)
    rgb = view.field_rgb(2, 1)
    assert rgb[0, 0, 0] > rgb[0, 0, 2] and rgb[0, 1, 2] > rgb[0, 1, 0]
    probs = np.zeros((2, 3, 3))
    probs[..., 2] = 0.6
    probs[..., 0] = 0.4
    view.set_field(probs)
    blended = view.field_rgb(3, 2)
    view.discretize = True
    hard = view.field_rgb(3, 2)
    assert not np.array_equal(blended, hard)
    assert np.all(hard == hard[0, 0])                    # one class everywhere
    with pytest.raises(ValueError):
        view.set_field(np.zeros(5))


def test_grid_points_row_major_from_the_top() -> None:
    g = grid_points((0, 4, 0, 2), 4, 2)
    assert g.shape == (8, 2)
    assert g[0].tolist() == [0.5, 1.5] and g[-1].tolist() == [3.5, 0.5]


def test_curve_view_plots_points_and_curve() -> None:
    view = CurveView()

    async def body(app: Host, pilot) -> None:
        x = np.linspace(-1, 1, 30)
        view.set_data(x, x ** 2)
        view.set_curve(x, 0.9 * x ** 2)
        await pilot.pause()
        text = "\n".join(rendered(view))
        assert "train" in text and "network" in text
        builds = view.build_count
        view.set_curve(x, 0.9 * x ** 2)                  # the same curve again
        view.refresh()
        await pilot.pause()
        rendered(view)
        assert view.build_count == builds                # nothing changed: no rebuild

    run(view, body)


# -- PlotsPanel --------------------------------------------------------------------------
def test_plots_panel_redraws_only_when_data_change(walked) -> None:
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (60, 2))
    y = (X[:, 0] > 0).astype(int)
    net = Network(2, [Dense(3, "tanh"), Dense(1, "sigmoid")], seed=0)
    tr = Trainer(net, X, y, X[:20], y[:20], loss="binary_crossentropy", learning_rate=0.1,
                 batch_size=10)
    panel = PlotsPanel()

    async def body(app: Host, pilot) -> None:
        tr.step_batch()
        panel.update_history(tr.history, net.get_weights())
        await pilot.pause()
        assert "mini-batch" in "\n".join(rendered(panel.chart))
        for _ in range(3):
            tr.step_epoch()
        panel.update_history(tr.history, net.get_weights())
        await pilot.pause()
        text = "\n".join(rendered(panel.chart))
        assert "loss per epoch" in text and "train" in text and "test" in text
        builds = panel.chart.build_count
        panel.update_history(tr.history, net.get_weights())   # same data
        await pilot.pause()
        rendered(panel.chart)
        assert panel.chart.build_count == builds
        tr.step_epoch()
        panel.update_history(tr.history)
        await pilot.pause()
        rendered(panel.chart)
        assert panel.chart.build_count == builds + 1
        for view, expect in (("metric", "accuracy"), ("grads", "log scale"),
                             ("lr", "learning rate"), ("weights", "layer 2 W")):
            panel.set_view(view)
            await pilot.pause()
            assert expect in "\n".join(rendered(panel.chart)), view

    run(panel, body)


# -- StepperPanel ------------------------------------------------------------------------
def test_stepper_backward_phase_shows_dl_dz(walked) -> None:
    phases = walked["phases"]
    assert [p.kind for p in phases] == ["forward"] * 3 + ["loss"] + ["backward"] * 3 + ["update"]
    back = phases[5]                                     # backward through layer 2 (tanh)
    lt = back.trace.layers[back.layer]
    row = 2
    B = len(back.trace.indices)
    per_sample = float(lt.dA[row, 0]) * B * (1 - float(lt.a[row, 0]) ** 2)
    panel = StepperPanel()

    async def body(app: Host, pilot) -> None:
        panel.show_phase(back, sample_row=row, loss_name="binary_crossentropy")
        await pilot.pause()
        shown = "\n".join(rendered(panel.query_one(Static)))
        assert "forward 1 › forward 2 › forward 3 › loss › backward 3 › backward 2" in shown

    run(panel, body)
    assert last_value("unit 0:", panel.text) == pytest.approx(per_sample, rel=1e-3)
    share = next(l for l in panel.text.splitlines()
                 if l.strip().startswith("unit 0:"))
    after = panel.text.splitlines()[panel.text.splitlines().index(share) + 1]
    assert last_value("dL/dz = dℓ/dz ÷ B", after) == pytest.approx(float(lt.dZ[row, 0]), rel=1e-3)
    assert "dL/dW = aᵀ·dL/dz" in panel.text and "dL/db" in panel.text


def test_stepper_forward_loss_and_update_phases(walked) -> None:
    phases = walked["phases"]
    tr = phases[0].trace
    panel = StepperPanel()
    panel.show_phase(phases[0], sample_row=1)
    lt = tr.layers[0]
    z0 = float(lt.a_in[1].astype(np.float64) @ lt.W[:, 0] + lt.b[0])
    assert last_value("z₀ = ", panel.text) == pytest.approx(z0, abs=1e-4)
    panel.show_phase(phases[3], sample_row=1, loss_name="binary_crossentropy")
    assert last_value("L = ", panel.text) == pytest.approx(tr.loss, abs=1e-4)
    assert "p = [" in panel.text and "reduction: mean" in panel.text
    panel.show_phase(phases[-1], optimizer_name="sgd")
    w, g = float(lt.W[0, 0]), float(lt.dW[0, 0])
    assert last_value("W[0,0] → ", panel.text) == pytest.approx(w - tr.learning_rate * g, abs=1e-4)
    assert "Update · sgd" in panel.text and "Δw = −η·g" in panel.text
    panel.show_phase(None)
    assert "no step" in panel.text
