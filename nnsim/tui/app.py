"""`NnsimApp`: wiring and global keys. The screens own their behaviour (see screens/)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from nnsim.scenarios import Scenario, ScenarioError
from nnsim.scenarios.circuit import scenario_kind
from nnsim.textsafe import clean_line

from .controller import Lab
from .screens import (
    ErrorDialog,
    GalleryScreen,
    HelpScreen,
    OpenDialog,
    WorkspaceScreen,
)
from .screens.circuit import CircuitScreen, open_circuit
from .session import Session, build_session, load_session
from .warmup import Warmup


class NnsimApp(App[int]):
    """The nnsim terminal app: gallery → workspace, with help and file dialogs on top."""

    CSS_PATH = "nnsim.tcss"
    TITLE = "nnsim"
    ENABLE_COMMAND_PALETTE = False
    #: Whether SIGINT / SIGTERM end the app (exit status 130 / 143, the terminal restored);
    #: run_app sets it, tests driving the app with Pilot leave the test runner's handlers alone.
    handle_signals = False
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("o", "open", "Open"),
        # priority: modal screens (help, dialogs) stop the app's other keys, not this one
        Binding("f12", "svg", "Screenshot", show=False, priority=True),
    ]

    def __init__(self, path: str | Path | None = None, *, work_dir: str | Path | None = None,
                 lesson_dir: str | Path | None = None, warmup: bool = True) -> None:
        """`path`: open this scenario at once; `work_dir`: the folder listed in the gallery and
        where `s` saves (default: the current folder); `lesson_dir`: the built-in lessons'
        folder (default: the package's); `warmup`: prepare the kernels in the background from
        the start (else they compile on first use)."""
        super().__init__()
        self.lesson_dir = Path(lesson_dir) if lesson_dir is not None else None
        self.path = Path(path) if path is not None else None
        self.work_dir = Path(work_dir) if work_dir is not None else Path.cwd()
        self.kernels = Warmup() if warmup else None

    def on_mount(self) -> None:
        if self.handle_signals:
            self._handle_signals()
        circuit = self.path is not None and scenario_kind(self.path) == "circuit"
        if self.kernels is not None and not circuit:     # a circuit needs no kernels
            self.kernels.start("float32")
        self._start()

    def _start(self) -> None:
        self.push_screen(GalleryScreen(self.work_dir, self.lesson_dir))
        if self.path is not None:
            self.open_path(self.path)

    # -- opening scenarios ---------------------------------------------------------------------
    def open_path(self, path: str | Path) -> bool:
        """Open a scenario file in the workspace (a circuit in the circuit screen), or show its
        problems in a dialog."""
        if scenario_kind(path) == "circuit":
            return open_circuit(self, path)
        try:
            session = load_session(path)
        except ScenarioError as err:
            self.push_screen(ErrorDialog(str(path), err.problems))
            return False
        except (ValueError, OSError) as exc:
            self.push_screen(ErrorDialog(str(path), [str(exc)]))
            return False
        self.open_session(session)
        return True

    def open_scenario(self, scenario: Scenario) -> bool:
        """Open an already loaded scenario (the built-in demo)."""
        try:
            session = build_session(scenario)
        except ScenarioError as err:
            self.push_screen(ErrorDialog(scenario.meta.name, err.problems))
            return False
        self.open_session(session)
        return True

    def open_session(self, session: Session) -> None:
        screen = WorkspaceScreen(Lab(session, self.work_dir, kernels=self.kernels))
        if isinstance(self.screen, (WorkspaceScreen, CircuitScreen)):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    # -- global actions --------------------------------------------------------------------------
    def action_help(self) -> None:
        """The keys of the screen the help is opened from (the workspace's, or the gallery's)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(HelpScreen.context_of(self.screen)))

    def action_open(self) -> None:
        if isinstance(self.screen, OpenDialog):
            return

        def opened(path: Path | None) -> None:
            if path is not None:
                self.open_path(path)

        self.push_screen(OpenDialog(self.work_dir), callback=opened)

    def _handle_signals(self) -> None:
        """`kill -INT` / `kill -TERM` end the app like q does, so the terminal leaves the
        alternate screen and mouse tracking, with the exit status a shell expects (128 + signal)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.exit, None, 128 + int(sig))
            except (NotImplementedError, RuntimeError, ValueError):  # Windows, not the main thread
                pass

    def action_svg(self) -> None:
        """Save an SVG screenshot of the screen in the working folder (a notice if it cannot)."""
        try:
            path = self.save_screenshot(path=str(self.work_dir))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.notify(clean_line(f"Could not save a screenshot in {self.work_dir}: {reason}"),
                        title="Screenshot", severity="error", markup=False)
            return
        self.notify(clean_line(f"Saved {path}"), title="Screenshot", markup=False)

    def action_gallery(self) -> None:
        """Back from a workspace to the gallery."""
        if isinstance(self.screen, (WorkspaceScreen, CircuitScreen)) and len(self.screen_stack) > 2:
            self.pop_screen()      # the gallery lists its folder again when it resumes


def run_app(path: str | None = None) -> int:
    """Run the app (`nnsim` → gallery, `nnsim FILE` → that file's workspace); the exit status."""
    app = NnsimApp(path)
    app.handle_signals = True
    app.run()
    return int(app.return_code or 0)
