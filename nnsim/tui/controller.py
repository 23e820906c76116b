"""The workspace's training controller: stepping, phases, chunked play, history, divergence,
saving and gradient checks. Imports no textual; the workspace screen drives it.

Every method that touches the trainer holds `lock`, so the play worker (a thread) and the UI
never use the trainer at the same time; a play chunk holds it for a few tens of milliseconds.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from nnsim.engine import DivergenceError, EpochRecord, Network, Phase, StepTrace, Trainer
from nnsim.engine.gradcheck import GradCheckReport
from nnsim.engine.trace import step_phases
from nnsim.scenarios import Scenario, save_scenario

from .pacing import CHUNK_SECONDS, RateMeter
from .session import Session, slug
from .timeline import Snapshot, Timeline
from .warmup import Warmup, layered_tags

#: Training speeds for `+`/`-`, in mini-batches per second; None means as fast as possible.
SPEEDS: tuple[float | None, ...] = (1, 3, 10, 30, 100, 300, 1000, 3000, 10000, None)
#: Without `[view] speed`, play starts at the slowest speed that trains the lesson's epochs in
#: about this many seconds (as fast as possible when even 10000 per second is slower).
LESSON_SECONDS = 20.0
#: At or below this speed every mini-batch is traced (the stepper and card follow along).
TRACE_RATE = 30.0
#: Learning rates `[` and `]` move between.
LR_LADDER = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


@dataclass(frozen=True)
class Frame:
    """Copies of what the UI draws, taken between chunks (safe to read from the UI thread)."""

    step: int
    epoch: int
    batch: int
    batches_per_epoch: int
    samples_seen: int
    batches: int                 # mini-batches trained in this chunk
    loss: float | None           # last mini-batch loss
    record: EpochRecord | None   # latest epoch record
    learning_rate: float
    steps_per_s: float
    trace: StepTrace | None = None
    epoch_ended: bool = False
    finished: bool = False       # play stopped at the lesson's last epoch


def speed_index_for(speed: float | None, total_batches: int) -> int:
    """The SPEEDS step play starts at: the nearest to `speed` (a lesson's `[view] speed`), else
    the slowest that trains `total_batches` in about LESSON_SECONDS."""
    steps = [s for s in SPEEDS if s is not None]
    if speed is not None:
        return min(range(len(steps)), key=lambda i: abs(np.log(steps[i] / speed)))
    want = total_batches / LESSON_SECONDS
    return next((i for i, s in enumerate(steps) if s >= want), len(SPEEDS) - 1)


def checkpoint_beside(path: Path | None) -> Path | None:
    """The checkpoint `s` writes beside scenario file `path` (NAME.toml → NAME.ckpt.npz), if any."""
    if path is None:
        return None
    ckpt = Path(path).with_name(Path(path).stem + ".ckpt.npz")
    return ckpt if ckpt.is_file() else None


def phases_of(trace: StepTrace) -> list[Phase]:
    """Every phase of a finished step, in order (a recurrent layer step by step through time)."""
    return step_phases(trace)


class Lab:
    """One scenario being trained in the workspace."""

    def __init__(self, session: Session, work_dir: Path | None = None,
                 kernels: Warmup | None = None) -> None:
        self.session = session
        self.kernels = kernels               # background kernel preparation (None: on first use)
        if kernels is not None:
            kernels.start(self.dtype)
            if session.trainer.net.layered:
                kernels.start(self.kernels_key)
        self.work_dir = Path(work_dir) if work_dir is not None else Path.cwd()
        self.lock = threading.RLock()
        self.timeline = Timeline()
        self.cursor: int | None = None       # index into the timeline while browsing
        self.diverged: DivergenceError | None = None
        t = session.trainer
        self.speed_index = speed_index_for(session.scenario.view.speed,
                                           session.scenario.training.epochs * t.batches_per_epoch)
        self.past_end = False                # play goes on past the lesson's last epoch
        self.rate = RateMeter()
        self.last_trace: StepTrace | None = None
        self.phases: list[Phase] = []
        self.phase_index = -1
        self._walk: Iterator[Phase] | None = None
        self._view_net: Network | None = None
        self.goal_cache: tuple[Any, Any] | None = None   # (key, goals) kept by the status bar
        self._view_src: Network | None = None

    # -- accessors -------------------------------------------------------------------------
    @property
    def dtype(self) -> str:
        return str(self.session.trainer.net.dtype)

    @property
    def kernels_key(self) -> str:
        """The warm-up this lesson waits for: its dtype, plus for a network that is not all
        dense the variants of the layered kernels it runs (e.g. "float32 cnn")."""
        t = self.session.trainer
        if not t.net.layered:
            return self.dtype
        return self.dtype + " " + "+".join(layered_tags(t.net, t.batch_size))

    def kernels_ready(self) -> bool:
        """True once the kernels this lesson needs are compiled or loaded (training calls made
        before then would compile them in the calling thread). An edit that changes the
        network's kernel variant starts that variant's warm-up here."""
        if self.kernels is None:
            return True
        key = self.kernels_key
        self.kernels.start(key)
        return self.kernels.ready(key)

    def kernels_status(self) -> str:
        """What is being prepared, for the status bar ('' once ready)."""
        return "" if self.kernels is None else self.kernels.status(self.kernels_key)

    @property
    def trainer(self) -> Trainer:
        return self.session.trainer

    @property
    def scenario(self) -> Scenario:
        return self.session.scenario

    @property
    def phase(self) -> Phase | None:
        """The stepper's current phase (None before any step)."""
        return self.phases[self.phase_index] if 0 <= self.phase_index < len(self.phases) else None

    @property
    def walking(self) -> bool:
        """True in the middle of a step walked with `f` (the update not yet applied)."""
        return self._walk is not None

    @property
    def speed(self) -> float | None:
        return SPEEDS[self.speed_index]

    @property
    def end_epoch(self) -> int:
        """The lesson's last epoch (`training.epochs`): play stops there."""
        return int(self.scenario.training.epochs)

    @property
    def at_end(self) -> bool:
        """True when play would stop: the lesson's epochs are done and going on was not chosen."""
        return not self.past_end and self.trainer.epoch >= self.end_epoch

    def batches_to_end(self) -> int:
        """Mini-batches left until the end of the lesson's last epoch (0 when there)."""
        t = self.trainer
        if t.epoch >= self.end_epoch:
            return 0
        return (t.batches_per_epoch - t.batch) + (self.end_epoch - t.epoch - 1) * t.batches_per_epoch

    def speed_label(self) -> str:
        s = self.speed
        return "max" if s is None else f"{s:g}/s"

    # -- bookkeeping -----------------------------------------------------------------------
    def _snapshot(self, batches: int, loss: float, trace: StepTrace | None = None) -> Snapshot:
        t = self.trainer
        self.rate.add(t.step)
        t.sync_to_host()   # cuda: the weights and gradients the screen shows come back
        return self.timeline.add(t.step, t.epoch, t.batch, batches, loss, t.net.P, t.net.G, trace)

    def _record_divergence(self, err: DivergenceError) -> None:
        self.diverged = err
        self._close_walk()

    def _close_walk(self) -> None:
        if self._walk is not None:
            self._walk.close()  # type: ignore[attr-defined]
            self._walk = None
            self.phases, self.phase_index = [], -1

    def _finish_walk(self) -> StepTrace | None:
        """Run an open walk to its end (applying its update); returns its trace."""
        if self._walk is None:
            return None
        walk, self._walk = self._walk, None
        for ph in walk:
            self.phases.append(ph)
        self.phase_index = len(self.phases) - 1
        trace = self.phases[-1].trace
        self._after_traced(trace)
        return trace

    def _after_traced(self, trace: StepTrace) -> None:
        self.last_trace = trace
        self.diverged = None
        self._snapshot(1, trace.loss, trace)

    def frame(self, batches: int = 0, epoch_ended: bool = False) -> Frame:
        """The current state as a Frame."""
        t = self.trainer
        h = t.history
        return Frame(step=t.step, epoch=t.epoch, batch=t.batch, batches_per_epoch=t.batches_per_epoch,
                     samples_seen=t.samples_seen, batches=batches,
                     loss=h.last_batch_loss, record=h.last_epoch, learning_rate=t.learning_rate,
                     steps_per_s=self.rate.rate(), trace=self.last_trace, epoch_ended=epoch_ended)

    # -- stepping --------------------------------------------------------------------------
    def step_batch(self) -> StepTrace:
        """`n`: one traced mini-batch (finishing a walked step first if one is open)."""
        with self.lock:
            self.cursor = None
            done = self._finish_walk()
            if done is not None:
                return done
            try:
                _, trace, _ = self.trainer.step_batch(trace=True)
            except DivergenceError as err:
                self._record_divergence(err)
                raise
            assert trace is not None
            self.phases = phases_of(trace)
            self.phase_index = len(self.phases) - 1
            self._after_traced(trace)
            return trace

    def phase_forward(self) -> Phase:
        """`f`: the next phase of the current step (a new step starts after its update)."""
        with self.lock:
            self.cursor = None
            if self.phase_index < len(self.phases) - 1:
                self.phase_index += 1
                return self.phases[self.phase_index]
            if self._walk is None:
                self.phases, self.phase_index = [], -1
                self._walk = self.trainer.walk_step()
            try:
                ph = next(self._walk)
            except DivergenceError as err:
                self._walk = None
                self._record_divergence(err)
                raise
            self.phases.append(ph)
            self.phase_index = len(self.phases) - 1
            if ph.kind == "update":
                self._walk.close()  # type: ignore[attr-defined]
                self._walk = None
                self._after_traced(ph.trace)
            return ph

    def phase_back(self) -> Phase | None:
        """`b`: the previous phase (display only; an applied update stays applied)."""
        with self.lock:
            self.cursor = None
            if self.phase_index > 0:
                self.phase_index -= 1
            return self.phase

    def play_chunk(self, max_batches: int | None = None, to_epoch_end: bool = False,
                   stop_at_end: bool = False) -> Frame:
        """Train for about CHUNK_SECONDS (or `max_batches`); traced when the speed is slow.
        With `stop_at_end`, never past the lesson's last epoch (unless `past_end` was chosen):
        the frame says `finished` when it gets there.

        Raises DivergenceError (recorded in `diverged`) when training goes non-finite. Waits
        (outside the lock) for the kernels on a first launch.
        """
        if self.kernels is not None:
            self.kernels.wait(self.kernels_key)
        with self.lock:
            self.cursor = None
            self._finish_walk()
            t = self.trainer
            start_step, ended = t.step, False
            deadline = time.perf_counter() + CHUNK_SECONDS
            cap = max_batches if max_batches is not None else 1 << 30
            limited = stop_at_end and not self.past_end
            if limited:
                cap = min(cap, self.batches_to_end())
                if cap <= 0:
                    return dataclasses.replace(self.frame(), finished=True)
            traced = self.speed is not None and self.speed <= TRACE_RATE
            try:
                while t.step - start_step < cap:
                    if traced:
                        _, trace, rec = t.step_batch(trace=True)
                        assert trace is not None
                        self.phases = phases_of(trace)
                        self.phase_index = len(self.phases) - 1
                        self._after_traced(trace)
                        ended = rec is not None
                    else:
                        losses, rec = t.play(cap - (t.step - start_step))
                        self._snapshot(len(losses), float(losses[-1]))
                        ended = rec is not None
                    if (to_epoch_end and ended) or time.perf_counter() >= deadline:
                        break
            except DivergenceError as err:
                self._record_divergence(err)
                raise
            if not traced:
                self.diverged, self.last_trace = None, None
                self.phases, self.phase_index = [], -1
            frame = self.frame(t.step - start_step, ended)
            if limited and t.epoch >= self.end_epoch:
                frame = dataclasses.replace(frame, finished=True)
            return frame

    # -- resets, learning rate, speed --------------------------------------------------------
    def reset(self, new_seed: bool = False) -> int:
        """`r`/`R`: fresh weights (same seed, or a new one) and training from the start."""
        with self.lock:
            self._close_walk()
            seed = None
            if new_seed:
                seed = int(np.random.default_rng().integers(1, 2**31 - 1))
            self.trainer.reset(seed)
            self.timeline.clear()
            self.rate.clear()
            self.cursor, self.diverged, self.last_trace = None, None, None
            self.phases, self.phase_index = [], -1
            self.past_end = False
            return self.trainer.net.seed

    def nudge_learning_rate(self, up: bool) -> float:
        """`[`/`]`: the next learning rate on the ladder below or above the current one."""
        with self.lock:
            lr = self.trainer.base_lr
            options = [v for v in LR_LADDER if (v > lr * 1.0001 if up else v < lr * 0.9999)]
            if options:
                new = min(options) if up else max(options)
                self.trainer.learning_rate = new
                self._set_training(learning_rate=new)
            return self.trainer.base_lr

    def _set_training(self, **values: object) -> None:
        s = self.scenario
        self.session.scenario = s.model_copy(
            update={"training": s.training.model_copy(update=values)})

    def change_speed(self, faster: bool) -> str:
        self.speed_index = max(0, min(len(SPEEDS) - 1, self.speed_index + (1 if faster else -1)))
        return self.speed_label()

    # -- history -----------------------------------------------------------------------------
    def browse(self, delta: int) -> Snapshot | None:
        """`←`/`→`: move through stored steps; past the newest returns to the live state."""
        with self.lock:
            n = len(self.timeline)
            if n == 0:
                return None
            pos = n - 1 if self.cursor is None else self.cursor
            pos += delta
            if pos >= n - 1 and delta > 0:
                self.cursor = None
                return None
            self.cursor = max(0, min(n - 1, pos))
            return self.timeline[self.cursor]

    @property
    def browsed(self) -> Snapshot | None:
        return self.timeline[self.cursor] if self.cursor is not None else None

    def network_at(self, snap: Snapshot | None) -> Network:
        """The live network, or a copy holding a stored snapshot's weights."""
        net = self.trainer.net
        if snap is None:
            return net
        if self._view_net is None or self._view_src is not net:
            self._view_net = Network(net.input_dim, copy.deepcopy(net.layers), dtype=str(net.dtype),
                                     input_shape=net.input_shape,
                                     seed=net.seed)
            self._view_src = net
        self._view_net.P[:] = snap.P
        return self._view_net

    # -- saving and checking -----------------------------------------------------------------
    def save(self, folder: Path | None = None) -> tuple[Path, Path]:
        """`s`: the scenario with its edits (TOML) and a checkpoint, both written atomically, as
        STEM.toml and STEM.ckpt.npz in `folder` (default: the working folder), STEM being the
        opened file's name (so a file of that folder is updated in place). The trainer's state is
        copied under the lock (milliseconds: the history is bounded); the files are written
        after it is released, so the app may call this from a thread while play goes on."""
        from nnsim.engine.checkpoint import checkpoint_arrays, write_checkpoint
        folder = Path(folder) if folder is not None else self.work_dir
        with self.lock:
            scenario = self.scenario
            src = scenario.source_path
            stem = src.stem if src is not None else slug(scenario.meta.name)
            toml_path, ckpt_path = folder / f"{stem}.toml", folder / f"{stem}.ckpt.npz"
            arrays = checkpoint_arrays(self.trainer)
        save_scenario(scenario, toml_path)
        write_checkpoint(arrays, ckpt_path)
        return toml_path, ckpt_path

    def load_checkpoint(self, path: Path) -> int:
        """Restore a checkpoint written by `s` (weights, optimizer state, counters, history);
        returns the epoch it resumes after. CheckpointError when it does not fit."""
        from nnsim.engine.checkpoint import load_checkpoint
        with self.lock:
            self.reset()
            load_checkpoint(self.trainer, path)
            return self.trainer.epoch

    def gradient_check(self, h: float | None = None,
                       weight: tuple[int, int, int] | None = None) -> GradCheckReport:
        """`g`: one weight per tensor wiggled by ±h (`weight` = (dense layer, i, j), the card's
        selected W[i, j], and its bias; else each tensor's largest |dL/dw|), then every
        tensor's relative error of analytic vs numerical gradients."""
        from nnsim.engine.gradcheck import DEFAULT_H, check_report
        with self.lock:
            return check_report(self.trainer, h=DEFAULT_H if h is None else h, selected=weight)


def save_weights(trainer: Trainer, path: Path) -> None:
    """Write a checkpoint with the engine's atomic writer."""
    from nnsim.engine.checkpoint import save_checkpoint
    save_checkpoint(trainer, path)
