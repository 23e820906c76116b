"""Reading a file the user names: check it, then read it (headless).

`read_user_file(path, limit)` is the one way nnsim reads a scenario, a CSV file or any other file
a user points it at. Before reading a byte it refuses what would hang or exhaust memory:

- anything that is not a regular file after following links (a folder, a FIFO, a socket, a
  device such as /dev/zero or /dev/urandom, or a link to one of those);
- a file larger than `limit` bytes (each kind of file states its limit: `MAX_SCENARIO_BYTES`,
  `MAX_CSV_BYTES`).

The file is opened with O_NONBLOCK, so even a FIFO that appears between the check and the open
never blocks, and at most `limit + 1` bytes are read, so a file that grows meanwhile is still
refused. Every refusal is a `UserFileError` (a ValueError) whose `reason` says what is wrong in
words; callers turn it into their own error type (ScenarioError, DataError, ...).

```python
from nnsim.files import MAX_SCENARIO_BYTES, UserFileError, read_user_file
try:
    raw = read_user_file("lesson.toml", MAX_SCENARIO_BYTES, what="scenario file")
except UserFileError as exc:
    print(exc)            # "lesson.toml: is a FIFO (named pipe), not a regular file; ..."
```
"""

from __future__ import annotations

import errno
import os
import stat

__all__ = ["MAX_CSV_BYTES", "MAX_SCENARIO_BYTES", "UserFileError", "check_user_file", "file_kind",
           "read_user_file", "read_user_text"]

#: The largest scenario file read (the longest built-in lesson is about 3 KB).
MAX_SCENARIO_BYTES = 1 << 20            # 1 MiB
#: The largest CSV file read (200,000 rows of a few dozen numbers fit well within it).
MAX_CSV_BYTES = 64 << 20                # 64 MiB

_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows


class UserFileError(ValueError):
    """A user's file was refused or could not be read; nothing of it was used.

    `path` is the file as given, `reason` what is wrong ("is a FIFO (named pipe), not a regular
    file"); `str()` is "path: reason"."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def file_kind(mode: int) -> str:
    """What a stat mode is, in words: "a folder", "a FIFO (named pipe)", "a character device"..."""
    for test, words in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a regular file")):
        if test(mode):
            return words
    return "not a regular file"


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "file not found"
    if exc.errno == errno.ENOTDIR:
        return "file not found (a part of the path is not a folder)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot read the file: permission denied"
    if exc.errno == errno.ELOOP:
        return "cannot read the file: too many levels of symbolic links"
    return f"cannot read the file: {exc.strerror or exc}"


def _refuse_mode(path: str | os.PathLike[str], mode: int, what: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = file_kind(mode)
    if stat.S_ISDIR(mode):
        raise UserFileError(path, f"is a folder, not a {what}")
    raise UserFileError(path, f"is {kind}, not a regular file; nnsim reads a {what} only from a "
                              "regular file")


def _refuse_size(path: str | os.PathLike[str], size: int, limit: int, what: str) -> None:
    if size > limit:
        raise UserFileError(path, f"is {_size(size)}; a {what} may be at most {_size(limit)}")


def check_user_file(path: str | os.PathLike[str], limit: int, what: str = "file") -> os.stat_result:
    """Refuse `path` unless it is a regular file (links followed) of at most `limit` bytes;
    reads nothing. Returns its stat. Raises UserFileError."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise UserFileError(path, _os_reason(exc)) from None
    except ValueError:  # an embedded NUL byte
        raise UserFileError(path, "file not found (the name holds a NUL character)") from None
    _refuse_mode(path, st.st_mode, what)
    _refuse_size(path, st.st_size, limit, what)
    return st


def read_user_file(path: str | os.PathLike[str], limit: int, what: str = "file") -> bytes:
    """The bytes of `path` after `check_user_file`; never blocks on a FIFO and never reads more
    than `limit + 1` bytes. Raises UserFileError (refused, missing, unreadable)."""
    check_user_file(path, limit, what)
    try:
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_NOCTTY | _O_CLOEXEC | _O_BINARY)
    except OSError as exc:
        raise UserFileError(path, _os_reason(exc)) from None
    try:
        st = os.fstat(fd)                      # what was opened, not what was checked
        _refuse_mode(path, st.st_mode, what)
        _refuse_size(path, st.st_size, limit, what)
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as exc:
        raise UserFileError(path, _os_reason(exc)) from None
    finally:
        os.close(fd)
    if got > limit:
        raise UserFileError(path, f"is larger than {_size(limit)}, the most a {what} may be")
    return b"".join(chunks)


def read_user_text(path: str | os.PathLike[str], limit: int, what: str = "file",
                   encoding: str = "utf-8") -> str:
    """`read_user_file` decoded (a UTF-8 byte order mark dropped); UserFileError naming the line
    of the first byte that cannot be decoded."""
    raw = read_user_file(path, limit, what)
    try:
        return raw.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserFileError(path, f"line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} "
                                  "cannot be decoded)") from None

