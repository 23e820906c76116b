"""The views explain themselves (issue #10): the network view's names, notes, legend, unit maps,
dropout marks and wide layers; plot axes in the one number format; points visible on their
own region's colour."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget

from nnsim.engine import Dense, History, Network
from nnsim.engine.history import EpochRecord
from nnsim.scenarios import load_scenario
from nnsim.tui.controller import Lab
from nnsim.tui.screens.views import Display, plane_extent, unit_maps
from nnsim.tui.session import build_session
from nnsim.tui.widgets import BoundaryView, NetworkView, PlotsPanel, grid_points
from nnsim.tui.widgets._common import PALETTE
from nnsim.tui.widgets.boundary import FIELD_MID, FIELD_STRENGTH
from nnsim.tui.widgets.plots import layer_colours

LESSONS = Path(__file__).resolve().parents[2] / "scenarios"
SIZE = (100, 30)


class Host(App):
    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def run(widget: Widget, body, size=SIZE) -> None:
    app = Host(widget)

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await body(pilot)

    asyncio.run(main())


def lines(widget: Widget) -> list[str]:
    w, h = widget.size
    return [strip.text for strip in widget.render_lines(Region(0, 0, w, h))]


def lab_of(number: str, tmp_path: Path) -> Lab:
    return Lab(build_session(load_scenario(next(LESSONS.glob(f"{number}-*.toml")))), tmp_path)


# -- the network view --------------------------------------------------------------------------
def test_network_view_names_inputs_notes_outputs_and_has_a_legend(tmp_path) -> None:
    lab = lab_of("06", tmp_path)
    display, view = Display(lab), NetworkView()

    async def body(pilot) -> None:
        display.draw_network(view, None)
        await pilot.pause()
        text = "\n".join(lines(view))
        first = view.layout_columns()[0]
        for name, y in zip(["x1", "x2"], first.ys):
            assert name in lines(view)[y][: first.x]             # left of the input cells
        target = int(lab.session.dataset.y_train[display.sel.sample])
        assert f"y={'+1' if target else '-1'}" in text          # the output's target
        legend = lines(view)[-1]
        assert "w>0" in legend and "w<0" in legend and "a<0" in legend and "a>0" in legend

    run(view, body)


def test_each_unit_gets_a_map_of_the_input_plane(tmp_path) -> None:
    lab = lab_of("06", tmp_path)
    display, view = Display(lab), NetworkView()
    maps, centres = display.maps(lab.trainer.net)
    assert [m.shape[0] for m in maps] == [2, 4, 2, 1] and centres == [0, 0, 0, 0]
    ds = lab.session.dataset
    x1 = maps[0][0]
    assert x1[:, -1].mean() > x1[:, 0].mean()                   # x1 grows to the right
    assert maps[0][1][0].mean() > maps[0][1][-1].mean()         # x2 grows upwards
    # a hidden unit's map is that unit's output over the plane (checked at one grid point)
    pts = grid_points(plane_extent([ds.points_train, ds.points_test]), 16, 12)
    a1 = np.tanh(ds.transform(pts[:1]) @ lab.trainer.net.dense[0].params["W"]
                 + lab.trainer.net.dense[0].params["b"])
    assert np.allclose(unit_maps(lab.trainer.net, ds.transform(pts), (16, 12))[1][:, 0, 0], a1[0],
                       atol=1e-5)

    async def body(pilot) -> None:
        display.draw_network(view, None)
        await pilot.pause()
        cols = view.layout_columns()
        assert all(c.map_rows >= 1 for c in cols)
        hidden = cols[1]
        below = lines(view)[hidden.ys[0] + 1][hidden.x: hidden.x + hidden.w]
        assert below == "▀" * hidden.w                          # the map under the first unit

    run(view, body, size=(100, 40))


def test_dropout_layers_and_wide_layers_explain_themselves(tmp_path) -> None:
    lab = lab_of("29", tmp_path)
    display, view = Display(lab), NetworkView()

    async def body(pilot) -> None:
        display.draw_network(view, None)
        view.cursor = (1, 37)                                   # a unit of the 128-wide layer
        view._invalidate()
        await pilot.pause()
        text = "\n".join(lines(view))
        assert "L1 relu (128)" in text and "per row" in text   # how many units a row hides
        assert "▸ #37" in text                                  # which one the cursor is on
        assert "┊" in text and "drop 0.2" in text and "dropout" in lines(view)[-1]
        assert "input (64)" in text and "8×8 px" in text       # the image, as an image
        target = int(lab.session.dataset.y_train[display.sel.sample])
        assert f"{target} p=" in text and "◀y" in text         # digits, probabilities, target

    run(view, body, size=(100, 40))


# -- plots ----------------------------------------------------------------------------------------
def _record(epoch: int, loss: float, grads: list[float]) -> EpochRecord:
    return EpochRecord(epoch=epoch, train_loss=loss, test_loss=loss * 1.1, train_metric=0.5,
                       test_metric=0.5, metric="accuracy", penalty=0.0, learning_rate=0.03,
                       grad_norms=grads, weight_norms=[1.0] * len(grads), seconds=0.0, batches=1)


def _chart(panel: PlotsPanel) -> str:
    return "\n".join(lines(panel.chart))


def test_plot_axes_read_as_numbers() -> None:
    nine = [10.0 ** -k for k in range(9)]
    history = History(epochs=[_record(1, 0.9, [0.0] + nine[1:]),
                              _record(2, 6148732928074425472098771140608.0, [0.0] + nine[1:])])
    panel = PlotsPanel()

    async def body(pilot) -> None:
        panel.update_history(history)
        await pilot.pause()
        text = _chart(panel)
        assert "log scale" in text and "6148732928074425472098771140608" not in text
        assert re.search(r"1e\d\d", text)                      # powers of ten, not 31 digits
        xlabels = text.splitlines()[-3:]
        assert "1.25" not in "\n".join(xlabels) and "1.5" not in "\n".join(xlabels)
        panel.set_view("grads")
        await pilot.pause()
        text = _chart(panel)
        assert "1e-12" not in text                              # a zero gradient is not 1e-12
        assert re.search(r"^\s*0┤", text, re.M)                 # … it has its own row, "0"
        assert "1e-8" in text or "1e-6" in text
        for i in range(1, 10):
            assert f"layer {i}" in text

    run(panel, body)


def test_a_colour_per_layer_and_integer_histogram_counts() -> None:
    assert len(set(layer_colours(9))) == 9 and len(set(layer_colours(20))) == 20
    net = Network(2, [Dense(16, "tanh"), Dense(1, "sigmoid")], seed=0)
    panel = PlotsPanel("weights")

    async def body(pilot) -> None:
        panel.update_history(History(), net.get_weights())
        await pilot.pause()
        labels = [l for line in lines(panel.chart) for l in re.findall(r"([-0-9.e]+)┤", line)]
        assert labels and all(re.fullmatch(r"\d+", l) for l in labels), labels

    run(panel, body)


# -- boundary --------------------------------------------------------------------------------
def _luminance(rgb: tuple[int, int, int]) -> float:
    def ch(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * ch(rgb[0]) + 0.7152 * ch(rgb[1]) + 0.0722 * ch(rgb[2])


@pytest.mark.parametrize("k", range(len(PALETTE)))
def test_multiclass_points_stand_out_on_their_own_region(k) -> None:
    view = BoundaryView()
    view.set_data(np.zeros((1, 2)), np.array([k]), n_classes=len(PALETTE))
    point = view._point_colour(np.array([float(k)]))
    region = tuple(round(FIELD_MID[i] + (PALETTE[k][i] - FIELD_MID[i]) * FIELD_STRENGTH)
                   for i in range(3))
    hi, lo = sorted([_luminance(point), _luminance(region)], reverse=True)
    assert (hi + 0.05) / (lo + 0.05) >= 3.0
