"""Validate one TOML table with its pydantic model and turn pydantic's errors into Problems.

Pydantic's own texts (and their documentation URLs) never reach the user: each error type is
rewritten as "must be <what is allowed>", using the field's `description`.
"""

from __future__ import annotations

import datetime
import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from . import names
from .problems import MISSING, Problem
from .schema import LAYER_TYPES

_TYPE_ERRORS = {
    "int_type", "float_type", "bool_type", "string_type", "list_type", "dict_type",
    "model_type", "model_attributes_type", "finite_number", "int_from_float",
    "literal_error", "enum", "is_instance_of", "bool_parsing", "int_parsing", "float_parsing",
}
_RANGE_ERRORS = {
    "greater_than", "greater_than_equal", "less_than", "less_than_equal", "too_short",
    "too_long", "string_too_short", "string_too_long", "multiple_of",
}


def toml_type(value: Any) -> str:
    """What a TOML value is, in words: "a string", "an integer", "a table", ..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (datetime.date, datetime.time, datetime.datetime)):
        return "a date/time"
    return type(value).__name__


def join_path(prefix: str, loc: tuple[Any, ...]) -> str:
    """("schedule", "gamma") under "training" -> "training.schedule.gamma"; ints become [i]."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model class inside an annotation (Optional[M], list[M], Annotated[M, ...])."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def field_keys(model: type[BaseModel]) -> list[str]:
    """The keys a table of `model` accepts (aliases where set)."""
    return [f.alias or n for n, f in model.model_fields.items() if not f.exclude]


def _walk(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[type[BaseModel], FieldInfo | None, tuple[Any, ...]]:
    """Follow `loc` through nested models: (innermost model, last field or None, cleaned loc).

    Parts below a non-model field are union member tags ("float", "str") and are dropped; a part
    that is not a key of the current model is an unknown key and is kept.
    """
    field: FieldInfo | None = None
    current: type[BaseModel] | None = model
    innermost = model
    clean: list[Any] = []
    for part in loc:
        if isinstance(part, int):
            clean.append(part)
        elif current is None:
            continue
        else:
            keys = {f.alias or n: f for n, f in current.model_fields.items()}
            clean.append(part)
            if part in keys:
                field = keys[part]
                current = _model_in(field.annotation)
                innermost = current or innermost
    return innermost, field, tuple(clean)


def _allowed(field: FieldInfo | None) -> str:
    """What a field accepts, from its description (plus the valid names for name fields)."""
    if field is None or not field.description:
        return ""
    text = field.description
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    kind = extra.get("choices")
    if isinstance(kind, str):
        text += ": " + ", ".join(names.valid_names(kind))
    return text


def _unknown_key(model: type[BaseModel], key: Any, where: str) -> str:
    """"unknown key 'x' in [t]; did you mean 'y'?" (or the valid keys when nothing is close)."""
    valid = field_keys(model)
    if model in LAYER_TYPES.values():
        for layer_type, other in LAYER_TYPES.items():
            if other is not model and key in field_keys(other):
                mine = model.model_fields["type"].default
                return f"unknown key {key!r} for a {mine} layer ({key!r} belongs to {layer_type} layers)"
    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r} in {where}; did you mean {close[0]!r}?"
    return f"unknown key {key!r} in {where}; valid keys: {', '.join(valid)}"


def error_to_problem(model: type[BaseModel], error: dict[str, Any], prefix: str, where: str) -> Problem:
    """One pydantic error (from `errors(include_url=False)`) as a Problem (file/line unset)."""
    kind = error["type"]
    _, field, loc = _walk(model, tuple(error["loc"]))
    path = join_path(prefix, loc)
    value = error.get("input", MISSING)
    allowed = _allowed(field)
    if kind == "extra_forbidden":
        parent, _, _ = _walk(model, loc[:-1])
        sub = where if len(loc) == 1 else f"{join_path(prefix, loc[:-1])}"
        return Problem("", path, value, _unknown_key(parent, loc[-1] if loc else "?", sub))
    if kind == "missing":
        message = "required key is missing" + (f"; must be {allowed}" if allowed else "")
        return Problem("", path, MISSING, message)
    if kind == "finite_number":
        return Problem("", path, value, "must be a finite number" + (f" ({allowed})" if allowed else ""))
    if kind in _TYPE_ERRORS:
        got = toml_type(value)
        return Problem("", path, value, f"must be {allowed}; got {got}" if allowed else f"wrong type: {got}")
    if kind in _RANGE_ERRORS:
        return Problem("", path, value, f"must be {allowed}" if allowed else str(error.get("msg", "")))
    if kind == "value_error" and "error" in error.get("ctx", {}):
        return Problem("", path, value, str(error["ctx"]["error"]))
    return Problem("", path, value, str(error.get("msg", "invalid value")))


def validate_table(
    model: type[BaseModel], raw: Any, prefix: str, where: str
) -> tuple[BaseModel | None, list[Problem], set[str]]:
    """Validate one table.

    Returns (model or None, problems, bad keys). When some keys are bad, the table is validated
    again without them (their defaults stand in) so that cross-checks can still run; the model is
    None when even that fails (for example a required key is missing or bad).
    """
    if not isinstance(raw, dict):
        shown = f"[{prefix}]" if "[" not in prefix else "a [[layers]] table"
        return None, [Problem("", prefix, raw, f"must be a table ({shown}); got {toml_type(raw)}")], {""}
    try:
        return model.model_validate(raw), [], set()
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    problems: list[Problem] = []
    seen: set[str] = set()
    bad: set[str] = set()
    for error in errors:
        problem = error_to_problem(model, error, prefix, where)
        if problem.path not in seen:
            seen.add(problem.path)
            problems.append(problem)
        loc = error["loc"]
        bad.add(str(loc[0]) if loc else "")
    if "" in bad:
        return None, problems, bad
    try:
        salvaged = model.model_validate({k: v for k, v in raw.items() if k not in bad})
    except ValidationError:
        salvaged = None
    return salvaged, problems, bad
