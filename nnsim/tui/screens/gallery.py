"""The gallery: built-in lessons and the scenario files of the current folder, with a preview."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from nnsim.scenarios import DenseLayer, Scenario, ScenarioError, load_scenario
from nnsim.scenarios.circuit import is_circuit
from nnsim.scenarios.goals import goal_texts
from nnsim.textsafe import clean, clean_line
from nnsim.tui.usertext import user_text

from ..session import builtin_lessons, demo_scenario, local_scenarios
from .circuit import circuit_preview
from .panels import reflow


@dataclass
class Entry:
    """One gallery item: a file (or the built-in demo when path is None)."""

    label: str
    path: Path | None
    scenario: Scenario | None = None
    error: ScenarioError | None = None
    builtin: bool = False


def load_entry(path: Path | None, builtin: bool = False) -> Entry:
    """Read a scenario for the gallery; a broken file keeps its error for the preview."""
    if path is None:
        return Entry("Two circles (demo)", None, demo_scenario(), builtin=True)
    try:
        s = load_scenario(path)
        return Entry(s.meta.name, path, s, builtin=builtin)
    except ScenarioError as err:
        return Entry(f"{path.name} (broken)", path, None, err, builtin)


def _pair(size: int | list[int]) -> str:
    return "×".join(map(str, size)) if isinstance(size, list) else f"{size}×{size}"


def network_line(s: Scenario) -> str:
    """"inputs → 4 tanh → 2 tanh → 1 tanh" (and "conv 6 5×5 relu", "maxpool 2×2", "flatten")."""
    parts = ["inputs"]
    for layer in s.layers:
        if isinstance(layer, DenseLayer):
            parts.append(f"{layer.units} {layer.activation}")
        elif layer.type == "dropout":
            parts.append(f"dropout {layer.rate:g}")
        elif layer.type == "conv2d":
            parts.append(f"conv {layer.filters} {_pair(layer.kernel_size)} {layer.activation}")
        elif layer.type in ("maxpool2d", "avgpool2d"):
            parts.append(f"{layer.type.removesuffix('2d')} {_pair(layer.pool_size)}")
        elif layer.type in ("simple_rnn", "lstm"):
            parts.append(f"{'lstm' if layer.type == 'lstm' else 'rnn ' + layer.activation} "
                         f"{layer.units}{' seq' if layer.return_sequences else ''}")
        else:
            parts.append(layer.type)
    return " → ".join(parts)


def preview_text(entry: Entry) -> Text:
    """Description, network, data and training of a scenario (or its problems); user text is
    shown as text (control characters dropped, never read as markup)."""
    text = Text()
    if entry.scenario is None:
        text.append(clean_line(entry.label) + "\n\n", style="bold red")
        problems = entry.error.problems if entry.error else []
        text.append(f"{len(problems)} problem(s); enter shows them all:\n", style="red")
        for p in problems[:8]:
            text.append(f"• {clean_line(p)}\n")
        return text
    s = entry.scenario
    text.append(clean_line(s.meta.name) + "\n", style="bold")
    name = clean_line(entry.path.name) if entry.path else "the demo"
    where = f"built-in lesson · {name}" if entry.builtin else f"in this folder · {name}"
    text.append(where + "\n\n", style="dim")
    text.append(clean(reflow(s.meta.description)) + "\n\n")
    if is_circuit(s):
        return text.append_text(circuit_preview(s))
    d, t = s.data, s.training
    text.append("Network  ", style="bold cyan")
    text.append(network_line(s) + "\n")
    text.append("Data     ", style="bold cyan")
    extra = [f"{d.samples} samples" if d.samples else "", f"noise {d.noise:g}" if d.noise else "",
             f"{d.test_fraction:.0%} test", f"features {', '.join(d.features)}" if d.features else ""]
    text.append(", ".join([d.dataset] + [e for e in extra if e]) + "\n")
    text.append("Training ", style="bold cyan")
    text.append(f"{t.loss}, {t.optimizer} lr {t.learning_rate:g}, batch {t.batch_size}, "
                f"{t.epochs} epochs" + (f", {t.regularization} {t.regularization_rate:g}"
                                        if t.regularization != "none" else "") + "\n")
    goals = goal_texts(s.goals, percent=True)     # the app shows accuracies in %
    if goals:
        text.append("Goals    ", style="bold cyan")
        text.append("; ".join(t for _, t in goals) + "\n")
    return text


class GalleryScreen(Screen[None]):
    """Pick a lesson; enter opens it in the workspace."""

    BINDINGS = [Binding("enter", "open_selected", "Open", show=True)]

    def __init__(self, work_dir: Path, lesson_dir: Path | None = None) -> None:
        """`work_dir`: whose *.toml files are listed; `lesson_dir`: the built-in lessons' folder."""
        super().__init__()
        self.work_dir = work_dir
        self.lesson_dir = lesson_dir
        self.entries: list[Entry] = []

    def compose(self) -> ComposeResult:
        yield Static("nnsim — pick a lesson (enter opens, o opens a file, ? help, q quits)",
                     id="gallery-title")
        with Horizontal(id="gallery-main"):
            yield OptionList(id="gallery-list")
            with VerticalScroll(id="gallery-preview"):
                yield Static("", id="preview")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(OptionList).focus()

    def on_screen_resume(self) -> None:
        """Back from a workspace: list the folder again (a save may have added a file) once the
        list has its width again, so long titles wrap onto all their lines."""
        if self.entries:
            self.call_after_refresh(self.reload)

    def _current_key(self) -> tuple[Path | None, str] | None:
        ol = self.query_one(OptionList)
        if ol.highlighted is None:
            return None
        entry = self._entry(ol.get_option_at_index(ol.highlighted).id)
        return None if entry is None else (entry.path, entry.label)

    def reload(self) -> None:
        """List the built-in lessons, then this folder's files (the demo if there are none),
        keeping the highlighted entry highlighted."""
        keep = self._current_key() if self.entries else None
        builtins = [load_entry(p, True) for p in builtin_lessons(self.lesson_dir)] or [load_entry(None)]
        local = [load_entry(p) for p in local_scenarios(self.work_dir)]
        self.entries = builtins + local
        options: list[Option | None] = [Option(Text("Lessons", style="bold"), disabled=True)]
        options += [Option(user_text(e.label, one_line=True), id=f"e{i}") for i, e in enumerate(builtins)]
        if local:
            options += [None, Option(user_text(f"In {self.work_dir.name or self.work_dir}/", style="bold",
                                               one_line=True), disabled=True)]
            options += [Option(user_text(f"{e.label}  ({e.path.name if e.path else ''})", one_line=True),
                               id=f"e{len(builtins) + i}")
                        for i, e in enumerate(local)]
        ol = self.query_one(OptionList)
        ol.clear_options()
        ol.add_options(options)
        index = next((i for i, e in enumerate(self.entries)
                      if keep is not None and (e.path, e.label) == keep), 0)
        ol.highlighted = ol.get_option_index(f"e{index}")
        ol.scroll_to_highlight()
        self._show(index)

    def _entry(self, option_id: str | None) -> Entry | None:
        if not option_id:
            return None
        return self.entries[int(option_id[1:])]

    def _show(self, index: int) -> None:
        entry = self.entries[index] if 0 <= index < len(self.entries) else None
        self.query_one("#preview", Static).update(preview_text(entry) if entry else "")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        entry = self._entry(event.option.id)
        if entry is not None:
            self.query_one("#preview", Static).update(preview_text(entry))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._open(self._entry(event.option.id))

    def action_open_selected(self) -> None:
        ol = self.query_one(OptionList)
        if ol.highlighted is not None:
            self._open(self._entry(ol.get_option_at_index(ol.highlighted).id))

    def _open(self, entry: Entry | None) -> None:
        if entry is None:
            return
        app = self.app
        if entry.path is None:
            app.open_scenario(entry.scenario)  # type: ignore[attr-defined]
        else:
            app.open_path(entry.path)  # type: ignore[attr-defined]
