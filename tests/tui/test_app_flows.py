"""Pilot tests: gallery, opening files, broken files, model edits, divergence, loading."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from nnsim.tui.screens import ErrorDialog, GalleryScreen, OpenDialog, WorkspaceScreen
from nnsim.tui.screens.model_panel import ModelPanel
from nnsim.tui.widgets import NetworkView


async def type_into(pilot, app, selector: str, text: str) -> None:
    """Replace a model-panel field's text and press enter."""
    field = app.screen.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    field.value = text
    await pilot.press("enter")
    await pilot.pause()


def test_gallery_lists_lessons_and_local_files_and_opens_one(make_app, files, tools):
    async def body(app, pilot):
        assert isinstance(app.screen, GalleryScreen)
        labels = [e.label for e in app.screen.entries]
        assert "Too hot" in labels and any("broken" in label for label in labels)
        preview = str(app.screen.query_one("#preview").render())
        assert "Network" in preview and "Data" in preview
        ol = app.screen.query_one(OptionList)
        ol.highlighted = ol.get_option_index(f"e{labels.index('Too hot')}")
        await pilot.pause()
        assert "8 relu" in str(app.screen.query_one("#preview").render())
        await pilot.press("enter")
        await pilot.pause()
        assert tools.workspace(app).lab.scenario.meta.name == "Too hot"
        await pilot.press("escape")              # back to the gallery
        await pilot.pause()
        assert isinstance(app.screen, GalleryScreen)

    tools.drive(make_app(), body)


def test_broken_file_opens_the_error_dialog(make_app, files, tools):
    async def body(app, pilot):
        dialog = app.screen
        assert isinstance(dialog, ErrorDialog)
        text = "\n".join(dialog.problems)
        assert "circel" in text and "units" in text and "learning_rate" in text
        assert len(dialog.problems) >= 3
        await pilot.press("escape")
        assert isinstance(app.screen, GalleryScreen)

    tools.drive(make_app(files["broken"]), body)


def test_o_opens_another_file(make_app, files, tools):
    async def body(app, pilot):
        await pilot.press("o")
        assert isinstance(app.screen, OpenDialog)
        app.screen.query_one("#open-path", Input).value = "diverging.toml"
        await pilot.press("enter")
        await pilot.pause()
        assert tools.workspace(app).lab.scenario.meta.name == "Too hot"
        await pilot.press("o")
        app.screen.query_one("#open-path", Input).value = str(files["broken"])
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ErrorDialog)
        await pilot.press("escape")
        assert tools.workspace(app).lab.scenario.meta.name == "Too hot"

    tools.drive(make_app(files["demo"]), body)


def test_editing_a_layer_changes_the_network(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("n", "n")
        await type_into(pilot, app, "#ly-units", "6")
        net = ws.lab.trainer.net
        assert [d.units for d in net.dense] == [6, 2, 1]
        assert ws.lab.trainer.step == 0
        assert "re-initialised" in tools.notice(app)
        assert ws.query_one(NetworkView)._sizes == [2, 6, 2, 1]
        panel = ws.query_one(ModelPanel)
        panel.action_add_layer()                   # after layer 1
        await pilot.pause()
        assert [d.units for d in ws.lab.trainer.net.dense] == [6, 4, 2, 1]
        panel.layer_index = 1
        panel.action_move_layer(-1)
        assert [d.units for d in ws.lab.trainer.net.dense] == [4, 6, 2, 1]
        panel.action_remove_layer()
        assert [d.units for d in ws.lab.trainer.net.dense] == [6, 2, 1]
        ws.query_one("#ly-activation").value = "relu"   # same shapes: weights kept
        await pilot.pause()
        assert ws.lab.trainer.net.dense[0].activation == "relu"
        assert "weights kept" in tools.notice(app)

    tools.drive(make_app(files["demo"]), body)


def test_bad_values_are_refused_inline(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        lab = ws.lab
        await type_into(pilot, app, "#tr-learning_rate", "-1")
        err = ws.query_one("#err-tr-learning_rate")
        assert err.display and "> 0" in str(err.render())
        assert lab.trainer.learning_rate == 0.03
        assert ws.query_one("#tr-learning_rate").has_class("-refused")
        await type_into(pilot, app, "#ly-units", "lots")
        assert "whole number" in str(ws.query_one("#err-ly-units").render())
        assert lab.trainer.net.dense[0].units == 4
        ws.query_one(ModelPanel).layer_index = 2          # the output layer
        ws.query_one(ModelPanel).sync()
        await type_into(pilot, app, "#ly-units", "3")
        assert "output layer needs" in str(ws.query_one("#err-ly-units").render())
        await type_into(pilot, app, "#tr-learning_rate", "0.1")
        assert not ws.query_one("#err-tr-learning_rate").display
        assert lab.trainer.learning_rate == 0.1

    tools.drive(make_app(files["demo"]), body)


def test_live_settings_do_not_reset(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        lab = ws.lab
        await pilot.press("n", "n", "n")
        await type_into(pilot, app, "#tr-batch_size", "25")
        assert lab.trainer.batch_size == 25 and lab.trainer.step == 3
        ws.query_one("#tr-optimizer").value = "momentum"
        await pilot.pause()
        assert lab.trainer.optimizer.name == "momentum" and lab.trainer.step == 3
        assert ws.query_one("#row-tr-momentum").display
        await type_into(pilot, app, "#tr-momentum", "0.5")
        assert lab.trainer.optimizer.options["momentum"] == 0.5
        ws.query_one("#tr-regularization").value = "l2"
        await pilot.pause()
        await type_into(pilot, app, "#tr-regularization_rate", "0.01")
        assert (lab.trainer.reg_name, lab.trainer.reg_rate) == ("l2", 0.01)
        assert lab.trainer.step == 3 and "live" in tools.notice(app)

    tools.drive(make_app(files["demo"]), body)


def test_divergence_pauses_with_a_diagnosis(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("space")
        await tools.wait_for(pilot, lambda: ws.lab.diverged is not None and not ws.playing)
        err = ws.lab.diverged
        text = tools.notice(app)
        assert f"diverged at step {err.step}" in text and f"layer {err.layer}" in text
        assert "learning rate" in text
        assert "DIVERGED" in tools.status(app)
        assert ws.views.highlight() == ("backward", err.layer - 1)
        # the app keeps running: lower the rate, reset, train again
        for _ in range(6):
            await pilot.press("left_square_bracket")
        await pilot.press("r", "n", "n")
        assert ws.lab.diverged is None and ws.lab.trainer.step == 2
        assert "DIVERGED" not in tools.status(app)

    tools.drive(make_app(files["diverging"]), body)


def test_divergence_when_stepping(make_app, files, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        ws.lab.trainer.net.P[:] = 1e38           # huge weights overflow at once
        await pilot.press("n")
        assert ws.lab.diverged is not None
        assert "diverged" in tools.notice(app)
        await pilot.press("f")
        assert ws.lab.diverged is not None and not ws.lab.walking

    tools.drive(make_app(files["diverging"]), body)


def test_first_launch_shows_the_workspace_while_the_kernels_compile(make_app, tools, monkeypatch):
    """The kernels are prepared in the background: the lesson opens at once, says what is
    compiling, refuses to step until ready (without freezing), then trains."""
    import threading

    from nnsim.tui import warmup

    release = threading.Event()
    real = warmup._pieces

    def slow_pieces(dtype):
        return [("held by the test", lambda: release.wait(30)), *real(dtype)]

    monkeypatch.setattr(warmup, "_pieces", slow_pieces)

    async def body(app, pilot):
        await tools.wait_for(pilot, lambda: isinstance(app.screen, WorkspaceScreen))
        ws = tools.workspace(app)
        await tools.wait_for(pilot, lambda: "held by the test" in tools.notice(app))
        assert "1/8" in tools.notice(app) and not ws.lab.kernels_ready()
        await pilot.press("n")
        await pilot.pause()
        assert ws.lab.trainer.step == 0 and "press the key again" in tools.notice(app)
        release.set()
        await tools.wait_for(pilot, ws.lab.kernels_ready, timeout=120)
        await tools.wait_for(pilot, lambda: "preparing" not in tools.notice(app))
        await pilot.press("n")
        await pilot.pause()
        assert ws.lab.trainer.step == 1
        assert [s.label for s in app.kernels.steps][0] == "held by the test"

    tools.drive(make_app(files_lesson(), warmup=True), body)


def files_lesson():
    from nnsim.scenarios.library import builtin_lessons_dir
    return builtin_lessons_dir() / "01-neuron-and.toml"


def test_run_app_is_importable_without_starting():
    from nnsim.tui import NnsimApp, run_app
    assert callable(run_app) and NnsimApp.__name__ == "NnsimApp"
    assert WorkspaceScreen.BINDINGS


def test_docs_list_every_key():
    from nnsim.tui.keys import markdown_table
    docs = Path(__file__).resolve().parents[2] / "docs" / "app.md"
    assert markdown_table() in docs.read_text(encoding="utf-8")


def _network_lessons() -> list[Path]:
    from nnsim.scenarios.circuit import scenario_kind
    from nnsim.tui.session import builtin_lessons

    return [p for p in builtin_lessons() if scenario_kind(p) == "network"]  # circuits: test_circuit_app


NETWORK_LESSONS = _network_lessons()


def test_the_app_finds_every_lesson_of_the_repository():
    from nnsim.tui.session import builtin_lessons

    repo = Path(__file__).resolve().parents[2] / "scenarios"
    assert [p.name for p in builtin_lessons()] == sorted(p.name for p in repo.glob("*.toml"))
    assert NETWORK_LESSONS


@pytest.mark.slow
@pytest.mark.parametrize("path", NETWORK_LESSONS, ids=lambda p: p.stem)
def test_builtin_lesson_opens_steps_and_draws(path, make_app, tools):
    """Open, a traced step, the stepper's first two phases of the next step, and every tab drawn."""
    async def body(app, pilot):
        ws = tools.workspace(app)
        assert ws.lab.scenario.source_path == path
        await pilot.press("n")
        assert ws.lab.diverged is None and ws.lab.trainer.step == 1   # none diverges at once
        await pilot.press("f", "f")          # the stepper: forward layer 1, then the next phase
        assert ws.query_one("#tabs").active == "tab-stepper"
        n_dense = len(ws.lab.trainer.net.dense)
        if ws.lab.trainer.net.rows[0].kind in ("simple_rnn", "lstm"):   # walked through time
            assert ws.lab.phase.label == "forward layer 1 step t=1"
        else:
            assert ws.lab.phase.label == ("forward layer 2" if n_dense > 1 else "loss")
        for tab in (2, 3):                   # boundary or curve, plots
            ws.action_tab(tab)
            await pilot.pause()
            ws._redraw(force=True)
        assert ws.lab.walking and ws.lab.trainer.step == 1 and ws.lab.diverged is None

    tools.drive(make_app(path), body)
