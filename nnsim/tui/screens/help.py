"""The `?` screen: the keys of the screen it was opened from, in a box that fits 80×24 and
scrolls (↑ ↓, PgUp PgDn, the mouse wheel)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ..keys import KEYS, Key

#: Which keys each screen's help shows (by the `where` column of KEYS); other screens: all.
CONTEXTS: dict[str, tuple[str, ...]] = {
    "workspace": ("workspace", "network view", "model panel", "anywhere"),
    "gallery": ("gallery", "anywhere"),
}


def help_row(key: Key, context: str | None) -> tuple[str, ...]:
    """(keys, what) in a context — a key of another part ("network view: …") says where —
    or (keys, where, what) for every key."""
    if context is None:
        return key.keys, key.where, key.what
    return key.keys, key.what if key.where == context else f"{key.where}: {key.what}"


def keys_table(context: str | None = None) -> Table:
    """The keys as a Rich table: those of `context` ("workspace", "gallery"), or all."""
    wanted = CONTEXTS.get(context or "")
    table = Table(box=None, expand=True, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("keys", style="bold cyan", no_wrap=True)
    if wanted is None:
        table.add_column("where", style="dim", no_wrap=True)
    table.add_column("what", ratio=1)
    for key in KEYS:
        if wanted is None or key.where in wanted:
            table.add_row(*help_row(key, context if wanted is not None else None))
    return table


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened from; escape or ? closes it."""

    BINDINGS = [Binding("escape,question_mark,enter", "dismiss", "Close")]

    def __init__(self, context: str | None = None) -> None:
        """`context`: "workspace", "gallery", or None for every key."""
        super().__init__()
        self.context = context

    @staticmethod
    def context_of(screen: Screen) -> str | None:
        """The help context of a screen: its class name without "Screen", lower case."""
        name = type(screen).__name__.removesuffix("Screen").lower()
        return name if name in CONTEXTS else None

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog"):
            where = {"workspace": "the workspace", "gallery": "the gallery"}.get(self.context or "")
            yield Static(f"nnsim keys in {where}" if where else "nnsim keys", classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(keys_table(self.context), id="help-keys")
            hint = ("Training runs in the background; keys answer while it plays. "
                    if self.context == "workspace" else
                    "Open a lesson (enter) for the workspace's keys. " if self.context == "gallery"
                    else "")
            yield Static(hint + "↑ ↓ PgUp PgDn scroll; escape closes this help.",
                         classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()
