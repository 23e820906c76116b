"""The built-in lessons: the scenario files shipped in the repository's top-level `scenarios/`.

Headless (no rich, no textual), so the app can use it too:

```python
from nnsim.scenarios.library import builtin_lessons
for path, scenario in builtin_lessons():      # the lessons that validate, sorted by file name
    print(path.name, scenario.meta.name, first_sentence(scenario.meta.description))
```

`scan_lessons()` also returns the files that fail to validate, with their error.
`find_lesson("06")`, `find_lesson("two-circles")` find a lesson file by its number or name from
any folder (the command line's `nnsim run NAME`); `closest_lesson("two-circle")` suggests one.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import nnsim

from .loader import load_scenario
from .problems import ScenarioError
from .schema import Scenario


def builtin_lessons_dir() -> Path:
    """The folder of built-in lessons: `nnsim/lessons` (a link to the repository's `scenarios/`,
    copied into wheels), else `scenarios/` beside the package (it may not exist)."""
    pkg = Path(nnsim.__file__).resolve().parent
    bundled = pkg / "lessons"
    return bundled if bundled.is_dir() else pkg.parent / "scenarios"


@dataclass(frozen=True)
class LessonFile:
    """One lesson file: its scenario, or the error that stopped it from loading."""

    path: Path
    scenario: Scenario | None
    error: ScenarioError | None

    @property
    def ok(self) -> bool:
        return self.scenario is not None


def scan_lessons(folder: Path | None = None) -> list[LessonFile]:
    """Every `*.toml` file in `folder` (default: the built-in lessons), sorted by file name.
    A missing folder gives an empty list."""
    folder = builtin_lessons_dir() if folder is None else Path(folder)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(p for p in folder.glob("*.toml") if p.is_file()):
        try:
            out.append(LessonFile(path, load_scenario(path), None))
        except ScenarioError as exc:
            out.append(LessonFile(path, None, exc))
    return out


def builtin_lessons(folder: Path | None = None) -> list[tuple[Path, Scenario]]:
    """(path, scenario) for every built-in lesson that validates, sorted by file name."""
    return [(f.path, f.scenario) for f in scan_lessons(folder) if f.scenario is not None]


_NUMBERED = re.compile(r"^(\d+)-(.+)$")


def _lesson_files(folder: Path | None) -> list[Path]:
    folder = builtin_lessons_dir() if folder is None else Path(folder)
    return sorted(p for p in folder.glob("*.toml") if p.is_file()) if folder.is_dir() else []


def _key(name: str) -> str:
    """A lesson reference as typed: "06", "two-circles", "06-two-circles.toml", "Two Circles"."""
    key = Path(name.strip()).name.lower()
    key = key.removesuffix(".toml")
    return re.sub(r"[\s_]+", "-", key)


def find_lesson(name: str, folder: Path | None = None) -> Path | None:
    """The built-in lesson `name` refers to: its number ("06" or "6"), its file name with or
    without ".toml" ("06-two-circles"), or the name after the number ("two-circles"); None
    when no lesson (or more than one) matches."""
    key = _key(name)
    if not key:
        return None
    files = _lesson_files(folder)
    for path in files:
        if path.stem.lower() == key:
            return path
    found = []
    for path in files:
        m = _NUMBERED.match(path.stem.lower())
        if m is None:
            continue
        number, rest = m.groups()
        if (key.isdigit() and int(key) == int(number)) or rest == key:
            found.append(path)
    return found[0] if len(found) == 1 else None


def closest_lesson(name: str, folder: Path | None = None) -> Path | None:
    """The built-in lesson whose file name (or the part after its number) is closest to
    `name`, if any is reasonably close (for "file not found: did you mean …?")."""
    key = _key(name)
    by_name: dict[str, Path] = {}
    for path in _lesson_files(folder):
        stem = path.stem.lower()
        by_name[stem] = path
        m = _NUMBERED.match(stem)
        if m is not None:
            by_name.setdefault(m.group(2), path)
    close = difflib.get_close_matches(key, list(by_name), n=1, cutoff=0.6)
    return by_name[close[0]] if close else None


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def first_sentence(text: str, limit: int = 120) -> str:
    """The description's first sentence on one line, cut to `limit` characters."""
    flat = " ".join(text.split())
    if not flat:
        return ""
    sentence = _SENTENCE_END.split(flat, maxsplit=1)[0]
    if len(sentence) > limit:
        sentence = sentence[: limit - 1].rstrip() + "…"
    return sentence


def first_problem(error: ScenarioError) -> str:
    """A short form of a load error for a one-line listing: the first problem, and a count."""
    if not error.problems:
        return str(error)
    p = error.problems[0]
    text = str(p)
    prefix = p.file if p.line is None else f"{p.file}:{p.line}"
    text = text.removeprefix(prefix + ": ")
    if p.line is not None:
        text = f"line {p.line}: {text}"
    more = len(error.problems) - 1
    return text + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
