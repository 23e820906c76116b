"""SVG snapshots of the app at 120×36 (pytest-textual-snapshot; `--snapshot-update` rewrites)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nnsim.tui.app import NnsimApp
from nnsim.tui.session import DEMO_TOML

SIZE = (120, 36)


@pytest.fixture
def lessons(tmp_path: Path, files: dict[str, Path]) -> Path:
    """A fixed lesson folder, so the snapshots do not change when lessons are added."""
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "01-two-circles.toml").write_text(DEMO_TOML, encoding="utf-8")
    (folder / "02-too-hot.toml").write_text(files["diverging"].read_text(), encoding="utf-8")
    return folder


@pytest.fixture
def demo_app(tmp_path: Path, lessons: Path) -> NnsimApp:
    work = tmp_path / "work"
    work.mkdir()
    path = work / "demo.toml"
    path.write_text(DEMO_TOML, encoding="utf-8")
    return NnsimApp(path, work_dir=work, lesson_dir=lessons, warmup=False)


def test_gallery(snap_compare, tmp_path: Path, lessons: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "my-circles.toml").write_text(DEMO_TOML.replace("Two circles (demo)", "My circles"))
    app = NnsimApp(work_dir=work, lesson_dir=lessons, warmup=False)
    assert snap_compare(app, terminal_size=SIZE)


def test_workspace(snap_compare, demo_app: NnsimApp) -> None:
    assert snap_compare(demo_app, terminal_size=SIZE, press=["n", "n", "n"])


def test_neuron_card(snap_compare, demo_app: NnsimApp) -> None:
    async def select_hidden_neuron(pilot) -> None:
        await pilot.press("n")
        view = pilot.app.screen.query_one("#netview")
        view.cursor = (1, 2)                 # layer 1, neuron 2
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=select_hidden_neuron)


def test_stepper_mid_backward(snap_compare, demo_app: NnsimApp) -> None:
    async def walk(pilot) -> None:
        await pilot.press("n")
        for _ in range(6):                   # forward 1-3, loss, backward 3, backward 2
            await pilot.press("f")
        await pilot.pause()
        assert pilot.app.screen.lab.phase.label == "backward layer 2"

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=walk)


def test_help_screen(snap_compare, demo_app: NnsimApp) -> None:
    assert snap_compare(demo_app, terminal_size=SIZE, press=["question_mark"])
