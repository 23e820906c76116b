"""The app against hostile text and files, and signals (issue 9): user text is shown literally
(never as markup, never with control characters), a FIFO never blocks the open dialog, a
screenshot that cannot be written is a notice, and SIGINT / SIGTERM restore the terminal."""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from nnsim.tui.app import NnsimApp
from nnsim.tui.screens import ErrorDialog, GalleryScreen, OpenDialog, WorkspaceScreen

HOSTILE_TEXT = Path(__file__).parents[1] / "data" / "textsafe" / "lesson.toml"
LITERAL = ("a[/]b", "[bold]bold?[/bold]", "[@click=app.quit]quit?[/]")
CONTROL = ("\x1b", "\x07", "\x9b")
QUIT_NAME = "[b]x[@click=app.quit].toml"
BROKEN_NAME = "esc\x1b[2J[i].toml"


def _plain(widget) -> str:
    return str(widget.render())


def _literal(text: str, *needles: str) -> None:
    for c in CONTROL:
        assert c not in text, f"{c!r} shown: {text!r}"
    for n in needles:
        assert n in text, f"{n!r} not shown literally in {text!r}"


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, Path]:
    """Lessons folder with the hostile lesson; a working folder with odd file names and a FIFO."""
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    shutil.copy(HOSTILE_TEXT, lessons / "00-hostile.toml")
    work = tmp_path / "work["   # a folder name with a bracket
    work.mkdir()
    shutil.copy(HOSTILE_TEXT, work / QUIT_NAME)
    (work / BROKEN_NAME).write_text("not [valid toml\n")
    fifo = work / "pipe.toml"
    if hasattr(os, "mkfifo"):
        os.mkfifo(fifo)
    return {"lessons": lessons, "work": work, "fifo": fifo}


def test_hostile_text_in_gallery_lesson_and_dialogs(hostile, tools):
    app = NnsimApp(work_dir=hostile["work"], lesson_dir=hostile["lessons"], warmup=False)

    async def body(app, pilot):
        gallery = app.screen
        assert isinstance(gallery, GalleryScreen)
        _literal(_plain(gallery.query_one("#preview")), *LITERAL, "[training]")
        ol = gallery.query_one(OptionList)
        for i in range(ol.option_count):      # every label and preview renders, literally
            ol.highlighted = i
            await pilot.pause()
            _literal(_plain(gallery.query_one("#preview")))
        prompts = " ".join(str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count))
        _literal(prompts, QUIT_NAME, "esc[2J[i].toml (broken)", "[@click=app.quit]quit?[/]")

        ol.highlighted = 1                      # the hostile built-in lesson
        await pilot.press("enter")
        await tools.wait_for(pilot, lambda: isinstance(app.screen, WorkspaceScreen))
        ws = app.screen
        _literal(_plain(ws.query_one("#lesson-title")), *LITERAL)
        lesson = ws.query_one("#lesson-text")
        _literal(_plain(lesson), "a[/]b", "[training]", "[@click=app.quit]click[/]")
        for x in range(0, lesson.size.width, 2):   # no live link anywhere on the text
            await pilot.click("#lesson-text", offset=(x, 0))
        await pilot.pause()
        assert app.is_running and app.return_code is None

        await pilot.press("escape")
        await pilot.press("o")                  # the tree lists the odd names; a FIFO is refused
        assert isinstance(app.screen, OpenDialog)
        await pilot.pause(0.3)
        app.screen.query_one("#open-path", Input).value = str(hostile["fifo"])
        await pilot.press("enter")
        await tools.wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog), timeout=10)
        dialog = app.screen
        text = " ".join(_plain(w) for w in dialog.query("Static"))
        _literal(text, "FIFO", "work[")
        await pilot.press("escape")

        app.work_dir = hostile["work"] / QUIT_NAME   # a file, not a folder: cannot save there
        await pilot.press("f12")
        await pilot.pause()
        assert app.is_running and app.return_code is None
        said = [n.message for n in app._notifications]
        assert any("Could not save a screenshot" in m and "\x1b" not in m for m in said), said

        await pilot.press("q")
        await pilot.pause()

    tools.drive(app, body)
    assert app.return_code == 0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_opening_a_fifo_from_the_command_line_is_an_error_dialog(hostile, tools):
    app = NnsimApp(hostile["fifo"], work_dir=hostile["work"], lesson_dir=hostile["lessons"],
                   warmup=False)

    async def body(app, pilot):
        await tools.wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog))
        assert any("FIFO" in p for p in app.screen.problems)

    tools.drive(app, body)


# -- signals ---------------------------------------------------------------------------------------
def _run_app_in_pty(sig: int, cwd: Path) -> tuple[int, bytes]:
    """Start `nnsim` (the gallery) under a pseudo-terminal, wait until it draws, send `sig`;
    returns (exit status, everything it wrote)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real command line
        os.chdir(cwd)
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-c",
                                  "import sys; from nnsim.cli.main import main; sys.exit(main())"])
    out = b""

    def pump(seconds: float) -> bool:
        nonlocal out
        end = time.time() + seconds
        while time.time() < end:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return False
                if not chunk:
                    return False
                out += chunk
        return True

    try:
        start = time.time()
        while b"pick a lesson" not in out and time.time() - start < 120:
            if not pump(0.2):
                break
        assert b"pick a lesson" in out, out[-500:]
        pump(0.5)
        os.kill(pid, sig)
        deadline = time.time() + 30
        while time.time() < deadline and pump(0.2):
            pass
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals and signals")
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_ends_the_app_and_restores_the_terminal(tmp_path, sig, code):
    status, out = _run_app_in_pty(sig, tmp_path)
    assert status == code
    tail = out[-400:]
    assert b"\x1b[?1049l" in tail, tail          # left the alternate screen
    assert b"\x1b[?1000l" in tail and b"\x1b[?1003l" in tail, tail   # mouse tracking off
    assert tail.rfind(b"\x1b[?1049l") > tail.rfind(b"\x1b[?1049h")
    assert b"Traceback" not in out


def test_gallery_preview_of_every_builtin_lesson():
    """Found by the random keys: a conv lesson's preview raised (the network line knew only
    dense and dropout layers)."""
    from nnsim.tui.screens.gallery import load_entry, preview_text
    from nnsim.tui.session import builtin_lessons

    lessons = builtin_lessons()
    assert lessons
    for path in lessons:
        text = preview_text(load_entry(path, builtin=True)).plain
        assert "Network" in text or "(broken)" in text or "circuit" in text.lower(), path
