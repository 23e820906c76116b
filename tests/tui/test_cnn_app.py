"""The app on convolutional lessons: feature maps per channel, the filters, the conv and pool
cards with their numbers, the stepper through conv and pool layers, history and the gradient
check; one snapshot at 80×24."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnsim.kernels import reference
from nnsim.tui.widgets import NeuronCard, StepperPanel
from nnsim.tui.widgets._common import num
from nnsim.tui.widgets.conv_card import ConvCard, conv_card_text
from nnsim.tui.widgets.feature_maps import FeatureMapView

LESSONS = Path(__file__).resolve().parents[2] / "scenarios"
EDGES = LESSONS / "46-one-convolution-edge-detector.toml"
LENET = LESSONS / "45-convolutional-network-lenet.toml"


def _view_text(view: FeatureMapView) -> list[str]:
    return ["".join(seg.text for seg in view.render_line(y)) for y in range(view.size.height)]


def test_feature_maps_and_the_conv_card_with_its_numbers(make_app, tools) -> None:
    async def body(app, pilot):
        ws = tools.workspace(app)
        view = ws.query_one(FeatureMapView)
        assert isinstance(ws.query_one(NeuronCard), ConvCard)
        lines = _view_text(view)
        assert lines[0].startswith("in 1×6×6") and "conv 1×4×4" in lines[0]
        # the 6 × 6 image drawn in colour (each pixel two cells wide when there is room)
        assert sum(len(seg.text) for seg in view.render_line(1)
                   if seg.style is not None and seg.style.bgcolor is not None) >= 12
        # the conv column, the pixel at row 1, column 2 of the map
        view.cursor = (1, 1 * 4 + 2)
        await pilot.press("enter")
        await pilot.pause()
        card = ws.query_one(NeuronCard).text
        net = ws.lab.trainer.net
        x = ws.views.x_row()
        z = reference.forward(x[None, :].astype(np.float64), net.P.astype(np.float64), net.layi,
                              net.layf64).z[1][0]
        assert "Feature map 0, row 1, column 2 of layer 1 (conv2d)" in card
        assert "receptive field: rows 1–3, columns 2–4 of the input" in card
        for word in ("patch x", "kernel w", "products w·x", "Σ products", "z = Σ w·x + b"):
            assert word in card
        assert f"= {num(float(z[6]))}\n" in card
        await pilot.press("k")                          # the filters instead of the maps
        assert "filters 1×1×3×3" in _view_text(view)[0]

    tools.drive(make_app(EDGES), body)


def test_every_feature_map_shows_beside_the_card_at_120x36(make_app, tools) -> None:
    """Lesson 47 (6 maps of 8×8) with the neuron card below leaves the maps 16 rows: at two
    cells per pixel one conv map fits ("0–0 of 6"), in half blocks all six do, and win."""
    async def body(app, pilot):
        ws = tools.workspace(app)
        view = ws.query_one(FeatureMapView)
        lines = _view_text(view)
        assert view.size.height < 2 * 8 + 4 and "conv 6×8×8" in lines[0]
        assert not any(" of 6" in line for line in lines)
        # half-block tiles 8 cells wide and 4 rows high: the input and the six conv maps
        assert sum(line.count("▀" * 8) for line in lines) == 4 * (1 + 6)

    tools.drive(make_app(LESSONS / "47-pooling-max-and-average.toml"), body)


def test_pool_card_names_the_winner_and_the_gradient(make_app, tools) -> None:
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("n")
        view = ws.query_one(FeatureMapView)
        view.cursor = (2, 0)                            # the max pool's only output
        await pilot.press("enter")
        await pilot.pause()
        card = ws.query_one(NeuronCard).text
        assert "Max pool 0, row 0, column 0 of layer 2 (maxpool2d)" in card
        assert "won" in card and "the max gate" in card
        assert "the other 15 inputs get 0 from this output" in card

    tools.drive(make_app(EDGES), body)


def test_stepper_walks_conv_and_pool_layers(make_app, tools) -> None:
    seen: list[str] = []

    async def body(app, pilot):
        ws = tools.workspace(app)
        for _ in range(10):                             # forward 1-4, loss, backward 4-1, update
            await pilot.press("f")
            seen.append(ws.query_one(StepperPanel).text)

    tools.drive(make_app(EDGES), body)
    assert "Forward · layer 1 of 4 (conv2d, relu)" in seen[0]
    assert "each output is the sum of kernel × the window of the input under it" in seen[0]
    assert "Forward · layer 2 of 4 (maxpool2d)" in seen[1] and "winner" in seen[1]
    assert "flatten: 1×1×1 → 1 values" in seen[2]
    assert "Backward · layer 2 of 4 (maxpool2d)" in seen[7] and "the max gate" in seen[7]
    assert "Backward · layer 1 of 4 (conv2d, relu)" in seen[8] and "dL/dW[0, 0] = [" in seen[8]
    assert "no parameters (maxpool2d)" in seen[9] and "layer 1:" in seen[9]


def test_history_samples_and_gradient_check_on_a_cnn(make_app, tools) -> None:
    async def body(app, pilot):
        ws = tools.workspace(app)
        for key in ("n", "n", "left", "left", "right", "right", "comma", "period", "4", "3", "2", "1"):
            await pilot.press(key)
        assert ws.lab.trainer.step == 2
        await pilot.press("g")
        await tools.wait_for(pilot, lambda: type(app.screen).__name__ == "GradCheckDialog", 300)

    tools.drive(make_app(EDGES), body, size=(100, 40))


def test_conv_card_text_for_every_kind_of_unit() -> None:
    from nnsim.scenarios import load_scenario
    from nnsim.scenarios.build import build_session
    session = build_session(load_scenario(LENET))
    net, tr = session.network, session.trainer
    _, trace, _ = tr.step_batch(trace=True)
    x = session.dataset.x_train[0]
    assert "Input pixel: channel 0, row 2, column 3" in conv_card_text(net, -1, 2 * 8 + 3, trace).plain
    conv = conv_card_text(net, 2, 5, trace, 1).plain     # 8 input channels: three written out
    assert "channel 2" in conv and "channels 3–7: Σ products" in conv and "dL/db" in conv
    assert "padding" in conv_card_text(net, 0, 0, None, 0, x).plain   # the corner reaches into it
    assert "Unit 17 of layer 5 (flatten)" in conv_card_text(net, 4, 17, trace).plain
    assert "channel 4, row 0, column 1 of layer 4" in conv_card_text(net, 4, 17, trace).plain
    with pytest.raises(ValueError):
        conv_card_text(net, 0, 10_000, trace)


def test_snapshot_edges_lesson_80x24(snap_compare, make_app) -> None:
    assert snap_compare(make_app(EDGES), terminal_size=(80, 24), press=["n"])
