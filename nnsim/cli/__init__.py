"""The `nnsim` command line (may use rich; the engine never does).

`nnsim.cli.main.main(argv)` is the entry point; `nnsim.scenarios.library.builtin_lessons()` lists the
built-in lessons for the app too. See docs/cli.md.

Importing this package (the first thing the `nnsim` command does, before any heavy import) makes
a Ctrl-C that arrives while nnsim is still starting end like one during a command: one line,
"nnsim: interrupted", and exit status 130, never a KeyboardInterrupt traceback.
"""

from __future__ import annotations

import os
import sys

EXIT_INTERRUPTED = 130


def interrupted() -> int:
    """Say so on stderr and return 130."""
    try:
        sys.stderr.write("\nnnsim: interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return EXIT_INTERRUPTED


def _interrupt_hook(kind, value, tb, _previous=sys.excepthook) -> None:
    """A KeyboardInterrupt that reached the top (during start-up imports): exit 130 quietly."""
    if issubclass(kind, KeyboardInterrupt):
        os._exit(interrupted())
    _previous(kind, value, tb)


if sys.excepthook is sys.__excepthook__:
    sys.excepthook = _interrupt_hook
