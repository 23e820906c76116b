"""Pilot tests: every workspace control, driven by key presses on the demo scenario."""

from __future__ import annotations

import numpy as np
from textual.geometry import Region

from nnsim.engine.checkpoint import load_checkpoint
from nnsim.scenarios import load_scenario
from nnsim.tui.keys import KEYS
from nnsim.tui.screens import GradCheckDialog, HelpScreen, WorkspaceScreen
from nnsim.tui.screens.help import CONTEXTS, help_row
from nnsim.tui.session import build_session
from nnsim.tui.widgets import NeuronCard, StepperPanel


def test_n_three_times_shows_batch_3(make_app, files, tools):
    async def body(app, pilot):
        for _ in range(3):
            await pilot.press("n")
        await pilot.pause()
        assert "batch 3/25" in tools.status(app)
        assert tools.workspace(app).lab.trainer.step == 3

    tools.drive(make_app(files["demo"]), body)


def test_space_starts_and_stops_training(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("space")
        assert ws.playing
        await tools.wait_for(pilot, lambda: ws.lab.trainer.step > 50)
        assert "playing" in tools.status(app)
        await pilot.press("space")
        assert not ws.playing
        await pilot.pause(0.1)
        step = ws.lab.trainer.step
        await pilot.pause(0.2)
        assert ws.lab.trainer.step == step
        assert "paused" in tools.status(app)

    tools.drive(make_app(files["demo"]), body)


def test_play_posts_progress_messages(make_app, files, tools):
    seen = []

    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("space")
        await tools.wait_for(pilot, lambda: any(isinstance(m, WorkspaceScreen.Progress) for m in seen))
        await pilot.press("space")
        assert ws.frame.step > 0

    app = make_app(files["demo"])

    async def main():
        async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
            await pilot.pause()
            await body(app, pilot)

    import asyncio
    asyncio.run(main())


def test_e_trains_to_the_end_of_the_epoch(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("n", "e")
        await tools.wait_for(pilot, lambda: not ws.playing and ws.lab.trainer.epoch == 1)
        t = ws.lab.trainer
        assert t.batch == 0 and t.step == 25 and len(t.history.epochs) == 1
        await pilot.pause(0.05)
        assert "epoch 2" in tools.status(app) and "batch 0/25" in tools.status(app)

    tools.drive(make_app(files["demo"]), body)


def test_f_and_b_walk_phases(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        lab = ws.lab
        await pilot.press("f")
        assert lab.phase.label == "forward layer 1" and lab.walking
        await pilot.pause()
        assert ws.query_one("#tabs").active == "tab-stepper"
        await pilot.press("f", "f")
        assert lab.phase.label == "forward layer 3"
        await pilot.press("b")
        assert lab.phase.label == "forward layer 2"
        assert lab.trainer.step == 0          # nothing applied yet
        for _ in range(6):                    # forward 3, loss, backward 3..1, update
            await pilot.press("f")
        assert lab.phase.kind == "update" and lab.trainer.step == 1 and not lab.walking
        assert "update" in ws.query_one(StepperPanel).text
        await pilot.press("f")                # a new step begins
        assert lab.phase.label == "forward layer 1" and lab.walking

    tools.drive(make_app(files["demo"]), body)


def test_r_resets_and_R_draws_a_new_seed(make_app, files, tools):
    async def body(app, pilot):
        lab = tools.workspace(app).lab
        w0 = lab.trainer.net.P.copy()
        await pilot.press("n", "n", "n")
        assert not np.array_equal(lab.trainer.net.P, w0)
        await pilot.press("r")
        assert lab.trainer.step == 0 and np.array_equal(lab.trainer.net.P, w0)
        assert len(lab.timeline) == 0
        await pilot.press("R")
        assert lab.trainer.step == 0 and not np.array_equal(lab.trainer.net.P, w0)
        assert "seed" in tools.notice(app)

    tools.drive(make_app(files["demo"]), body)


def test_brackets_change_the_learning_rate_live(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        lab = ws.lab
        await pilot.press("n", "n")
        await pilot.press("right_square_bracket")
        assert lab.trainer.learning_rate == 0.1 and lab.trainer.step == 2
        assert ws.query_one("#tr-learning_rate").value == "0.1"
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert lab.trainer.learning_rate == 0.01
        assert lab.scenario.training.learning_rate == 0.01
        await pilot.pause()
        assert "lr 0.01" in tools.status(app)

    tools.drive(make_app(files["demo"]), body)


def test_plus_minus_change_the_speed(make_app, files, tools):
    async def body(app, pilot):
        lab = tools.workspace(app).lab
        assert lab.speed == 300                # the demo's 200 epochs x 25 batches in ~20 s
        await pilot.press("minus", "minus")
        assert lab.speed == 30
        await pilot.press("plus")
        assert lab.speed == 100
        await pilot.pause()
        assert "speed 100/s" in tools.status(app)
        for _ in range(5):
            await pilot.press("minus")
        assert lab.speed == 1
        await pilot.press("space")            # 1 batch/s: traced steps, slow
        await pilot.pause(0.3)
        await pilot.press("space")
        assert 1 <= lab.trainer.step <= 2 and lab.last_trace is not None

    tools.drive(make_app(files["demo"]), body)


def test_arrows_move_through_history(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        lab = ws.lab
        for _ in range(5):
            await pilot.press("n")
        live = lab.trainer.net.P.copy()
        await pilot.press("left", "left")
        snap = lab.browsed
        assert snap is not None and snap.step == 3
        assert "history: step 3" in tools.status(app)
        assert "change since step 2" in tools.notice(app)
        shown = ws.views.net()
        assert not np.allclose(shown.P, live) and np.allclose(shown.P, snap.P)
        assert np.array_equal(lab.trainer.net.P, live)   # browsing changes nothing
        await pilot.press("right", "right")
        assert lab.browsed is None and "live" in tools.notice(app)

    tools.drive(make_app(files["demo"]), body)


def test_s_saves_scenario_and_checkpoint(make_app, files, tools, tmp_path):
    async def body(app, pilot):
        lab = tools.workspace(app).lab
        await pilot.press("n", "n", "right_square_bracket", "s")
        await tools.wait_for(pilot, lambda: "saved demo.toml" in tools.notice(app))  # a thread
        toml_path, ckpt = tmp_path / "demo.toml", tmp_path / "demo.ckpt.npz"
        assert toml_path.exists() and ckpt.exists()
        assert not list(tmp_path.glob(".*.tmp")) and not list(tmp_path.glob("*.tmp"))
        saved = load_scenario(toml_path)
        assert saved.training.learning_rate == 0.1
        fresh = build_session(saved).trainer
        assert load_checkpoint(fresh, ckpt)
        assert fresh.step == 2 and np.array_equal(fresh.net.P, lab.trainer.net.P)
        assert "saved demo.toml" in tools.notice(app)

    tools.drive(make_app(files["demo"]), body)


def test_g_shows_the_gradient_check(make_app, files, tools):
    async def body(app, pilot):
        await pilot.press("n", "g")
        await tools.wait_for(pilot, lambda: isinstance(app.screen, GradCheckDialog), timeout=60)
        dialog = app.screen
        names = [name for name, _ in dialog.rows]   # dense layers counted from 1, as the app does
        assert names == ["layer1.W", "layer1.b", "layer2.W", "layer2.b", "layer3.W", "layer3.b"]
        assert all(err < 1e-4 for _, err in dialog.rows)
        assert dialog.report.h == 1e-5
        await pilot.press("escape")
        assert isinstance(app.screen, WorkspaceScreen)

    tools.drive(make_app(files["demo"]), body)


def test_w_selects_the_weight_g_wiggles_and_h_is_settable(make_app, files, tools):
    """The card's selected weight (▸, moved with w) is the one the gradient check wiggles; a new
    h typed in the dialog recomputes L(w ± h) with it."""
    async def body(app, pilot):
        ws = tools.workspace(app)
        layer, unit = ws.views.sel.neuron                 # the output neuron, selected on opening
        await pilot.press("n", "w")
        assert ws.views.selected_weight() == (layer, 1, unit)
        assert "▸1" in ws.query_one(NeuronCard).text
        await pilot.press("g")
        await tools.wait_for(pilot, lambda: isinstance(app.screen, GradCheckDialog), timeout=60)
        dialog = app.screen
        probe = next(p for p in dialog.report.probes if p.tensor == f"layer{layer + 1}.W")
        assert (probe.index, probe.chosen) == ((1, unit), "selected")
        assert probe.w == float(ws.lab.trainer.net.dense[layer].params["W"][1, unit])
        field = dialog.query_one("#gradcheck-h")
        field.value = "0.01"
        await pilot.press("enter")
        await tools.wait_for(pilot, lambda: dialog.report.h == 0.01, timeout=60)
        again = next(p for p in dialog.report.probes if p.tensor == f"layer{layer + 1}.W")
        assert again.h == 0.01 and again.index == (1, unit)
        # the forward difference's error grows with h, the central one's much less
        assert again.forward_rel_error > again.rel_error
        await pilot.press("escape")
        assert isinstance(app.screen, WorkspaceScreen)

    tools.drive(make_app(files["demo"]), body)


def test_question_mark_opens_help(make_app, files, tools):
    async def body(app, pilot):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#help-keys")
        lines = table.render_lines(Region(0, 0, table.size.width, table.size.height))
        shown = " ".join(" ".join(strip.text for strip in lines).split())   # wrapped rows joined
        for key in KEYS:   # every key of the workspace, drawn as a row: keys, (where:) what
            if key.where not in CONTEXTS["workspace"]:
                continue
            row = " ".join(" ".join(help_row(key, "workspace")).split())
            assert row in shown, row
        await pilot.press("escape")
        assert isinstance(app.screen, WorkspaceScreen)

    tools.drive(make_app(files["demo"]), body)


def test_q_quits_while_playing(make_app, files, tools):
    async def body(app, pilot):
        await pilot.press("space")
        await pilot.pause(0.1)
        await pilot.press("q")
        await pilot.pause()
        assert app._exit

    app = tools.drive(make_app(files["demo"]), body)
    assert app.return_code in (None, 0)


def test_selecting_a_neuron_shows_its_card(make_app, files, tools):
    """The cursor moves with the keys alone: shift+←/→ between layers, ↑/↓ over a layer's
    neurons (both stop at the ends); enter shows the neuron under it."""
    async def body(app, pilot):
        ws = tools.workspace(app)
        view = ws.query_one("#netview")
        await pilot.press("n")
        await pilot.press(*["shift+left"] * 3, "up")     # inputs column, first input
        assert view.cursor == (0, 0)
        await pilot.press("shift+right", "down", "down", "down")
        assert view.cursor == (1, 3)                      # layer 1 (4 tanh units), the last one
        await pilot.press("down")
        assert view.cursor == (1, 3)
        await pilot.press("up")
        assert view.cursor == (1, 2)
        await pilot.press("enter")
        await pilot.pause()
        text = ws.query_one(NeuronCard).text
        assert "Neuron 2 of layer 1" in text and "dL/d" in text

    tools.drive(make_app(files["demo"]), body)


def test_usable_at_80x24(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        assert not ws.query_one("#lesson").display     # hidden to make room
        await pilot.press("n", "n", "n")
        await pilot.pause()
        assert "batch 3/25" in tools.status(app)
        assert ws.query_one("#status").region.bottom <= 23
        await pilot.press("l")
        assert ws.query_one("#lesson").display

    tools.drive(make_app(files["demo"]), body, size=(80, 24))


def test_f12_saves_an_svg_screenshot(make_app, files, tools, tmp_path):
    async def body(app, pilot):
        await pilot.press("f12")
        await pilot.pause()
        shots = list(tmp_path.glob("*.svg"))
        assert len(shots) == 1 and "<svg" in shots[0].read_text()[:200]

    tools.drive(make_app(files["demo"]), body)
