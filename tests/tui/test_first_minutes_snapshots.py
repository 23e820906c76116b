"""SVG snapshots of a student's first ten minutes (issue #10) at 80×24 and 120×36: the lesson
strip and the network view's explanations, the end-of-lesson summary, the divergence advice,
help, the digits network, the plot axes and the gallery. `--snapshot-update` rewrites them;
look at each before accepting it."""

from __future__ import annotations

from pathlib import Path

import pytest

from nnsim.engine import DivergenceError
from nnsim.tui.app import NnsimApp
from nnsim.tui.session import DEMO_TOML

LESSONS = Path(__file__).resolve().parents[2] / "scenarios"
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


@pytest.fixture
def lessons(tmp_path: Path) -> Path:
    """Copies of the lessons the snapshots open (so later lesson edits do not change them)."""
    folder = tmp_path / "lessons"
    folder.mkdir()
    for number in ("06", "17", "22", "29"):
        src = next(LESSONS.glob(f"{number}-*.toml"))
        (folder / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    short = DEMO_TOML.replace("epochs = 200", "epochs = 2") + "\n[view]\nspeed = 10000\n"
    (folder / "90-short.toml").write_text(short, encoding="utf-8")
    return folder


def app_for(lessons: Path, name: str | None, tmp_path: Path) -> NnsimApp:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    path = next(lessons.glob(f"{name}*.toml")) if name else None
    return NnsimApp(path, work_dir=work, lesson_dir=lessons, warmup=False)


def train(pilot, epochs: int) -> None:
    """Train whole epochs in the test (deterministic; no play timing in the picture)."""
    ws = pilot.app.screen
    for _ in range(epochs):
        ws.lab.trainer.step_epoch()
    ws.refresh_all()


@pytest.mark.parametrize("size", SIZES)
def test_network_view_with_maps_and_lesson_strip(snap_compare, lessons, tmp_path, size):
    async def before(pilot) -> None:
        await pilot.press("1")
        train(pilot, 20)
        await pilot.press("n")
        await pilot.pause()

    assert snap_compare(app_for(lessons, "06", tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_boundary_opens_first_with_its_legend(snap_compare, lessons, tmp_path, size):
    async def before(pilot) -> None:
        train(pilot, 30)
        await pilot.pause()

    assert snap_compare(app_for(lessons, "06", tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_lesson_end_summary(snap_compare, lessons, tmp_path, size):
    async def before(pilot) -> None:
        ws = pilot.app.screen
        while not ws.lab.at_end:
            ws.lab.play_chunk(None, stop_at_end=True)
        ws.refresh_all()
        ws.show_lesson_end()
        await pilot.pause()

    assert snap_compare(app_for(lessons, "90", tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_divergence_advice(snap_compare, lessons, tmp_path, size):
    async def before(pilot) -> None:
        ws = pilot.app.screen
        try:
            while True:
                ws.lab.play_chunk(25)
        except DivergenceError as err:
            ws.show_divergence(err)
        await pilot.pause()

    assert snap_compare(app_for(lessons, "17", tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_help_from_the_workspace(snap_compare, lessons, tmp_path, size):
    assert snap_compare(app_for(lessons, "90", tmp_path), terminal_size=size,
                        press=["question_mark"])


@pytest.mark.parametrize("size", SIZES)
def test_digits_network(snap_compare, lessons, tmp_path, size):
    async def before(pilot) -> None:
        await pilot.press("1", "n")
        await pilot.pause()

    assert snap_compare(app_for(lessons, "29", tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_gradient_norms_a_colour_per_layer(snap_compare, lessons, tmp_path, size):
    async def before(pilot) -> None:
        train(pilot, 12)
        pilot.app.screen.query_one("#plots").set_view("grads")
        await pilot.pause()

    assert snap_compare(app_for(lessons, "22", tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_gallery(snap_compare, lessons, tmp_path, size):
    assert snap_compare(app_for(lessons, None, tmp_path), terminal_size=size)
