"""The circuit screen: a circuit's gates as boxes and wires, walked gate by gate.

`f` / `b` step through the forward pass then the backward pass one gate at a time (and back);
`n` tugs every input by step × gradient; the card below the graph writes out what the selected
gate does (its rule, local × upstream), `g` shows every input's numerical gradient beside the
analytic one, `c` races random local search against the gradients.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from nnsim.scenarios.circuit import CircuitScenario
from nnsim.scenarios.circuit_goals import circuit_goal_texts
from nnsim.textsafe import clean, clean_line

from ..circuit_lab import CircuitLab
from ..widgets.circuit_card import compare_text, gate_card, n4, numerical_table
from ..widgets.circuit_view import CircuitView
from .panels import reflow

WIDE = 110          # from this many columns on, the lesson text shows at the left


class CircuitScreen(Screen[None]):
    """One circuit scenario."""

    BINDINGS = [
        Binding("f", "phase(1)", "Gate→"),
        Binding("b", "phase(-1)", "←Gate"),
        Binding("n", "tug", "Tug"),
        Binding("g", "pane('numerical')", "Num vs ana"),
        Binding("c", "pane('compare')", "Compare"),
        Binding("r", "reset", "Reset", show=False),
        Binding("left_square_bracket", "step_size(False)", "step−", show=False),
        Binding("right_square_bracket", "step_size(True)", "step+", show=False),
        Binding("l", "lesson", "Lesson", show=False),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, scenario: CircuitScenario) -> None:
        super().__init__()
        self.lab = CircuitLab(scenario)
        self.pane = "card"          # the bottom pane: card, numerical or compare
        self.notice = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="circuit-status")
        with Horizontal(id="circuit-main"):
            with VerticalScroll(id="circuit-lesson"):
                yield Static("", id="circuit-lesson-text")
            with Vertical(id="circuit-right"):
                yield CircuitView(id="circuit-view")
                with VerticalScroll(id="circuit-pane"):
                    yield Static("", id="circuit-card")
        yield Footer()

    def on_mount(self) -> None:
        view = self.query_one(CircuitView)
        scenario = self.lab.scenario
        selected = scenario.view.selected
        index = self.lab.circuit.index.get(selected, len(self.lab.circuit.nodes) - 1) if selected else None
        view.show(self.lab.circuit, self.lab.walk)
        if index is not None:
            view.select(index)
        elif self.lab.walk.phase.gate is not None:
            view.select(self.lab.walk.phase.gate)
        else:
            view.select(0)
        view.focus()
        self.query_one("#circuit-lesson").display = self.app.size.width >= WIDE
        self.refresh_all()

    # -- drawing -------------------------------------------------------------------------------
    def refresh_all(self) -> None:
        lab = self.lab
        view = self.query_one(CircuitView)
        view.show(lab.circuit, lab.walk)
        self.query_one("#circuit-status", Static).update(self.status_text())
        self.query_one("#circuit-card", Static).update(self.pane_text())
        self.query_one("#circuit-lesson-text", Static).update(self.lesson_text())

    def status_text(self) -> Text:
        lab = self.lab
        text = Text()
        text.append(lab.walk.phase.label, style="bold")
        out = lab.walk.value(len(lab.circuit.nodes) - 1)
        text.append(f" · output {n4(out)} · tugs {lab.tugs} · step {lab.step_size:g} "
                    f"{'↑' if lab.spec.direction == 'increase' else '↓'}")
        goals = lab.goals()
        if goals:
            text.append(" · goals")
            for g in goals:
                text.append(" ✓" if g.met else " ✗", style="bold green" if g.met else "bold red")
        if self.notice:
            text.append(f" · {self.notice}", style="italic")
        text.append(f" · {clean_line(lab.scenario.meta.name)}", style="dim")
        return text

    def pane_text(self) -> Text:
        lab = self.lab
        if self.pane == "numerical":
            return numerical_table(lab.numerical(), lab.spec.h)
        if self.pane == "compare" and lab.comparison is not None:
            return compare_text(lab.comparison, lab.step_size)
        view = self.query_one(CircuitView)
        return gate_card(lab.circuit, lab.walk, view.selected, lab.step_size, lab.spec.direction,
                         lab.numerical(), lab.spec.h, lab.spec.fixed)

    def lesson_text(self) -> Text:
        s = self.lab.scenario
        text = Text()
        text.append(clean_line(s.meta.name) + "\n\n", style="bold")
        goals = self.lab.goals()
        texts = circuit_goal_texts(s.goals)
        if texts:
            text.append("Goals\n", style="bold")
            for (_, t), g in zip(texts, goals):
                text.append("✓ " if g.met else "✗ ", style="bold green" if g.met else "bold red")
                text.append(t + "\n")
            text.append("\n")
        text.append(clean(reflow(s.meta.description)) or "(no description)")
        return text

    # -- actions -------------------------------------------------------------------------------
    def _after_step(self) -> None:
        gate = self.lab.walk.phase.gate
        if gate is not None:
            self.query_one(CircuitView).select(gate)
        self.pane = "card"
        self.refresh_all()

    def action_phase(self, delta: int) -> None:
        moved = self.lab.forth() if delta > 0 else self.lab.back()
        self.notice = "" if moved else ("the backward pass is complete: n tugs the inputs"
                                        if delta > 0 else "at the start")
        self._after_step()

    def action_tug(self) -> None:
        before = self.lab.outputs[-1]
        out = self.lab.tug()
        self.notice = f"tug {self.lab.tugs}: output {n4(before)} → {n4(out)}"
        if not self.lab.circuit.is_finite():
            self.notice += " (not finite: r resets, [ makes the step smaller)"
        self.pane = "card"
        self.refresh_all()

    def action_pane(self, pane: str) -> None:
        if pane == "compare":
            self.lab.compare()
        self.pane = "card" if self.pane == pane else pane
        self.notice = ""
        self.refresh_all()

    def action_reset(self) -> None:
        self.lab.reset()
        self.notice = "reset to the file's inputs"
        self.pane = "card"
        self.query_one(CircuitView).select(0)
        self.refresh_all()

    def action_step_size(self, up: bool) -> None:
        self.notice = f"tug step {self.lab.change_step(up):g}"
        self.refresh_all()

    def action_lesson(self) -> None:
        panel = self.query_one("#circuit-lesson")
        panel.display = not panel.display

    def action_back(self) -> None:
        self.app.action_gallery()  # type: ignore[attr-defined]

    def on_circuit_view_node_selected(self, event: CircuitView.NodeSelected) -> None:
        self.pane = "card"
        self.refresh_all()


def circuit_preview(scenario: CircuitScenario) -> Text:
    """The gallery's lines for a circuit: what it computes, its inputs and goals."""
    spec = scenario.circuit
    text = Text()
    text.append("Circuit  ", style="bold cyan")
    if spec.expression is not None:
        text.append(clean_line(spec.expression) + "\n")
    else:
        text.append(f"{len(spec.nodes or [])} gates, given one by one\n")
    text.append("Inputs   ", style="bold cyan")
    text.append(", ".join(f"{k} = {v:g}" for k, v in spec.inputs.items()) + "\n")
    text.append("Tug      ", style="bold cyan")
    text.append(f"step {spec.step_size:g} to {spec.direction} the output\n")
    goals = circuit_goal_texts(scenario.goals)
    if goals:
        text.append("Goals    ", style="bold cyan")
        text.append("; ".join(t for _, t in goals) + "\n")
    return text


def open_circuit(app, path) -> bool:  # noqa: ANN001 - the NnsimApp (no import cycle)
    """Open the circuit file at `path` in a CircuitScreen (replacing a workspace or circuit
    screen on top), or show its problems in a dialog."""
    from nnsim.scenarios import ScenarioError, load_scenario

    from .dialogs import ErrorDialog
    from .workspace import WorkspaceScreen
    try:
        scenario = load_scenario(path)
    except ScenarioError as err:
        app.push_screen(ErrorDialog(str(path), err.problems))
        return False
    except (ValueError, OSError) as exc:
        app.push_screen(ErrorDialog(str(path), [str(exc)]))
        return False
    screen = CircuitScreen(scenario)  # type: ignore[arg-type]
    if isinstance(app.screen, (WorkspaceScreen, CircuitScreen)):
        app.switch_screen(screen)
    else:
        app.push_screen(screen)
    return True
