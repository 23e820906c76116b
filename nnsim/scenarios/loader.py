"""Read a scenario file: TOML -> every problem at once (schema and cross-checks) -> Scenario."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..files import MAX_SCENARIO_BYTES, UserFileError, read_user_file
from .checks import Parts, cross_check
from .circuit import CircuitScenario, document_kind, network_doc
from .circuit_load import load_circuit_doc
from .lines import find_line, key_lines
from .nesting import TOO_DEEP, parser_problem, too_deep
from .problems import MISSING, Problem, ScenarioError
from .schema import LAYER_TYPES, REQUIRED_SECTIONS, SECTIONS, Goals, Scenario, View
from .translate import error_to_problem, field_keys, toml_type, validate_table

_NEEDS = "a scenario needs [scenario], [data], [[layers]] and [training]"
_TOML_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")


def _fail(source: str, message: str, line: int | None = None) -> ScenarioError:
    return ScenarioError([Problem(source, "", MISSING, message, line)])


def load_scenario(path: str | os.PathLike[str]) -> Scenario | CircuitScenario:
    """Read and validate the scenario file at `path`; raises ScenarioError listing every problem."""
    source = os.fspath(path)
    try:  # a regular file of at most 1 MiB, or nothing is read (nnsim.files)
        raw = read_user_file(path, MAX_SCENARIO_BYTES, what="scenario file")
    except UserFileError as exc:
        raise _fail(source, exc.reason) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(source, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be decoded)", line) from None
    return loads_scenario(text, source=source, source_path=Path(path))


def loads_scenario(text: str, source: str = "<string>",
                   source_path: Path | None = None) -> Scenario | CircuitScenario:
    """Validate scenario TOML `text`; `source` names it in messages. Raises ScenarioError.
    A file of `kind = "circuit"` gives a CircuitScenario (see circuit_load.py)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise _fail(source, "not UTF-8 text") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise _fail(source, f"file is empty; {_NEEDS}")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(source, str(exc)) from None
    except (RecursionError, ValueError) as exc:  # nesting too deep; an integer of 4,301+ digits
        raise _fail(source, parser_problem(exc)) from None
    deep = too_deep(doc)
    if deep is not None:
        try:
            line = find_line(key_lines(text), deep)
        except Exception:  # noqa: BLE001 - a courtesy, as below
            line = None
        raise ScenarioError([Problem(source, deep, MISSING, TOO_DEEP, line)])
    if not doc:
        raise _fail(source, f"file is empty (only comments); {_NEEDS}")
    if document_kind(doc) != "network":
        return load_circuit_doc(doc, text, source, source_path)
    doc = network_doc(doc)
    try:
        lines = key_lines(text)
    except Exception:  # noqa: BLE001 - line numbers are a courtesy; never fail because of them
        lines = {}
    problems, parts, tables = _validate(doc)
    parts.source_path = source_path
    problems += cross_check(parts)
    if not problems:
        try:
            return Scenario(**tables, source_path=source_path)
        except ValidationError as exc:  # should not happen: every table validated
            problems = [error_to_problem(Scenario, e, "", "the file") for e in exc.errors(include_url=False)]
    located = [replace(p, file=source, line=find_line(lines, p.path) if p.path else p.line) for p in problems]
    located.sort(key=lambda p: (p.line is None, p.line or 0))
    raise ScenarioError(located)


def _toml_error(source: str, message: str) -> ScenarioError:
    """tomllib's "Invalid value (at line 3, column 10)" as a problem on line 3."""
    m = _TOML_POSITION.search(message)
    line = column = None
    if m:
        message = message[: m.start()]
        if m.group(1):
            line, column = int(m.group(1)), int(m.group(2))
    text = f"not valid TOML: {message[:1].lower()}{message[1:]}"
    if column is not None:
        text += f" (column {column})"
    elif m:
        text += " (at the end of the file)"
    return _fail(source, text, line)


def _unknown_top(key: str, value: Any) -> Problem:
    """A top-level key that is not one of the tables."""
    if not isinstance(value, (dict, list)):
        homes = [t for t, model in SECTIONS.items() if key in field_keys(model)]
        if homes:
            table = "[[layers]]" if homes[0] == "layers" else f"[{homes[0]}]"
            return Problem("", key, value, f"{key!r} belongs inside a table such as {table} "
                           "(it is written above every table header)")
    close = difflib.get_close_matches(key, list(SECTIONS), n=1)
    hint = f"did you mean [{close[0]}]?" if close else f"valid tables: {', '.join(SECTIONS)}"
    if isinstance(value, (dict, list)):
        return Problem("", key, MISSING, f"unknown table [{key}]; {hint}")
    return Problem("", key, value, f"unknown top-level key {key!r}; {hint}")


def _validate(doc: dict[str, Any]) -> tuple[list[Problem], Parts, dict[str, Any]]:
    """Validate every table; returns (problems, what validated for cross-checks, Scenario kwargs)."""
    problems: list[Problem] = []
    parts = Parts()
    tables: dict[str, Any] = {}
    for key, value in doc.items():
        if key not in SECTIONS:
            problems.append(_unknown_top(key, value))
    for name in REQUIRED_SECTIONS:
        if name not in doc:
            what = ("at least one [[layers]] table is required" if name == "layers"
                    else f"required table [{name}] is missing")
            problems.append(Problem("", name, MISSING, what))
    for name in ("scenario", "data", "training", "goals", "view"):
        if name not in doc:
            continue
        model, found, bad = validate_table(SECTIONS[name], doc[name], name, f"[{name}]")
        if name == "training" and isinstance(doc[name], dict) and isinstance(doc[name].get("schedule"), str):
            # `schedule = "cosin"`: report the key as written, not as schedule.name
            found = [replace(p, path="training.schedule") if p.path == "training.schedule.name" else p
                     for p in found]
        problems += found
        parts.bad |= {f"{name}.{k}" if k else name for k in bad}
        if model is not None and name != "scenario":
            setattr(parts, name, model)
        if not found:
            tables[name] = model
    if "layers" in doc:
        problems += _validate_layers(doc["layers"], parts, tables)
    tables.setdefault("goals", Goals())
    tables.setdefault("view", View())
    return problems, parts, tables


def _validate_layers(raw: Any, parts: Parts, tables: dict[str, Any]) -> list[Problem]:
    """Each [[layers]] entry with the model of its `type` (dense when not given)."""
    if isinstance(raw, dict):
        return [Problem("", "layers", MISSING, "write [[layers]] (double brackets) before each layer, not [layers]")]
    if not isinstance(raw, list):
        return [Problem("", "layers", raw, f"must be an array of tables ([[layers]]); got {toml_type(raw)}")]
    if not raw:
        return [Problem("", "layers", raw, "the network needs at least one layer")]
    problems: list[Problem] = []
    layers: list[Any] = []
    for i, entry in enumerate(raw):
        prefix = f"layers[{i}]"
        kind = entry.get("type", "dense") if isinstance(entry, dict) else None
        if isinstance(entry, dict) and not (isinstance(kind, str) and kind in LAYER_TYPES):
            valid = list(LAYER_TYPES)
            close = difflib.get_close_matches(str(kind), valid, n=1) if isinstance(kind, str) else []
            hint = f"did you mean {close[0]!r}? " if close else ""
            message = f"unknown layer type; {hint}valid types: {', '.join(valid)}"
            problems.append(Problem("", f"{prefix}.type", kind, message))
            parts.bad.add(f"{prefix}.type")
            layers.append(None)
            parts.layer_types.append(None)
            continue
        model, found, bad = validate_table(LAYER_TYPES[kind or "dense"], entry, prefix, f"{prefix} ({kind} layer)")
        problems += found
        parts.bad |= {f"{prefix}.{k}" if k else prefix for k in bad}
        layers.append(model)
        parts.layer_types.append(kind)
    parts.layers = layers
    if not problems:
        tables["layers"] = layers
    return problems
