"""Pilot tests of a student's first ten minutes (issue #10): the lesson's end, its pace, its
panel, divergence advice, the layout at 80×24 and after a resize, help, plain messages,
saving and reopening, F12 everywhere."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.widgets import Input, OptionList, TabbedContent

from nnsim.tui.screens import ErrorDialog, GalleryScreen, GradCheckDialog, HelpScreen, OpenDialog
from nnsim.tui.screens.asks import LeaveDialog, LessonEndDialog, ResumeDialog
from nnsim.tui.screens.model_panel import ModelPanel
from nnsim.tui.session import DEMO_TOML
from nnsim.tui.widgets import NetworkView

LESSONS = Path(__file__).resolve().parents[2] / "scenarios"
SIZES = [(80, 24), (120, 36)]


def drawn(widget) -> str:
    """What a widget draws, as one line of words."""
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return " ".join(" ".join(strip.text for strip in lines).split())


def lesson(number: str) -> Path:
    return next(LESSONS.glob(f"{number}-*.toml"))


@pytest.fixture
def short(tmp_path: Path) -> Path:
    """The demo with 2 epochs, played as fast as possible."""
    path = tmp_path / "short.toml"
    path.write_text(DEMO_TOML.replace("epochs = 200", "epochs = 2")
                    + "\n[view]\nspeed = 10000\n", encoding="utf-8")
    return path


# -- training runs the lesson ----------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
def test_play_stops_at_the_lessons_epochs_with_a_summary(make_app, short, tools, size):
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("space")
        await tools.wait_for(pilot, lambda: isinstance(app.screen, LessonEndDialog), timeout=60)
        t = ws.lab.trainer
        assert t.epoch == 2 and t.batch == 0 and not ws.playing
        text = app.screen.text
        assert "test loss < 0.1" in text and ("✓" in text or "✗" in text)
        assert "Final figures (epoch 2)" in text and "train loss" in text and "test loss" in text
        assert "Try next:" in text
        await pilot.press("escape")
        await pilot.pause()
        assert "epoch 2/2 (end)" in tools.status(app) and "end of lesson" in tools.status(app)
        await pilot.press("space")                          # asks again, trains nothing
        await pilot.pause()
        assert isinstance(app.screen, LessonEndDialog) and t.step == 50
        await pilot.press("space")                          # "train on": a deliberate choice
        await tools.wait_for(pilot, lambda: t.epoch >= 3, timeout=60)
        assert ws.lab.past_end
        await pilot.press("space")
        await pilot.pause()
        assert "past 2" in tools.status(app)

    tools.drive(make_app(short), body, size=size)


def test_n_and_e_step_on_past_the_end_without_asking(make_app, short, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        while not ws.lab.at_end:
            ws.lab.play_chunk(None, stop_at_end=True)
        await pilot.press("n")
        assert ws.lab.trainer.step == 51 and not isinstance(app.screen, LessonEndDialog)
        await pilot.press("e")
        await tools.wait_for(pilot, lambda: not ws.playing and ws.lab.trainer.epoch == 3, timeout=60)

    tools.drive(make_app(short), body)


def test_small_lessons_start_at_a_watchable_speed(make_app, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        assert ws.lab.speed == 300                           # 2,500 batches: about 8 s
        t0 = time.perf_counter()
        await pilot.press("space")
        await pilot.pause(0.5)
        await pilot.press("space")
        seconds = time.perf_counter() - t0
        assert 0 < ws.lab.trainer.step <= 300 * seconds + 10  # not 10,000 epochs in a blink

    tools.drive(make_app(lesson("06")), body)


@pytest.mark.parametrize("number, tab", [("06", "tab-boundary"), ("13", "tab-boundary"),
                                         ("15", "tab-plots"), ("17", "tab-plots"),
                                         ("29", "tab-plots"), ("01", "tab-network")])
def test_the_lessons_panel_opens_first(make_app, tools, number, tab):
    async def body(app, pilot):
        assert tools.workspace(app).query_one(TabbedContent).active == tab

    tools.drive(make_app(lesson(number)), body)


def test_the_panel_is_honoured_from_the_gallery_and_from_o(make_app, tools):
    async def body(app, pilot):
        gallery = app.screen
        index = next(i for i, e in enumerate(gallery.entries) if e.path and e.path.name.startswith("15-"))
        ol = gallery.query_one(OptionList)
        ol.highlighted = ol.get_option_index(f"e{index}")
        await pilot.press("enter")
        await pilot.pause()
        assert tools.workspace(app).query_one(TabbedContent).active == "tab-plots"
        await pilot.press("o")
        app.screen.query_one("#open-path", Input).value = str(lesson("06"))
        await pilot.press("enter")
        await pilot.pause()
        assert tools.workspace(app).query_one(TabbedContent).active == "tab-boundary"

    tools.drive(make_app(), body)


def test_divergence_advice_works_and_survives_history(make_app, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        lab = ws.lab
        await pilot.press("space")
        await tools.wait_for(pilot, lambda: lab.diverged is not None and not ws.playing, timeout=60)
        text = tools.notice(app)
        assert "press r to reset the weights" in text.lower() and "grown to" in text
        assert "then [ to lower the learning rate" in text
        await pilot.press("left_square_bracket")             # lower the rate only: still advised
        assert "press r to reset them" in tools.notice(app)
        await pilot.press("left", "left")                    # history keeps the diagnosis
        assert "Diverged at step" in tools.notice(app) and "DIVERGED" in tools.status(app)
        await pilot.press("right", "right", "right")
        assert "Training diverged at step" in tools.notice(app)
        await pilot.press("left_square_bracket", "r")        # reset, then lower: it trains
        for _ in range(3):
            await pilot.press("e")
            await tools.wait_for(pilot, lambda: not ws.playing, timeout=60)
        assert lab.diverged is None and lab.trainer.epoch == 3

    tools.drive(make_app(lesson("17")), body)


# -- numbers and labels ----------------------------------------------------------------------------
def test_status_bar_labels_train_and_test_in_goal_units(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("e")
        await tools.wait_for(pilot, lambda: not ws.playing and ws.lab.trainer.epoch == 1, timeout=60)
        await pilot.pause()
        line1, line2 = tools.status(app).splitlines()
        assert "train loss" in line1 and "test loss" in line1 and "%" in line1
        assert "epoch 2/6" in line1 and "test accuracy ≥ 90%" in line2
        ws.lab.trainer.net.P[:] = 1e20                       # a huge loss stays short
        ws.lab.trainer.history.epochs[-1].train_loss = 6148732928074425472098771140608.0
        ws.refresh_all()
        assert "6.149e30" in tools.status(app)

    path = files["demo"].with_name("acc.toml")
    path.write_text(DEMO_TOML.replace("epochs = 200", "epochs = 6")
                    .replace("test_loss_below = 0.1", "test_accuracy_at_least = 0.9"), encoding="utf-8")
    tools.drive(make_app(path), body)


# -- layout ------------------------------------------------------------------------------------------
def test_80x24_shows_goals_and_what_to_do_and_keeps_quit_and_help(make_app, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        strip = ws.query_one("#lesson-strip")
        assert strip.display and strip.region.height == 2
        text = str(strip.render())
        assert "test accuracy ≥ 95%" in text and "To do" in text and "press n" in text
        footer = " ".join(str(k.render()) for k in ws.query("FooterKey") if k.region.right <= 80)
        assert "Quit" in footer and "Help" in footer
        assert ws.query_one("#tabs").region.width >= 46
        await pilot.press("l")                               # the whole lesson, the model gives way
        assert ws.query_one("#lesson").display and not ws.query_one("#model").display
        assert not strip.display and ws.query_one("#tabs").region.width >= 46
        await pilot.press("m")
        assert ws.query_one("#model").display and not ws.query_one("#lesson").display

    tools.drive(make_app(lesson("06")), body, size=(80, 24))


def test_resizing_recomputes_the_layout(make_app, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        assert ws.query_one("#lesson").display and ws.query_one("#model").display
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not ws.query_one("#lesson").display and ws.query_one("#lesson-strip").display
        assert ws.query_one("#tabs").region.width >= 46
        await pilot.press("1")
        assert ws.query_one(NetworkView).region.width >= 46
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        assert ws.query_one("#lesson").display and ws.query_one("#model").display
        assert not ws.query_one("#lesson-strip").display

    tools.drive(make_app(lesson("06")), body, size=(120, 36))


@pytest.mark.parametrize("size", SIZES)
def test_help_fits_scrolls_and_shows_the_screens_keys(make_app, files, tools, size):
    async def body(app, pilot):
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen) and help_screen.context == "gallery"
        text = drawn(help_screen.query_one("#help-keys"))
        assert "open the highlighted scenario" in text and "play / pause" not in text
        await pilot.press("escape")
        app.open_path(files["demo"])
        await pilot.pause()
        await pilot.press("question_mark")
        help_screen = app.screen
        box = help_screen.query_one("#help-box").region
        assert box.bottom <= size[1] and box.right <= size[0]
        text = drawn(help_screen.query_one("#help-keys"))
        assert "play / pause" in text and "open the highlighted scenario" not in text
        scroll = help_screen.query_one("#help-scroll")
        if size == (80, 24):
            assert scroll.max_scroll_y > 0
            await pilot.press("pagedown")
            assert scroll.scroll_y > 0

    tools.drive(make_app(), body, size=size)


# -- plain messages ----------------------------------------------------------------------------------
def test_notices_clear_on_the_next_action(make_app, files, tools):
    async def body(app, pilot):
        await pilot.press("s")
        await tools.wait_for(pilot, lambda: "saved" in tools.notice(app), timeout=60)
        await pilot.press("2")
        assert tools.notice(app) == ""

    tools.drive(make_app(files["demo"]), body)


def test_b_at_the_first_phase_says_so(make_app, files, tools):
    async def body(app, pilot):
        await pilot.press("b")
        assert "No step in progress" in tools.notice(app)
        await pilot.press("f", "b")
        assert "first phase" in tools.notice(app)
        assert tools.workspace(app).lab.phase.label == "forward layer 1"

    tools.drive(make_app(files["demo"]), body)


def test_model_panel_messages(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        panel = ws.query_one(ModelPanel)
        panel.layer_index = 2                                  # the output layer
        panel.action_remove_layer()
        await pilot.pause()
        assert "the output layer can't be removed" in tools.notice(app)
        assert len(ws.lab.scenario.layers) == 3
        field = ws.query_one("#tr-learning_rate", Input)     # a refused value reverts on leaving
        field.focus()
        await pilot.pause()
        field.value = "-1"
        await pilot.press("enter")
        assert field.has_class("-refused")
        ws.query_one(NetworkView).focus()
        await pilot.pause()
        assert field.value == "0.03" and not field.has_class("-refused")
        assert "back to 0.03" in str(ws.query_one("#err-tr-learning_rate").render())
        ws.query_one("#tr-regularization").value = "l2"       # rate 0: no effect, and it says so
        await pilot.pause()
        assert "has no effect" in tools.notice(app)

    tools.drive(make_app(files["demo"]), body)


def test_escape_asks_before_discarding_training(make_app, files, tools):
    async def body(app, pilot):
        await pilot.press("escape")                          # nothing to lose: straight back
        await pilot.pause()
        assert isinstance(app.screen, GalleryScreen)
        app.open_path(files["demo"])
        await pilot.pause()
        await pilot.press("n", "escape")
        assert isinstance(app.screen, LeaveDialog)
        await pilot.press("escape")                          # stay
        assert tools.workspace(app).lab.trainer.step == 1
        await pilot.press("escape", "y")
        await pilot.pause()
        assert isinstance(app.screen, GalleryScreen)

    tools.drive(make_app(), body)


def test_gallery_keeps_its_cursor(make_app, tools):
    async def body(app, pilot):
        ol = app.screen.query_one(OptionList)
        for _ in range(5):
            await pilot.press("down")
        before = ol.highlighted
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert isinstance(app.screen, GalleryScreen) and ol.highlighted == before
        shown = " ".join(drawn(ol).replace("▊", " ").split())   # long titles keep every line
        for entry in app.screen.entries[:6]:
            assert " ".join(entry.label.split()) in shown, entry.label

    tools.drive(make_app(), body, size=(80, 24))


# -- saving and sharing --------------------------------------------------------------------------
def test_reopening_a_saved_scenario_offers_its_checkpoint(make_app, files, tools, tmp_path):
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("n", "n", "n", "s")
        await tools.wait_for(pilot, lambda: "saved" in tools.notice(app), timeout=60)
        await pilot.press("escape")
        await pilot.pause()
        app.open_path(tmp_path / "demo.toml")
        await tools.wait_for(pilot, lambda: isinstance(app.screen, ResumeDialog), timeout=60)
        await pilot.press("y")
        await pilot.pause()
        ws = tools.workspace(app)
        assert ws.lab.trainer.step == 3 and "Loaded demo.ckpt.npz" in tools.notice(app)

    tools.drive(make_app(files["demo"]), body)


def test_f12_works_in_every_screen_and_dialog(make_app, files, tools, tmp_path):
    async def shot(pilot, app) -> None:
        before = len(list(tmp_path.glob("*.svg")))
        await pilot.press("f12")
        await pilot.pause()
        assert len(list(tmp_path.glob("*.svg"))) == before + 1, type(app.screen).__name__

    async def body(app, pilot):
        await shot(pilot, app)                               # error dialog (broken file)
        assert isinstance(app.screen, ErrorDialog)
        await pilot.press("escape")
        await shot(pilot, app)                               # gallery
        await pilot.press("question_mark")
        await shot(pilot, app)                               # help
        await pilot.press("escape", "o")
        assert isinstance(app.screen, OpenDialog)
        await shot(pilot, app)                               # open a file
        await pilot.press("escape")
        app.open_path(files["demo"])
        await pilot.pause()
        await shot(pilot, app)                               # workspace
        await pilot.press("n", "g")
        await tools.wait_for(pilot, lambda: isinstance(app.screen, GradCheckDialog), timeout=60)
        await shot(pilot, app)                               # gradient check
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, LeaveDialog)
        await shot(pilot, app)                               # leave?

    tools.drive(make_app(files["broken"]), body)
