"""Modal dialogs: broken scenario files, gradient-check results, and opening a file."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Static

from nnsim.engine.gradcheck import PASS_BELOW, GradCheckReport
from nnsim.numfmt import num
from nnsim.scenarios import Problem
from nnsim.textsafe import clean
from nnsim.tui.usertext import user_text


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


def probe_text(report: GradCheckReport) -> Text:
    """One wiggled weight per tensor: L(w − h), L(w + h), the central and forward differences
    (with every digit, so they can be redone by hand) against the backward pass's dL/dw."""
    text = Text()
    if report.probes:
        text.append(f"L(w) = {report.probes[0].loss!r}   (h = {report.h:g})\n", style="bold")
    for p in report.probes:
        text.append(f"{p.name}", style="bold")
        text.append(f"  ({p.chosen})  w = {p.w!r}\n", style="grey62")
        text.append(f"  L(w − h) = {p.loss_minus!r}    L(w + h) = {p.loss_plus!r}\n")
        text.append(f"  central (L(w + h) − L(w − h)) / 2h = {p.central:.12g}   analytic dL/dw = "
                    f"{p.analytic:.12g}   rel. error {p.rel_error:.1e} {verdict(p.rel_error)[0]}\n")
        text.append(f"  forward (L(w + h) − L(w)) / h      = {p.forward:.12g}   "
                    f"rel. error {p.forward_rel_error:.1e}\n")
    return text


class GradCheckDialog(ModalScreen[None]):
    """Analytic vs numerical gradients: one weight per tensor wiggled by ±h with the losses it
    gives, then one row per tensor. The h field recomputes (`recompute(h)`)."""

    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(self, report: GradCheckReport,
                 recompute: Callable[[float], GradCheckReport] | None = None) -> None:
        super().__init__()
        self.report = report
        self.recompute = recompute

    @property
    def rows(self) -> list[tuple[str, float]]:
        """(tensor, relative error) per tensor."""
        return [(r.label or r.name, r.rel_error) for r in self.report.rows]

    def _table(self) -> Table:
        table = Table(box=None, expand=False, pad_edge=False)
        table.add_column("tensor")
        table.add_column("relative error", justify="right")
        table.add_column("verdict")
        for name, err in self.rows:
            table.add_row(name, num(err, 3), verdict(err))
        return table

    def _hint(self) -> str:
        r = self.report
        return (f"Backprop's dL/dw against finite differences in float64 on the first {r.samples} "
                "training samples (dropout off; L = data loss + penalty). The central difference's "
                "error shrinks like h², the forward difference's like h; below h ≈ 1e−8 rounding "
                "takes over. Per weight:")

    def compose(self) -> ComposeResult:
        with Vertical(id="gradcheck-box", classes="dialog"):
            yield Static("Gradient check", classes="dialog-title")
            yield Static(self._hint(), id="gradcheck-hint", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Static("h = ", classes="dialog-hint")
                yield Input(f"{self.report.h:g}", id="gradcheck-h", disabled=self.recompute is None)
            with VerticalScroll(classes="dialog-scroll"):
                yield Static(probe_text(self.report), id="gradcheck-probes")
                yield Static("Per tensor (every entry, or 64 at random):", classes="dialog-hint")
                yield Static(self._table(), id="gradcheck-table")
            yield Button("OK", id="gradcheck-ok", variant="primary")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.recompute is None:
            return
        try:
            self.report = self.recompute(float(event.value))
        except ValueError as exc:
            self.notify(f"h: {exc}", severity="warning")
            return
        self.query_one("#gradcheck-hint", Static).update(self._hint())
        self.query_one("#gradcheck-probes", Static).update(probe_text(self.report))
        self.query_one("#gradcheck-table", Static).update(self._table())

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
