"""The app on recurrent lessons: the unrolled view (input, hidden states, LSTM cell and gates,
gradient norms through time), the recurrent card at the step cursor with its numbers, the
stepper through time, the sequence and autoencoder panels; one snapshot at 80×24."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nnsim.tui.widgets import NeuronCard, StepperPanel
from nnsim.tui.widgets._common import num
from nnsim.tui.widgets.autoencoder import AutoencoderView
from nnsim.tui.widgets.recurrent_card import RecurrentCard, recurrent_card_text
from nnsim.tui.widgets.sequence_plot import SequencePlot
from nnsim.tui.widgets.unrolled import UnrolledView

LESSONS = Path(__file__).resolve().parents[2] / "scenarios"
SINE = LESSONS / "50-rnn-sine-wave.toml"
LSTM = LESSONS / "54-lstm-first-symbol.toml"
AUTO = LESSONS / "56-autoencoder-digits.toml"


def _lines(widget) -> list[str]:  # type: ignore[no-untyped-def]
    return ["".join(seg.text for seg in widget.render_line(y)) for y in range(widget.size.height)]


def test_unrolled_view_and_the_card_at_the_step_cursor(make_app, tools) -> None:
    async def body(app, pilot):
        ws = tools.workspace(app)
        view = ws.query_one(UnrolledView)
        assert isinstance(ws.query_one(NeuronCard), RecurrentCard)
        lines = _lines(view)
        assert lines[0].startswith("x 20×1 → rnn 8 → dense 1")
        assert lines[1].startswith("t") and "▼" in lines[1]          # the step cursor
        assert any(l.startswith("h 0") for l in lines)                 # the hidden-state heat map
        await pilot.press("n")                                         # a traced step
        await pilot.press("shift+left", "enter")                       # the recurrent layer
        await pilot.pause()
        assert any(l.startswith("‖dh‖") for l in _lines(view))        # gradients through time
        assert view.shown_step() == 19
        for _ in range(3):
            await pilot.press("pageup")
        await pilot.pause()
        assert view.shown_step() == 16
        card = ws.query_one(NeuronCard).text
        assert "SimpleRNN (tanh) unit 0 of layer 1 at time step t = 16" in card
        rec = ws.views.trace().layers[0].recurrent
        r = min(ws.views.sel.row, rec.h.shape[0] - 1)
        for part in ("input part", "recurrent part", "bias"):
            assert part in card
        assert f"= {num(float(rec.uh[r, 16, 0]))}" in card            # U·h's total
        assert f"h = tanh({num(float(rec.z[r, 16, 0]))}) = {num(float(rec.h[r, 16, 0]))}" in card
        await pilot.press("home")
        assert view.shown_step() == 0
        assert "U·h = 0 (h₋₁ = 0)" in ws.query_one(NeuronCard).text

    tools.drive(make_app(SINE), body)


def test_stepper_walks_forward_and_backward_through_time(make_app, tools) -> None:
    seen: list[str] = []

    async def body(app, pilot):
        ws = tools.workspace(app)
        for _ in range(20 + 1 + 1 + 1 + 20 + 1):    # 20 steps, dense, loss, dense, 20 back, update
            await pilot.press("f")
            seen.append(ws.query_one(StepperPanel).text)
        view = ws.query_one(UnrolledView)
        assert view.shown_step() == 0

    tools.drive(make_app(SINE), body)
    assert "Forward · layer 1 of 2 (SimpleRNN tanh, 8 units) · step t = 0" in seen[0]
    assert "h₋₁ = 0 (the state starts empty)" in seen[0]
    assert "step t = 19 of 0…19" in seen[19] and "the last step's h goes on" in seen[19]
    assert "forward 1 t=5" in seen[5]
    back = seen[23]
    assert "Backward through time · layer 1 of 2" in back and "step t = 19" in back
    assert "this step's contribution" in back
    last = seen[42]
    assert "step t = 0" in last and "complete: ‖dL/dW‖" in last
    assert "‖dL/dh‖ over the batch, steps 19 → 0" in last
    assert "update" in seen[43].splitlines()[0]


def test_lstm_rows_and_card_show_gates_and_the_cell_update(make_app, tools) -> None:
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("n")
        await pilot.press("shift+left", "enter", "pageup")
        await pilot.pause()
        view = ws.query_one(UnrolledView)
        lines = _lines(view)
        assert lines[0].startswith("x 50×8 → lstm 32 → dense 8")
        assert any(l.startswith("c0") for l in lines) and any(l.startswith("f0") for l in lines)
        card = ws.query_one(NeuronCard).text
        assert "LSTM unit 0 of layer 1 at time step t = 48" in card
        rec = ws.views.trace().layers[0].recurrent
        r = min(ws.views.sel.row, rec.h.shape[0] - 1)
        H = rec.units
        i, f, g = (float(rec.gate[r, 48, q * H]) for q in range(3))
        c_prev, c = float(rec.c[r, 47, 0]), float(rec.c[r, 48, 0])
        for gate in ("i (input gate)", "f (forget gate)", "g (candidate)", "o (output gate)"):
            assert gate in card
        assert f"c = f·cₜ₋₁ + i·g = {num(f)}×" in card and f"= {num(c)}" in card
        assert abs(f * c_prev + i * g - c) < 1e-5
        assert "dL/dc" in card

    tools.drive(make_app(LSTM), body)


def test_recurrent_card_text_without_a_trace() -> None:
    from nnsim.scenarios import load_scenario
    from nnsim.scenarios.build import build_session
    session = build_session(load_scenario(SINE))
    x = session.dataset.x_train[3]
    text = recurrent_card_text(session.network, 0, 2, 5, None, 0, x).plain
    assert "unit 2 of layer 1 at time step t = 5" in text and "the selected sample, now" in text
    assert "step a batch (n) or walk one (f)" in text


def test_sequence_panel_draws_input_target_and_prediction(make_app, tools) -> None:
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("3")
        await pilot.pause()
        plot = ws.query_one(SequencePlot)
        text = "\n".join(_lines(plot))
        assert "train #0" in text and "● prediction" in text
        assert text.count("·") >= 20                          # the 20 input values

    tools.drive(make_app(SINE), body)


def test_autoencoder_panel_shows_pairs_and_codes(make_app, tools) -> None:
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("e")
        await pilot.pause()
        view = ws.query_one(AutoencoderView)
        text = "\n".join(_lines(view))
        assert "input | rebuilt" in text and "2-D codes (test set)" in text
        assert "0 1 2 3 4 5 6 7 8 9" in text                   # the label legend
        assert text.count("•") > 100                           # one dot per test digit, mostly
        assert np.isfinite(ws.lab.trainer.history.epochs[-1].test_loss)

    tools.drive(make_app(AUTO), body, size=(100, 32))


def test_snapshot_rnn_lesson_80x24(snap_compare, make_app) -> None:
    assert snap_compare(make_app(SINE), terminal_size=(80, 24), press=["n", "shift+left", "enter"])
