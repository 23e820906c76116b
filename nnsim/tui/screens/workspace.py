"""The workspace: lesson, model panel, network + card, stepper, boundary, plots, status bar.

Training plays in a thread worker (see `Player`) that posts `Progress`; the screen redraws on a
timer at most `FPS` times a second, heavier views less often. Every other control is a short
call on the lab from the UI thread.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Select, Static, TabbedContent, TabPane

from nnsim.engine import DivergenceError
from nnsim.engine.checkpoint import CheckpointError
from nnsim.engine.gradcheck import GradCheckReport
from nnsim.numfmt import num
from nnsim.textsafe import clean
from nnsim.tui.usertext import user_text

from ..controller import Lab, checkpoint_beside
from ..lesson import lesson_end
from ..widgets import BoundaryView, CurveView, NetworkView, NeuronCard, PlotsPanel, StepperPanel
from ..widgets.autoencoder import AutoencoderView
from ..widgets.conv_card import ConvCard
from ..widgets.feature_maps import FeatureMapView
from ..widgets.recurrent_card import RecurrentCard
from ..widgets.sequence_plot import SequencePlot
from ..widgets.unrolled import UnrolledView
from .asks import LeaveDialog, LessonEndDialog, ResumeDialog
from .dialogs import GradCheckDialog
from .model_panel import ModelPanel
from .panels import (
    LessonPanel,
    LessonStrip,
    diagnosis_text,
    goals_of,
    history_text,
    status_text,
    warnings_text,
)
from .player import Player
from .views import Display

FPS = 25                      # redraw timer rate (frames per second at most)
#: While training plays: minimum seconds between redraws of each part (the card and the plots
#: are costly: a new card text re-lays out the screen, a plotext chart takes ~0.1-0.4 s).
PLAYING_EVERY = {"status": 0.2, "card": 1.0, "tab-boundary": 0.2, "tab-plots": 1.0}
TABS = ("tab-network", "tab-stepper", "tab-boundary", "tab-plots")
#: Side panel widths (nnsim.tcss) and the narrowest main view: below LESSON_W + MODEL_W +
#: MIN_MAIN columns one side panel shows at a time (the lesson as a strip above the views).
LESSON_W, MODEL_W, MIN_MAIN = 26, 31, 46
WIDE = LESSON_W + MODEL_W + MIN_MAIN + 7


class WorkspaceScreen(Player):
    """One scenario being trained."""

    BINDINGS = [
        # first, so that a narrow footer keeps them (the app's own come after the screen's)
        Binding("q", "app.quit", "Quit"),
        Binding("question_mark", "app.help", "Help"),
        Binding("space", "play", "Play/pause"),
        Binding("n", "step", "Batch"),
        Binding("e", "epoch", "Epoch"),
        Binding("f", "phase(1)", "Phase→"),
        Binding("b", "phase(-1)", "←Phase"),
        Binding("r", "reset(False)", "Reset", show=False),
        Binding("R", "reset(True)", "New seed", show=False),
        Binding("left_square_bracket", "lr(False)", "lr−", show=False),
        Binding("right_square_bracket", "lr(True)", "lr+", show=False),
        Binding("plus,equals_sign", "speed(True)", "Faster", show=False),
        Binding("minus", "speed(False)", "Slower", show=False),
        Binding("left", "history(-1)", "History", show=False, priority=True),
        Binding("right", "history(1)", "History", show=False, priority=True),
        Binding("shift+left", "column(-1)", "Layer", show=False),
        Binding("shift+right", "column(1)", "Layer", show=False),
        Binding("comma", "sample(-1)", "Sample", show=False),
        Binding("full_stop", "sample(1)", "Sample", show=False),
        Binding("w", "weight(1)", "Weight", show=False),
        Binding("W", "weight(-1)", "Weight", show=False),
        Binding("s", "save", "Save"),
        Binding("g", "gradcheck", "Grad check", show=False),
        Binding("1", "tab(0)", "Network", show=False),
        Binding("2", "tab(1)", "Stepper", show=False),
        Binding("3", "tab(2)", "Boundary", show=False),
        Binding("4", "tab(3)", "Plots", show=False),
        Binding("l", "side('lesson')", "Lesson", show=False),
        Binding("m", "side('model')", "Model", show=False),
        Binding("d", "discretize", "Discrete", show=False),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, lab: Lab) -> None:
        super().__init__(lab)
        self.views = Display(lab)
        self._drawn_at: dict[str, float] = {}
        self._notice = ""
        self._warned: tuple[str, ...] = ()       # health warnings last shown in the notice
        self._preparing = not lab.kernels_ready()   # a first launch compiles in the background
        self._refused = False                       # a training key was pressed meanwhile
        self._want = {"lesson": True, "model": True}  # side panels the student wants shown
        self._side = "model"                        # the one shown on a narrow terminal
        self._kept = (0, lab.scenario)              # (step, scenario) as opened or last saved

    # -- layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        kind = self.lab.session.dataset.input_kind
        layered = self.lab.trainer.net.layered      # conv/pool layers: feature maps and their card
        recurrent = self.lab.trainer.net.recurrent  # recurrent layers: unrolled in time
        yield LessonStrip("", id="lesson-strip")
        with Horizontal(id="ws-main"):
            yield LessonPanel(id="lesson")
            with TabbedContent(id="tabs", initial=self._initial_tab()):
                with TabPane("1 Network", id="tab-network"):
                    with Vertical(id="network-pane"):
                        # NetworkView alone in its box: Textual moves the focus of a hidden
                        # widget to a visible sibling, which would switch the tab back.
                        with Vertical(id="netview-box"):
                            yield (UnrolledView if recurrent else FeatureMapView if layered
                                   else NetworkView)(id="netview")
                        yield (RecurrentCard if recurrent else ConvCard if layered
                               else NeuronCard)(id="card")
                with TabPane("2 Stepper", id="tab-stepper"):
                    yield StepperPanel(id="stepper")
                ds = self.lab.session.dataset
                autoencoder = ds.target_shape is not None and ds.target_shape == ds.input_shape
                third = "3 Images" if autoencoder else "3 Sequence" if kind == "sequence" else "3 Boundary"
                with TabPane(third, id="tab-boundary"):
                    if kind == "plane":
                        yield BoundaryView(id="boundary")
                    elif kind == "line":
                        yield CurveView(id="curve")
                    elif autoencoder:          # inputs beside their reconstructions, 2-D codes
                        yield AutoencoderView(id="autoencoder")
                    elif kind == "sequence":   # one sequence: input, target, prediction
                        yield SequencePlot(id="sequence")
                    else:
                        yield Static(f"The decision boundary needs 2-D (plane) or 1-D (line) inputs; "
                                     f"this data set has {self.lab.trainer.net.input_dim} inputs.",
                                     id="no-boundary")
                with TabPane("4 Plots", id="tab-plots"):
                    yield PlotsPanel(id="plots")
            yield ModelPanel(self.lab, id="model")
        yield Static("", id="notice")
        yield Static("", id="status")
        yield Footer()

    def _initial_tab(self) -> str:
        panel = self.lab.scenario.view.panel
        return {"stepper": "tab-stepper", "boundary": "tab-boundary",
                "plots": "tab-plots"}.get(panel or "", "tab-network")

    def on_mount(self) -> None:
        self.query_one(LessonPanel).show(self.lab)
        self.views.set_data(self)
        self.query_one("#notice").display = False
        self._arrange(self.app.size.width)
        self.set_interval(1 / FPS, self._tick)
        view = self.query_one(NetworkView)
        if self._initial_tab() == "tab-network":
            view.focus()      # focusing it on another tab would switch to the network tab
        self.views.sel.neuron = (self.lab.trainer.net.n_dense - 1, 0)
        view.set_network(self.lab.trainer.net)
        view.select(*self.views.sel.neuron)
        self._redraw(force=True)
        ckpt = checkpoint_beside(self.lab.scenario.source_path)
        if ckpt is not None:
            self.call_after_refresh(self._offer_checkpoint, ckpt)

    def on_resize(self, event: events.Resize) -> None:
        self._arrange(event.size.width)
        self._drawn_at.pop("status", None)      # the status bar's wording depends on its width
        self._dirty = True

    def _arrange(self, width: int) -> None:
        """Lay out the side panels for `width` columns: both when they leave the main view
        MIN_MAIN columns, else one (the model panel unless `l` asked for the lesson) and the
        lesson as a two-line strip; none when even one would squeeze the main view."""
        lesson, model = self.query_one("#lesson"), self.query_one("#model")
        if width >= WIDE:
            lesson.display, model.display = self._want["lesson"], self._want["model"]
        else:
            side = self._side if self._want[self._side] else (
                "model" if self._want["model"] else "lesson" if self._want["lesson"] else None)
            room = width - (LESSON_W if side == "lesson" else MODEL_W) >= MIN_MAIN
            lesson.display = side == "lesson" and room
            model.display = side == "model" and room
        self.query_one(LessonStrip).display = not lesson.display
        if lesson.display:            # what was hidden may be stale: the goals as they are now
            self.query_one(LessonPanel).show_goals(self.lab)
        else:
            self.query_one(LessonStrip).show(self.lab)

    # -- drawing -----------------------------------------------------------------------------------
    def _tick(self) -> None:
        now = time.perf_counter()     # Textual's timer can fire early when it catches up
        if self._preparing:
            self._show_preparing()
        if self._dirty and now - self._drawn_at.get("tick", -1.0) >= 0.95 / FPS:
            self._drawn_at["tick"] = now
            self._redraw()

    def _due(self, what: str, now: float, every: float) -> bool:
        if now - self._drawn_at.get(what, -1e9) >= every:
            self._drawn_at[what] = now
            return True
        return False

    def _redraw(self, force: bool = False) -> None:
        """Paused (or forced): everything. Playing: one part per frame, the status bar about
        5 times a second and the visible view on the other frames (slow views less often), so
        each frame repaints a small rectangle: Textual repaints the box around all changes."""
        if not self.is_mounted:
            return
        now = time.perf_counter()
        self._dirty = False
        if force or not self.playing:
            self._draw_status()
            self._draw_view(card=True)
            return
        self._dirty = True
        if self._due("status", now, PLAYING_EVERY["status"]):
            self._draw_status()
            return
        tab = self.query_one(TabbedContent).active
        if self._due(tab, now, PLAYING_EVERY.get(tab, 0.0)):
            self._draw_view(card=self._due("card", now, PLAYING_EVERY["card"]))

    def _draw_status(self) -> None:
        status = self.query_one("#status", Static)
        text = status_text(self.lab, self.frame, self.playing, status.size.width)
        status.update(text, layout=False)   # fixed height: no re-layout
        if self.query_one("#lesson").display:
            self.query_one(LessonPanel).show_goals(self.lab)
        else:
            self.query_one(LessonStrip).show(self.lab)

    def _draw_view(self, card: bool) -> None:
        """The visible tab's view; the neuron card only when `card`."""
        self.views.draw_tab(self, self.query_one(TabbedContent).active, card)

    def refresh_all(self) -> None:
        """After a reset, an edit or a step: new frame, redraw now."""
        self.frame = self.lab.frame()
        self._show_warnings()
        self._redraw(force=True)

    def _show_warnings(self) -> None:
        """A new epoch's health warnings go to the notice line (once, when they change)."""
        rec = self.frame.record
        warned = tuple(rec.warnings) if rec is not None else ()
        if warned != self._warned:
            self._warned = warned
            if warned:
                self.notice(warnings_text(list(warned)))

    def notice(self, text: str | Text, error: bool = False) -> None:
        """One line above the status bar (hidden when empty). Shown as text: a string is never
        read as markup, and control characters are dropped (it may quote a file or a name)."""
        if isinstance(text, str) or clean(text.plain) != text.plain:
            text = user_text(text if isinstance(text, str) else text.plain,
                             style="" if isinstance(text, str) else text.style)
        box = self.query_one("#notice", Static)
        if str(text) == self._notice:
            return
        self._notice = str(text)
        box.update(text)
        box.display = bool(str(text))
        box.set_class(error, "-error")

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        if self.query_one(TabbedContent).active == "tab-network" and self.focused is None:
            self.query_one(NetworkView).focus()
        self._redraw(force=True)

    @on(BoundaryView.GridResized)
    def _grid_resized(self) -> None:
        self._dirty = True

    @on(NetworkView.NeuronSelected)
    def _neuron_selected(self, event: NetworkView.NeuronSelected) -> None:
        if self.views.sel.neuron != (event.layer, event.unit):
            self.views.sel.weight = 0
        self.views.sel.neuron = (event.layer, event.unit)
        self._redraw(force=True)

    @on(ModelPanel.Changed)
    def _model_changed(self, event: ModelPanel.Changed) -> None:
        self.notice(Text(event.outcome.message, style="yellow" if event.outcome.reinitialised else ""))
        if event.outcome.reinitialised:
            self.notify(clean(event.outcome.message), title="Weights re-initialised", severity="warning",
                        markup=False)
        self.refresh_all()

    @on(ModelPanel.Refused)
    def _model_refused(self, event: ModelPanel.Refused) -> None:
        self.notice(Text("✗ " + event.reason), error=True)

    # -- the play worker -----------------------------------------------------------------------------
    def before_playing(self) -> None:
        if self.lab.diverged is not None:
            self.notice("")

    def on_player_progress(self, message: Player.Progress) -> None:
        self.frame = message.frame
        self._show_warnings()
        self._dirty = True

    def on_player_stopped(self, message: Player.Stopped) -> None:
        if message.run != self._runs:     # an older run, cancelled when this one started
            return
        self.playing = False
        self.frame = self.lab.frame()
        if message.error:
            self.notice(f"Training stopped: {message.error}", error=True)
        self._dirty = True
        if message.finished:
            self.refresh_all()
            self.show_lesson_end()

    def show_lesson_end(self) -> None:
        """The summary at the lesson's last epoch; going on past it is the student's choice."""
        lab = self.lab
        goals = goals_of(lab)
        end = lesson_end(lab.trainer.epoch, lab.end_epoch, goals, self.frame.record,
                         lab.scenario.meta.description)
        marks = " ".join(("✓ " if g.met else "✗ ") + g.text for g in goals) or "no goals set"
        self.notice(f"End of the lesson at epoch {end.epoch}: {marks}. space trains on, "
                    "r starts over.")

        def chosen(choice: str | None) -> None:
            if choice == "on":
                lab.past_end = True
                self.notice(f"Training on past epoch {lab.end_epoch} (space pauses).")
                self.start_playing()
            elif choice == "reset":
                self.action_reset(False)

        self.app.push_screen(LessonEndDialog(end), callback=chosen)

    def on_player_diverged(self, message: Player.Diverged) -> None:
        self.playing = False
        self.show_divergence(message.error)

    def show_divergence(self, err: DivergenceError) -> None:
        """Pause, mark the layer and the step, say what to try; the app keeps running."""
        self.notice(diagnosis_text(err, self._weights_max()), error=True)
        self.notify(f"Diverged at step {err.step}, layer {err.layer}: paused.", severity="error")
        self.refresh_all()

    # -- actions -----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Arrow keys stay with text fields and menus; elsewhere they move through history."""
        if action == "history" and isinstance(self.focused, (Input, Select)):
            return False
        return True

    def _show_preparing(self) -> None:
        """On a first launch: what is compiling, in the notice line; once ready, clear it and
        draw the views that need the kernels (boundary, curve)."""
        status = self.lab.kernels_status()
        if status:
            hint = (" — press the key again once it is ready" if self._refused
                    else "; training keys work once ready")
            self.notice(Text(status + hint, style="bold" if self._refused else "italic"))
            return
        self._preparing = False
        error = self.lab.kernels.error if self.lab.kernels is not None else None
        if error:
            self.notice(f"Could not prepare the kernels ({error}); they compile on first use "
                        "instead.", error=True)
        else:
            self.notice("")
        self.refresh_all()

    def _kernels_ready(self) -> bool:
        """False (with a notice) while a first launch still compiles the kernels."""
        if self.lab.kernels_ready():
            return True
        self._refused = True
        self._show_preparing()
        return False

    def _weights_max(self) -> float:
        """The largest |weight| of the live network (what a diverged run leaves behind)."""
        P = np.asarray(self.lab.trainer.net.P, dtype=np.float64)
        finite = P[np.isfinite(P)]
        return float(np.abs(finite).max()) if finite.size else float("inf")

    def _fresh(self) -> None:
        """A new action: the last notice goes (the divergence diagnosis stays while diverged)."""
        if self.lab.diverged is None:
            self.notice("")

    def _guarded(self, fn: object, *args: object) -> object:
        self.stop_playing()
        try:
            result = fn(*args)  # type: ignore[operator]
        except DivergenceError as err:
            self.show_divergence(err)
            return None
        self.notice("")
        self.refresh_all()
        return result

    def action_play(self) -> None:
        if self.playing:
            self.stop_playing()
        elif self.lab.at_end:               # past the lesson's end only when asked to
            self.show_lesson_end()
        else:
            self._fresh()
            self.start_playing()

    def action_step(self) -> None:
        if self._kernels_ready():
            self._guarded(self.lab.step_batch)

    def action_epoch(self) -> None:
        self._fresh()
        self.stop_playing()
        self.start_playing(to_epoch_end=True)

    def action_phase(self, delta: int) -> None:
        if not self._kernels_ready():
            return
        if delta < 0 and self.lab.phase_index <= 0:
            self.stop_playing()
            self.notice("This is the first phase of the step (nothing before it); f goes forward."
                        if self.lab.phase is not None else
                        "No step in progress yet: f starts one at its first phase.")
            return
        ph = self._guarded(self.lab.phase_forward if delta > 0 else self.lab.phase_back)
        if ph is not None and self.query_one(TabbedContent).active != "tab-stepper":
            # the phases are written out in the stepper, whichever tab the lesson opened on
            self.query_one(TabbedContent).active = "tab-stepper"
            self._redraw(force=True)

    def action_reset(self, new_seed: bool) -> None:
        diverged = self.lab.diverged
        seed = self._guarded(self.lab.reset, new_seed)
        lr = num(self.lab.trainer.base_lr, trim=True)
        self.notice(f"Weights re-initialised with seed {seed}; training starts over"
                    + (f" at learning rate {lr}: lower it with [ before space if it diverged at "
                       "this rate." if diverged is not None else "."))

    def action_lr(self, up: bool) -> None:
        """The status bar and the lr field show the new rate (no re-layout while playing)."""
        self._fresh()
        self.lab.nudge_learning_rate(up)
        self.query_one(ModelPanel).sync_field("tr", "learning_rate")
        if self.lab.diverged is not None:
            lr = num(self.lab.trainer.base_lr, trim=True)
            self.notice(f"Learning rate {lr}. The weights are still the diverged ones (largest "
                        f"|w| {num(self._weights_max())}): press r to reset them, then space.",
                        error=True)
        self._status_soon()

    def _status_soon(self) -> None:
        """Paused: redraw now. Playing: the status bar at the next tick (the next progress
        message brings the new frame)."""
        if not self.playing:
            self.refresh_all()
        self._drawn_at.pop("status", None)
        self._dirty = True

    def action_speed(self, faster: bool) -> None:
        self._fresh()
        self.lab.change_speed(faster)
        self._status_soon()

    def action_history(self, delta: int) -> None:
        self.stop_playing()
        snap = self.lab.browse(delta)
        err = self.lab.diverged
        if snap is None and err is not None:       # back to live: the diagnosis again
            self.notice(diagnosis_text(err, self._weights_max()), error=True)
        elif snap is None:
            self.notice("live: the newest step" if len(self.lab.timeline) else "no steps stored yet")
        else:
            self.notice(history_text(self.lab, snap), error=err is not None)
        self.refresh_all()

    def action_column(self, delta: int) -> None:
        self._fresh()
        self.query_one(NetworkView).action_move(delta, 0)

    def action_sample(self, delta: int) -> None:
        self.notice(self.views.move_sample(delta))
        self.refresh_all()

    def action_weight(self, delta: int) -> None:
        """`w` / `W`: the card's next / previous incoming weight (the one `g` wiggles)."""
        self.notice(self.views.move_weight(delta))
        self.refresh_all()

    def action_save(self) -> None:
        """In a thread worker: writing the files never blocks the keys; the notice line says
        when it is done or what failed."""
        self.stop_playing()
        self.notice(Text("saving …", style="italic"))
        self._save_worker()

    @work(thread=True, exclusive=True, group="save", exit_on_error=False)
    def _save_worker(self) -> None:
        try:
            toml_path, ckpt_path = self.lab.save()
        except (OSError, ValueError) as exc:
            self.app.call_from_thread(self.notice, Text(f"Could not save: {exc}"), True)
            return
        self.app.call_from_thread(self._saved, toml_path, ckpt_path)

    def _saved(self, toml_path: Path, ckpt_path: Path) -> None:
        self._kept = (self.lab.trainer.step, self.lab.scenario)
        self.notice(Text(f"saved {toml_path.name} and {ckpt_path.name} in {toml_path.parent}"))
        self.notify(f"Saved {toml_path} and {ckpt_path}", title="Saved", markup=False)

    def action_gradcheck(self) -> None:
        """In a thread worker: the check trains a float64 twin, whose kernels a first launch
        has to compile."""
        self.stop_playing()
        self.notice(Text("gradient check: computing (in float64) …", style="italic"))
        self._gradcheck_worker()

    @work(thread=True, exclusive=True, group="gradcheck", exit_on_error=False)
    def _gradcheck_worker(self) -> None:
        if self.lab.kernels is not None:
            self.lab.kernels.wait("float64")
        weight = self.views.selected_weight()
        try:
            report = self.lab.gradient_check(weight=weight)
        except (ValueError, ImportError) as exc:
            self.app.call_from_thread(self.notice, f"Gradient check failed: {exc}", True)
            return
        self.app.call_from_thread(self._gradcheck_done, report, weight)

    def _gradcheck_done(self, report: GradCheckReport, weight: tuple[int, int, int] | None) -> None:
        self.notice("")
        self.app.push_screen(GradCheckDialog(
            report, lambda h: self.lab.gradient_check(h=h, weight=weight)))

    def action_tab(self, index: int) -> None:
        self._fresh()
        self.query_one(TabbedContent).active = TABS[index]

    def action_side(self, panel: str) -> None:
        """`l` / `m`: show or hide the lesson / model panel. On a narrow terminal showing one
        hides the other (the lesson strip stands in for the lesson panel)."""
        self._fresh()
        shown = self.query_one(f"#{panel}").display
        self._want[panel] = not shown
        if not shown:
            self._side = panel
        self._arrange(self.size.width or self.app.size.width)
        self._redraw(force=True)

    def action_discretize(self) -> None:
        self._fresh()
        for view in self.query(BoundaryView):
            view.discretize = not view.discretize

    def unsaved(self) -> str:
        """What leaving would discard ("" when nothing): training since the last save, edits."""
        step, scenario = self._kept
        parts = []
        t = self.lab.trainer
        if t.step != step:
            parts.append(f"{t.step} training step{'s' if t.step != 1 else ''} (epoch {t.epoch + 1})")
        if self.lab.scenario != scenario:
            parts.append("your edits to the model")
        return " and ".join(parts)

    def action_back(self) -> None:
        if isinstance(self.focused, (Input, Select)) or self.focused in self.query_one(ModelPanel).query("*"):
            self.query_one(NetworkView).focus()
            return
        self.stop_playing()
        lost = self.unsaved()
        if not lost:
            self.app.action_gallery()  # type: ignore[attr-defined]
            return

        def chosen(choice: str | None) -> None:
            if choice == "save":
                try:
                    self.lab.save()
                except (OSError, ValueError) as exc:
                    self.notice(Text(f"Could not save: {exc}"), error=True)
                    return
            if choice in ("save", "leave"):
                self.app.action_gallery()  # type: ignore[attr-defined]

        self.app.push_screen(LeaveDialog(lost), callback=chosen)

    def _offer_checkpoint(self, ckpt: Path) -> None:
        """Opening a scenario saved with `s`: offer to load the checkpoint beside it."""

        def chosen(choice: str | None) -> None:
            if choice != "load":
                self.notice(Text(f"Started fresh; {ckpt.name} is left as it is."))
                return
            try:
                epoch = self.lab.load_checkpoint(ckpt)
            except CheckpointError as exc:
                self.notice(Text(f"Could not load {ckpt.name}: {exc}"), error=True)
                return
            self._kept = (self.lab.trainer.step, self.lab.scenario)
            self.notice(Text(f"Loaded {ckpt.name}: training resumes after epoch {epoch} "
                             f"(step {self.lab.trainer.step})."))
            self.refresh_all()

        self.app.push_screen(ResumeDialog(ckpt), callback=chosen)

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "play")
