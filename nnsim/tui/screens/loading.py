"""The first screen: warms the Numba kernels in a thread worker and shows progress."""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.containers import Center, Middle, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ProgressBar, Static

from ..warmup import WarmStep, warm_steps


class LoadingScreen(Screen[float]):
    """Compiles (first launch) or loads (later launches) the kernels; dismisses with the seconds."""

    @dataclass
    class Stepped(Message):
        """One warm-up step finished."""

        step: WarmStep

    @dataclass
    class Failed(Message):
        """Warming up raised; the app continues (kernels compile on first use instead)."""

        error: str

    def __init__(self) -> None:
        super().__init__()
        self._t0 = time.perf_counter()
        self._lines: list[str] = []

    def compose(self) -> ComposeResult:
        with Middle():
            with Center():
                with Vertical(id="loading-box"):
                    yield Static("nnsim", id="loading-title")
                    yield Static("Preparing the training kernels. The first launch compiles them "
                                 "with Numba (about 15–40 s); later launches load them from the cache.",
                                 id="loading-note")
                    yield ProgressBar(total=4, show_eta=False, id="loading-bar")
                    yield Static("", id="loading-log")

    def on_mount(self) -> None:
        self.set_interval(0.25, self._tick)
        self._warm()

    def _tick(self) -> None:
        elapsed = time.perf_counter() - self._t0
        self.query_one("#loading-log", Static).update(
            "\n".join(self._lines + [f"… {elapsed:.1f} s"]))

    @work(thread=True, exclusive=True, group="warmup", exit_on_error=False)
    def _warm(self) -> None:
        try:
            for step in warm_steps():
                self.post_message(self.Stepped(step))
        except Exception as exc:  # noqa: BLE001 - shown, then the app goes on
            self.post_message(self.Failed(f"{type(exc).__name__}: {exc}"))
            return

    def on_loading_screen_stepped(self, message: Stepped) -> None:
        s = message.step
        how = "from cache" if s.from_cache else "compiled"
        self._lines.append(f"✓ {s.label} ({how}, {s.seconds:.1f} s)")
        bar = self.query_one(ProgressBar)
        bar.update(total=s.total, progress=s.index)
        self._tick()
        if s.index == s.total:
            self.dismiss(time.perf_counter() - self._t0)

    def on_loading_screen_failed(self, message: Failed) -> None:
        self.notify(f"Could not warm the kernels: {message.error}", severity="warning")
        self.dismiss(time.perf_counter() - self._t0)
