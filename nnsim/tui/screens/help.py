"""The `?` screen: every key, grouped by where it works."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..keys import KEYS


def keys_table() -> Table:
    """The keys as a Rich table."""
    table = Table(box=None, expand=True, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("keys", style="bold cyan", no_wrap=True)
    table.add_column("where", style="dim", no_wrap=True)
    table.add_column("what", ratio=1)
    for key in KEYS:
        table.add_row(key.keys, key.where, key.what)
    return table


class HelpScreen(ModalScreen[None]):
    """Keys of the app; escape or ? closes it."""

    BINDINGS = [Binding("escape,question_mark,enter", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog"):
            yield Static("nnsim keys", classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(keys_table(), id="help-keys")
            yield Static("Training runs in the background; keys answer while it plays. "
                         "escape closes this help.", classes="dialog-hint")
