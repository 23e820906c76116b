"""Find the line of a key path ("training.learning_rate", "layers[2].units") in TOML text.

tomllib returns plain dicts without positions, so this is a small line scanner: it follows table
headers (counting `[[layers]]` occurrences), `key = value` lines (dotted and quoted keys), and skips
the inside of multi-line strings and arrays. It is only used for messages, so on odd input it
simply finds nothing.
"""

from __future__ import annotations

import re

_INDEX = re.compile(r"\[(\d+)\]$")


def _split_key(text: str) -> list[str] | None:
    """Split a (possibly dotted, possibly quoted) TOML key into its parts."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return None
        if text[i] in "\"'":
            quote = text[i]
            end = text.find(quote, i + 1)
            if end < 0:
                return None
            parts.append(text[i + 1 : end])
            i = end + 1
        else:
            m = re.match(r"[A-Za-z0-9_-]+", text[i:])
            if not m:
                return None
            parts.append(m.group(0))
            i += m.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n:
            if text[i] != ".":
                return None
            i += 1
    return parts or None


def _scan(text: str, ml: str | None, depth: int) -> tuple[str | None, int]:
    """Scan a value fragment; return (open multi-line string delimiter or None, bracket depth)."""
    i, n = 0, len(text)
    while i < n:
        if ml is not None:
            end = text.find(ml, i)
            if end < 0:
                return ml, depth
            i = end + 3
            while i < n and text[i] == ml[0]:  # up to two quotes may precede the closing ones
                i += 1
            ml = None
            continue
        c = text[i]
        if c == "#":
            break
        if text.startswith('"""', i) or text.startswith("'''", i):
            ml, i = text[i : i + 3], i + 3
        elif c in "\"'":
            i += 1
            while i < n and text[i] != c:
                i += 2 if (c == '"' and text[i] == "\\") else 1
            i += 1
        else:
            depth += c in "[{"
            depth -= c in "]}"
            i += 1
    return ml, max(depth, 0)


def _key_end(line: str) -> int:
    """Index of the `=` that ends the key on `line`, or -1."""
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in "\"'":
            end = line.find(c, i + 1)
            if end < 0:
                return -1
            i = end + 1
        elif c == "=":
            return i
        elif c == "#":
            return -1
        else:
            i += 1
    return -1


def key_lines(text: str) -> dict[str, int]:
    """Map each key path and table path in `text` to the 1-based line where it first appears."""
    found: dict[str, int] = {}
    counts: dict[str, int] = {}
    prefix = ""
    ml: str | None = None
    depth = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if ml is not None or depth > 0:
            ml, depth = _scan(raw, ml, depth)
            continue
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            double = line.startswith("[[")
            close = line.find("]]" if double else "]")
            parts = _split_key(line[2 if double else 1 : close]) if close > 0 else None
            if parts is None:
                continue
            name = ".".join(parts)
            if double:
                index = counts.get(name, 0)
                counts[name] = index + 1
                name = f"{name}[{index}]"
            prefix = name
            found.setdefault(prefix, lineno)
            continue
        eq = _key_end(line)
        parts = _split_key(line[:eq]) if eq > 0 else None
        if parts is None:
            continue
        path = ".".join(([prefix] if prefix else []) + parts)
        found.setdefault(path, lineno)
        ml, depth = _scan(line[eq + 1 :], None, 0)
    return found


def _parent(path: str) -> str:
    """"a.b[2].c" -> "a.b[2]" -> "a.b" -> "a" -> ""."""
    m = _INDEX.search(path)
    if m:
        return path[: m.start()]
    return path.rpartition(".")[0]


def find_line(lines: dict[str, int], path: str) -> int | None:
    """The line of `path`, or of its nearest enclosing key or table that appears in the text."""
    while path:
        for candidate in (path, f"{path}[0]"):  # "layers" -> its first [[layers]] table
            if candidate in lines:
                return lines[candidate]
        path = _parent(path)
    return None
