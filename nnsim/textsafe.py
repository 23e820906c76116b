"""User text is data: show lesson text, names, paths and messages as text (headless).

Scenario names and descriptions, file names, CSV column names and the messages that quote them
are written by users. Two things must never happen when nnsim shows them:

- a terminal control sequence runs (ESC clears the screen or sets the window title, BEL rings):
  `clean` drops C0 and C1 control characters (newline and tab kept, or turned into spaces by
  `clean_line`), DEL, and the Unicode bidirectional overrides that reorder what is shown;
- markup is interpreted (`[/]` crashes rich and Textual with a MarkupError, `[training]`
  vanishes, `[@click=app.quit]` becomes a live action): `nnsim.tui.usertext.user_text` wraps the
  cleaned text in a rich `Text`, which neither rich nor Textual parses as markup, and
  `notify(clean_line(...), markup=False)` shows a plain string.

```python
from nnsim.textsafe import clean, clean_line
from nnsim.tui.usertext import user_text
console.print(user_text(f"{name} ({path})", style="bold"))   # CLI
static.update(user_text(description))                          # app
app.notify(clean_line(f"Saved {path}"), markup=False)
```

This module imports no UI library (nnsim.tui.usertext is its rich half).
"""

from __future__ import annotations

__all__ = ["clean", "clean_line"]

_DROP = [*range(0x00, 0x20), *range(0x7F, 0xA0),                 # C0, DEL, C1
         *range(0x202A, 0x202F), *range(0x2066, 0x206A)]         # bidi embeddings, overrides, isolates
_KEEP_LINES = {c: None for c in _DROP} | {0x09: 0x09, 0x0A: 0x0A,    # tab, newline
                                          0x2028: 0x0A, 0x2029: 0x0A}  # line/paragraph separators
_ONE_LINE = _KEEP_LINES | {0x09: 0x20, 0x0A: 0x20, 0x0D: 0x20, 0x2028: 0x20, 0x2029: 0x20}


def clean(text: object) -> str:
    """`str(text)` without control characters; newlines (\\r\\n and \\r as \\n) and tabs kept."""
    s = str(text)
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    return s.translate(_KEEP_LINES)


def clean_line(text: object) -> str:
    """`clean`, on one line: newlines and tabs become spaces (for titles, lists, notices)."""
    return str(text).replace("\r\n", " ").translate(_ONE_LINE)

