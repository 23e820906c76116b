"""The workspace's play loop: training in a thread worker that reports through messages."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.message import Message
from textual.screen import Screen
from textual.worker import get_current_worker

from nnsim.engine import DivergenceError

from ..controller import Frame, Lab
from ..pacing import Pacer


class Player(Screen[None]):
    """A screen that plays `lab` in a thread worker: `Lab.play_chunk` over and over (a few tens
    of milliseconds each, paced by the lab's speed), posting `Progress` after each chunk and
    checking for cancellation between them. Subclasses draw; this class only trains."""

    @dataclass
    class Progress(Message):
        """A play chunk finished (a burst collapses to the newest)."""

        frame: Frame

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, Player.Progress)

    @dataclass
    class Diverged(Message):
        """Training went non-finite; the worker has ended."""

        error: DivergenceError

    @dataclass
    class Stopped(Message):
        """Play worker number `run` ended (cancelled, epoch finished, lesson finished — its last
        epoch reached — or failed)."""

        run: int
        error: str | None = None
        finished: bool = False

    def __init__(self, lab: Lab) -> None:
        super().__init__()
        self.lab = lab
        self.playing = False
        self.frame = lab.frame()
        self._dirty = True
        self._runs = 0                    # play workers started (a stale Stopped is ignored)

    @work(thread=True, exclusive=True, group="play", exit_on_error=False)
    def _play_worker(self, to_epoch_end: bool, run: int) -> None:
        """The worker thread: chunks until cancelled, diverged, failed, the epoch ended (`e`),
        or play reached the lesson's last epoch (unless going on past it was chosen)."""
        worker = get_current_worker()
        pacer = Pacer()
        error: str | None = None
        finished = False
        while not worker.is_cancelled:
            due = pacer.due(None if to_epoch_end else self.lab.speed)
            if due == 0:
                worker.cancelled_event.wait(pacer.wait_time())
                continue
            try:
                frame = self.lab.play_chunk(due, to_epoch_end, stop_at_end=not to_epoch_end)
            except DivergenceError as err:
                self.post_message(self.Diverged(err))
                return
            except Exception as exc:  # noqa: BLE001 - reported, the app keeps running
                error = f"{type(exc).__name__}: {exc}"
                break
            pacer.add(frame.batches)
            self.post_message(self.Progress(frame))
            if (to_epoch_end and frame.epoch_ended) or frame.finished:
                finished = frame.finished
                break
        self.post_message(self.Stopped(run, error, finished))

    def start_playing(self, to_epoch_end: bool = False) -> None:
        """Train until paused (or to the end of the epoch)."""
        self.before_playing()
        self.playing = True
        self._runs += 1
        self._play_worker(to_epoch_end, self._runs)
        self._dirty = True

    def stop_playing(self) -> None:
        """Cancel the worker (it ends within one chunk)."""
        if self.playing:
            self.workers.cancel_group(self, "play")
            self.playing = False
            self._dirty = True

    def before_playing(self) -> None:
        """Called when play starts (subclasses clear their messages)."""
