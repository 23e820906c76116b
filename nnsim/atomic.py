"""Atomic file writes that cannot hurt what is already there (headless).

`atomic_write(path, write)` calls `write(binary file)` on a temporary file beside the target,
flushes and fsyncs it, renames it over the target and fsyncs the folder, so a crash never leaves
a half-written file. Used by checkpoints, scenario files and the CLI's history. What it promises:

- **Only regular files are written.** A folder, a FIFO, a socket or a device (/dev/full,
  /dev/null) is refused with an `OutputError` before anything is written.
- **Links are followed, deliberately:** writing to a symbolic link writes the file it points
  to (the link itself stays a link); a link to a missing file creates that file.
- **Modes are kept:** an existing file keeps its permission bits; a new file gets the usual
  ones for the process's umask (0644 under umask 022), as `open()` would give it.
- **Read-only files are not overwritten:** a file with no write permission bit (mode 0444), or
  one this process may not write, is refused; make it writable or choose another name.
- **Every failure names the file:** `OutputError` (an OSError) reads "cannot write c.npz: No
  space left on device".
- **Temporary files do not pile up:** they are named `.NAME.PID.XXXXXXXX.tmp`; a write removes
  the ones a killed earlier write to the same target left behind (ours by name, their process
  gone, older than this write).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Callable

__all__ = ["OutputError", "atomic_write", "atomic_write_text", "check_output_target"]

TMP_SUFFIX = ".tmp"


class OutputError(OSError):
    """A file could not be written; the target was left as it was. `filename` is the path as
    given; `str()` is "cannot write PATH: reason"."""

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror}"


def _kind(mode: int) -> str:
    from .files import file_kind
    return file_kind(mode)


def check_output_target(path: str | os.PathLike[str]) -> tuple[Path, os.stat_result | None]:
    """The file a write to `path` would change (links followed) and its stat (None if it does
    not exist yet). Raises OutputError if it is not a regular file, is read-only, or its folder
    is missing or not writable. Writes nothing."""
    given = os.fspath(path)
    if not given or given.endswith(("/", os.sep)):
        raise OutputError(errno.EISDIR, "is a folder name; give a file name", given)
    target = Path(os.path.realpath(given))
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(exc.errno, exc.strerror or str(exc), given) from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(errno.EISDIR, "is a folder; give a file name", given)
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(errno.EINVAL, f"is {_kind(st.st_mode)}, not a regular file; nnsim "
                                            "writes only regular files", given)
        if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
            raise OutputError(errno.EACCES, f"the file is read-only (mode {stat.S_IMODE(st.st_mode):04o}); "
                                            "nnsim does not overwrite a read-only file: make it "
                                            "writable or choose another name", given)
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(errno.ENOENT, f"folder {parent} does not exist", given)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(errno.EACCES, f"folder {parent} is not writable", given)
    return target, st


_umask_lock = threading.Lock()


def _umask() -> int:
    """The process's umask, without changing it where the system tells (Linux), else briefly."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def clean_stale_temps(target: Path, before: float) -> list[Path]:
    """Remove temporary files that earlier writes to `target` left behind (a process killed
    mid-write): named `.NAME.PID.XXXXXXXX.tmp` (or `.NAME.XXXXXXXX.tmp`, the older naming),
    modified before `before`, and whose process is gone. Returns what was removed."""
    name = re.escape(target.name)
    ours = re.compile(rf"^\.{name}\.(?:(\d+)\.)?[a-z0-9_]{{8}}{re.escape(TMP_SUFFIX)}$")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        m = ours.match(entry.name)
        if m is None:
            continue
        pid = int(m.group(1)) if m.group(1) else None
        if pid is not None and (pid == os.getpid() or _alive(pid)):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_mtime < before:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; some file systems cannot sync a folder, which is fine."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Call `write(binary file)` on a temp file beside the file `path` names (links followed),
    then rename it over that file. Raises OutputError (nothing changed) on any failure."""
    given = os.fspath(path)
    target, st = check_output_target(given)
    started = time.time()
    clean_stale_temps(target, started)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=TMP_SUFFIX,
                                   dir=target.parent)
    except OSError as exc:
        raise OutputError(exc.errno, exc.strerror or str(exc), given) from None
    try:
        mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), mode)
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(exc.errno or errno.EIO, exc.strerror or str(exc), given) from None
        raise
    _fsync_dir(target.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` (UTF-8, newlines as given) atomically to `path`."""
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
