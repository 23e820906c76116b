"""User text as rich `Text` for the command line and the app: cleaned of control characters by
`nnsim.textsafe` and never parsed as markup (a `Text` is shown as it is, `[/]` and all)."""

from __future__ import annotations

from rich.text import Text

from nnsim.textsafe import clean, clean_line

__all__ = ["user_text"]


def user_text(text: object, style: str = "", *, one_line: bool = False) -> Text:
    """A `Text` of the cleaned `text` in `style`; `one_line`: newlines and tabs as spaces."""
    return Text(clean_line(text) if one_line else clean(text), style=style)
