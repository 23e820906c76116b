"""Bounds on what a TOML document may hold before nnsim walks it: nesting depth.

tomllib parses arrays and inline tables recursively, and nnsim's validation and messages walk the
result recursively too, so a file nesting a few hundred levels deep (or 600 dotted keys) would
end in a RecursionError. `too_deep(doc)` finds such a key without recursing; `parser_problem`
words the parser's own failure.
"""

from __future__ import annotations

from typing import Any

#: Tables and arrays nest at most this deep (a scenario needs 3: [training] schedule = {...}).
MAX_DEPTH = 16

TOO_DEEP = (f"tables, arrays or dotted keys nest more than {MAX_DEPTH} levels deep here; "
            "a scenario needs at most 3 (as in [training] schedule = { name = ... })")


def too_deep(doc: dict[str, Any]) -> str | None:
    """The top-level key under which tables/arrays nest deeper than MAX_DEPTH, else None.
    Iterative, so no depth of nesting can overflow the stack."""
    for key, value in doc.items():
        stack: list[tuple[Any, int]] = [(value, 1)]
        while stack:
            item, depth = stack.pop()
            if depth > MAX_DEPTH:
                return str(key)
            if isinstance(item, dict):
                stack.extend((v, depth + 1) for v in item.values())
            elif isinstance(item, list):
                stack.extend((v, depth + 1) for v in item)
    return None


def parser_problem(exc: BaseException) -> str:
    """The message for an error tomllib raises outside TOMLDecodeError."""
    if isinstance(exc, RecursionError):
        return (f"not valid TOML for nnsim: arrays or inline tables nest too deeply "
                f"(a scenario nests at most {MAX_DEPTH} levels)")
    if "digits" in str(exc):  # Python's limit on int("9" * 4301)
        return "not valid TOML for nnsim: an integer has more than 4,300 digits"
    return f"not valid TOML: {exc}"
