"""Atomic file writes: a temp file beside the target, flushed and fsynced, then renamed over it,
so a crash never leaves a half-written file. Headless; used by checkpoints, scenarios and the CLI."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Callable


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Call `write(binary file)` on a temp file beside `path`, then rename it over `path`."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` (UTF-8, newlines as given) atomically to `path`."""
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
