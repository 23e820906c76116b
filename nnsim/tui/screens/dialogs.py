"""Modal dialogs: broken scenario files, gradient-check results, and opening a file."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Static

from nnsim.engine.gradcheck import DEFAULT_H, PASS_BELOW
from nnsim.scenarios import Problem
from nnsim.textsafe import clean
from nnsim.usertext import user_text


class ErrorDialog(ModalScreen[None]):
    """Lists every problem of a scenario file that could not be loaded."""

    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, source: str, problems: Sequence[Problem | str]) -> None:
        super().__init__()
        self.source = source
        self.problems = [clean(p) for p in problems]

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box", classes="dialog"):
            n = len(self.problems)
            yield Static(user_text(f"Cannot open {self.source}: {n} problem{'s' if n != 1 else ''}",
                                   one_line=True), classes="dialog-title")
            with VerticalScroll(id="error-list"):
                for p in self.problems:
                    yield Static(Text("• " + p), classes="problem")
            yield Static("Fix the file and open it again (o).", classes="dialog-hint")
            yield Button("OK", id="error-ok", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss()


def verdict(rel_error: float) -> str:
    """How to read a relative error from a float64 gradient check."""
    if rel_error < PASS_BELOW:
        return "✓ agrees"
    if rel_error < 1e-3:
        return "~ close (kinks or float error)"
    return "✗ DIFFERS"


class GradCheckDialog(ModalScreen[None]):
    """Analytic vs numerical gradients, one row per tensor."""

    BINDINGS = [Binding("escape,enter,g", "dismiss", "Close")]

    def __init__(self, rows: Iterable[tuple[str, float]]) -> None:
        super().__init__()
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=False, pad_edge=False)
        table.add_column("tensor")
        table.add_column("relative error", justify="right")
        table.add_column("verdict")
        for name, err in self.rows:
            table.add_row(name, f"{err:.2e}", verdict(err))
        with Vertical(id="gradcheck-box", classes="dialog"):
            yield Static("Gradient check", classes="dialog-title")
            yield Static("Backprop's gradient against central differences "
                         f"(L(w+h) − L(w−h)) / 2h with h = {DEFAULT_H:g}, in float64.", classes="dialog-hint")
            yield Static(table, id="gradcheck-table")
            yield Button("OK", id="gradcheck-ok", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss()


class TomlTree(DirectoryTree):
    """A directory tree that lists folders and scenario files only; names are shown as text
    (Textual's tree would read a file name such as `[b]x[/b].toml` as markup)."""

    def process_label(self, label: str | Text) -> Text:
        return super().process_label(user_text(label, one_line=True) if isinstance(label, str) else label)

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".")
                and (p.is_dir() or p.suffix == ".toml")]


class OpenDialog(ModalScreen[Path | None]):
    """Type a path or pick a *.toml file in the tree; dismisses with the path (or None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(id="open-box", classes="dialog"):
            yield Static("Open a scenario file", classes="dialog-title")
            yield Input(placeholder="path/to/scenario.toml (enter opens)", id="open-path")
            yield TomlTree(self.folder, id="open-tree")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Open", id="open-ok", variant="primary")
                yield Button("Cancel", id="open-cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(Path(event.path))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "open-ok":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        text = self.query_one(Input).value.strip()
        if not text:
            self.notify("Type a path or pick a file in the tree.", severity="warning")
            return
        path = Path(text).expanduser()
        self.dismiss(path if path.is_absolute() else self.folder / path)

    def action_cancel(self) -> None:
        self.dismiss(None)
