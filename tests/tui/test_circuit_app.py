"""The circuit screen in Pilot tests at 80×24: f/b walk gate by gate, n tugs, g and c fill the
bottom pane, arrows select, the gallery and `open_path` dispatch on the kind; one SVG snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from nnsim.tui.app import NnsimApp
from nnsim.tui.screens import ErrorDialog, GalleryScreen, WorkspaceScreen
from nnsim.tui.screens.circuit import CircuitScreen
from nnsim.tui.session import DEMO_TOML
from nnsim.tui.widgets.circuit_view import CircuitView

SIZE = (80, 24)
ROOT = Path(__file__).resolve().parents[2]

CIRCUIT = """
[scenario]
name = "Multiply, then add"
kind = "circuit"
description = \"\"\"
What to do: press f.

What to watch: the gradients.
\"\"\"

[circuit]
expression = "(x * y) + z"

[circuit.inputs]
x = -2.0
y = 3.0
z = 4.0

[goals]
output_at_least = -1.8
within_steps = 10
"""


@pytest.fixture
def circuit_file(tmp_path: Path) -> Path:
    path = tmp_path / "circuit.toml"
    path.write_text(CIRCUIT, encoding="utf-8")
    return path


def screen(app: NnsimApp) -> CircuitScreen:
    assert isinstance(app.screen, CircuitScreen), f"expected the circuit screen, got {app.screen!r}"
    return app.screen


def plain(app: NnsimApp, selector: str) -> str:
    return str(screen(app).query_one(selector).render())


def drawing(app: NnsimApp) -> str:
    return "\n".join(screen(app).query_one(CircuitView).text_lines())


def test_f_and_b_walk_gate_by_gate(make_app, circuit_file, tools) -> None:
    async def body(app, pilot):
        s = screen(app)
        assert "start" in plain(app, "#circuit-status") and "× = ?" in drawing(app)
        await pilot.press("f")
        assert s.lab.walk.position == 1 and "forward 1/2: mul1" in plain(app, "#circuit-status")
        assert "× = -6" in drawing(app) and "+ = ?" in drawing(app)
        assert "(-2) × 3 = -6" in plain(app, "#circuit-card")
        await pilot.press("f", "f")
        assert "backward 1/2: add1" in plain(app, "#circuit-status")
        card = plain(app, "#circuit-card")
        assert "add distributes" in card and "1 × 1 = 1" in card
        await pilot.press("f")
        card = plain(app, "#circuit-card")
        assert "multiply swaps" in card
        assert "local ∂mul1/∂x = y = 3" in card and "3 × 1 = 3" in card and "-2 × 1 = -2" in card
        assert "∇ 3" in drawing(app) and "∇ -2" in drawing(app)
        await pilot.press("b", "b")
        assert s.lab.walk.position == 2 and "∇ ?" in drawing(app)
        await pilot.press("b", "b", "b")
        assert s.lab.walk.position == 0 and "at the start" in plain(app, "#circuit-status")

    tools.drive(make_app(circuit_file), body, size=SIZE)


def test_n_tugs_and_goals_update(make_app, circuit_file, tools) -> None:
    async def body(app, pilot):
        s = screen(app)
        await pilot.press("n")
        assert s.lab.tugs == 1
        assert s.lab.circuit.input_values() == pytest.approx({"x": -1.97, "y": 2.98, "z": 4.01})
        status = plain(app, "#circuit-status")
        assert "tugs 1" in status and "-1.861" in status and "✗" in status
        assert "= -1.97" in drawing(app)
        await pilot.press("n")
        assert "✓" in plain(app, "#circuit-status")        # -1.724 ≥ -1.8 at the 2nd tug
        await pilot.press("right_square_bracket")
        assert s.lab.step_size == 0.03 and "tug step 0.03" in plain(app, "#circuit-status")
        await pilot.press("r")
        assert s.lab.tugs == 0 and s.lab.circuit.input_values() == {"x": -2.0, "y": 3.0, "z": 4.0}

    tools.drive(make_app(circuit_file), body, size=SIZE)


def test_selection_numerical_table_and_comparison(make_app, circuit_file, tools) -> None:
    async def body(app, pilot):
        s = screen(app)
        view = s.query_one(CircuitView)
        await pilot.press("f", "f", "f")                   # add1 has passed back, mul1 not yet
        view.select(s.lab.circuit.index["z"])
        await pilot.press("left", "right")
        assert "z += 0.01 × 1" in plain(app, "#circuit-card")     # z's gradient is complete
        view.select(0)
        await pilot.press("right", "left")
        assert "needs the whole gradient" in plain(app, "#circuit-card")   # x's is not (mul1 to come)
        await pilot.press("f")
        view.select(0)
        await pilot.press("right", "left")                 # → then ← back to x: its card
        card = plain(app, "#circuit-card")
        assert view.selected == 0 and "an input = -2" in card
        assert "∇x = 3" in card and "mul1 passes 3" in card and "central 3" in card
        assert "x += 0.01 × 3" in card
        await pilot.press("g")
        table = plain(app, "#circuit-card")
        assert "Numerical vs analytic" in table and "rel.err" in table
        await pilot.press("c")
        comparison = plain(app, "#circuit-card")
        assert "random local search" in comparison and "1000 evals" in comparison
        assert "20 evals" in comparison                   # analytic: 2 per step, 10 steps
        await pilot.press("c")
        assert "an input" in plain(app, "#circuit-card") or "=" in plain(app, "#circuit-card")

    tools.drive(make_app(circuit_file), body, size=SIZE)


def test_gallery_opens_circuits_and_escape_goes_back(tmp_path, tools) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "01-two-circles.toml").write_text(DEMO_TOML, encoding="utf-8")
    (lessons / "02-gates.toml").write_text(CIRCUIT, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()

    async def body(app, pilot):
        gallery = app.screen
        assert isinstance(gallery, GalleryScreen)
        entry = next(e for e in gallery.entries if e.path and e.path.name == "02-gates.toml")
        assert entry.label == "Multiply, then add"
        gallery.query_one("#gallery-list").highlighted = 2
        await pilot.pause()
        assert "Circuit  (x * y) + z" in str(gallery.query_one("#preview").render())
        await pilot.press("enter")
        await pilot.pause()
        screen(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, GalleryScreen)
        assert app.open_path(lessons / "01-two-circles.toml")
        await pilot.pause()
        assert isinstance(app.screen, WorkspaceScreen)
        assert app.open_path(lessons / "02-gates.toml")      # replaces the workspace
        await pilot.pause()
        screen(app)
        assert len(app.screen_stack) == 3

    tools.drive(NnsimApp(work_dir=work, lesson_dir=lessons, warmup=False), body, size=SIZE)


def test_broken_circuit_shows_its_problems(make_app, tmp_path, tools) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(CIRCUIT.replace("(x * y) + z", "(x * foo(y)) + z"), encoding="utf-8")

    async def body(app, pilot):
        assert isinstance(app.screen, ErrorDialog)
        assert any("unknown function 'foo'" in str(p) for p in app.screen.problems)

    tools.drive(make_app(bad), body, size=SIZE)


def test_user_text_is_not_markup(make_app, tmp_path, tools) -> None:
    path = tmp_path / "markup.toml"
    path.write_text(CIRCUIT.replace('"Multiply, then add"', '"[red]boom[/] \\u001b[2J"'), encoding="utf-8")

    async def body(app, pilot):
        status = plain(app, "#circuit-status")
        assert "[red]boom[/]" in status and "\x1b" not in status

    tools.drive(make_app(path), body, size=SIZE)


def test_every_circuit_lesson_opens_and_walks(tools) -> None:
    from nnsim.scenarios.circuit import scenario_kind

    lessons = [p for p in sorted((ROOT / "scenarios").glob("*.toml")) if scenario_kind(p) == "circuit"]
    assert len(lessons) >= 7

    async def body(app, pilot):
        for path in lessons:
            assert app.open_path(path), path
            await pilot.pause()
            s = screen(app)
            for _ in range(s.lab.walk.length):
                await pilot.press("f")
            assert s.lab.walk.done, path.name
            await pilot.press("n", "g", "c")
            assert s.lab.tugs == 1, path.name

    tools.drive(NnsimApp(warmup=False), body, size=SIZE)


def test_snapshot_mid_backward_80x24(snap_compare) -> None:
    async def walk(pilot) -> None:
        for _ in range(4):                                  # forward 1, 2, backward 1, 2
            await pilot.press("f")
        await pilot.pause()
        assert pilot.app.screen.lab.walk.done

    app = NnsimApp(ROOT / "scenarios" / "31-multiply-then-add.toml", warmup=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=walk)
