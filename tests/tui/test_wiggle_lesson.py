"""Lesson 40 as its text tells the student to do it, in the app: select neuron 0 of layer 1,
press g, read L(w ± h) of w₀; type other h; walk to backward 1 and read the card's dL/dw₀."""

from __future__ import annotations

from pathlib import Path

import pytest

from nnsim.tui.screens import GradCheckDialog, WorkspaceScreen
from nnsim.tui.widgets import NeuronCard

LESSON = Path(__file__).resolve().parents[2] / "scenarios" / "40-wiggle-one-weight.toml"


def test_wiggle_one_weight_in_the_app(make_app, tools):
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("shift+left", "enter")        # from the output layer to layer 1
        assert ws.views.sel.neuron == (0, 0) and ws.views.selected_weight() == (0, 0, 0)
        assert "▸0" in ws.query_one(NeuronCard).text
        await pilot.press("g")
        await tools.wait_for(pilot, lambda: isinstance(app.screen, GradCheckDialog), timeout=60)
        dialog = app.screen
        probe = next(p for p in dialog.report.probes if p.tensor == "layer1.W")
        assert probe.index == (0, 0) and probe.chosen == "selected"
        assert probe.loss == pytest.approx(0.70927, abs=5e-6)
        assert probe.analytic == pytest.approx(-0.061621, abs=5e-7)
        assert probe.rel_error < 1e-9 and 5e-7 < probe.forward_rel_error < 2e-6
        for h, central, forward in ((0.1, 4e-3, 6e-3), (0.01, 4e-5, 1e-3)):
            dialog.query_one("#gradcheck-h").value = str(h)
            await pilot.press("enter")
            await tools.wait_for(pilot, lambda h=h: dialog.report.h == h, timeout=60)
            p = next(p for p in dialog.report.probes if p.tensor == "layer1.W")
            assert central / 2 < p.rel_error < central * 2
            assert forward / 2 < p.forward_rel_error < forward * 2
        await pilot.press("escape")
        assert isinstance(app.screen, WorkspaceScreen)
        for _ in range(3):                              # forward 1, forward 2, loss, backward 2, backward 1
            await pilot.press("f")
        await pilot.press("f", "f", "1")
        await pilot.pause()
        assert ws.lab.phase.label == "backward layer 1"
        card = ws.query_one(NeuronCard).text
        line = next(l for l in card.splitlines() if l.startswith("dL/dw₀ = Σ over the 4 samples"))
        total = float(line.split(" = ")[-1].replace("−", "-"))
        assert total == pytest.approx(probe.analytic, abs=5e-6)

    tools.drive(make_app(LESSON), body)
