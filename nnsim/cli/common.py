"""Shared pieces of the command line: the usage error, output helpers, atomic text writes."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from nnsim.atomic import OutputError, check_output_target
from nnsim.textsafe import clean

EXIT_OK = 0
EXIT_FAILED = 1      # goals not met, unexpected divergence, gradient check failed
EXIT_USAGE = 2       # bad input: file, value, option
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad input found by the CLI itself (an option's value, an output path): exit status 2."""


def stdout_console() -> Console:
    """A console on the current sys.stdout (looked up when printing, so test capture works).

    `soft_wrap` keeps long lines whole when the output is a pipe or a file; `markup=False`: no
    string printed is ever read as rich markup (user text goes through nnsim.textsafe too)."""
    return Console(highlight=False, soft_wrap=True, markup=False)


def can_encode(text: str, stream=None) -> bool:
    encoding = getattr(stream or sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def mark(met: bool) -> str:
    """✓ / ✗, or OK / X where the output cannot show them."""
    if can_encode("✓✗"):
        return "✓" if met else "✗"
    return "OK" if met else "X"


def err(message: str) -> None:
    """One error line on stderr, prefixed like argparse's (control characters dropped)."""
    print(f"nnsim: error: {clean(message)}", file=sys.stderr)


def check_output_path(path: Path, what: str) -> Path:
    """Fail early (before training) if `path` cannot be written (the rules of nnsim.atomic):
    its folder must exist and be writable; an existing file must be a regular, writable file
    (a link is followed to it); not a folder, a device or a FIFO."""
    try:
        check_output_target(path)
    except OutputError as exc:
        raise UsageError(f"cannot write {what} {path}: {exc.strerror}") from None
    return path


