"""Load a numeric CSV file with a header row and a named target column."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError, choices

#: An integer target with at most this many distinct values is a class label.
MAX_CLASSES = 20


@dataclass
class CsvTable:
    """The parsed file: inputs, target and what the target turned out to be."""

    path: Path
    x: np.ndarray  # (N, D) float64
    y: np.ndarray  # int64 class indices (N,) or float64 (N,)
    input_names: list[str]
    target_name: str
    task: str  # "binary" | "multiclass" | "regression"
    n_classes: int | None
    class_names: list[str] | None


def resolve_path(path: str | Path | None, base_dir: str | Path | None) -> Path:
    """``path`` relative to ``base_dir`` (the scenario file's folder; default: cwd)."""
    if path is None or str(path).strip() == "":
        raise DataError(
            "dataset 'csv' needs path: the CSV file, relative to the scenario file's folder",
            "data.path",
        )
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = Path(base_dir if base_dir is not None else ".") / p
    return p.resolve()


def _parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def _is_header_like(cells: list[str]) -> bool:
    return any(_parse_number(c) is None for c in cells)


def read_csv(path: str | Path | None, target: str | None, base_dir: str | Path | None) -> CsvTable:
    """Read and validate the file; raise ``DataError`` naming the line and column at fault."""
    p = resolve_path(path, base_dir)
    if not p.exists():
        raise DataError(f"CSV file not found: {p}", "data.path")
    if not p.is_file():
        raise DataError(f"CSV path is not a file: {p}", "data.path")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read CSV file {p}: {exc}", "data.path") from exc

    reader = csv.reader(text.splitlines())
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    for cells in reader:
        if not cells or all(c.strip() == "" for c in cells) and len(cells) <= 1:
            continue  # blank line
        cells = [c.strip() for c in cells]
        if header is None:
            header, header_line = cells, reader.line_num
        else:
            rows.append((reader.line_num, cells))
    if header is None:
        raise DataError(f"CSV file {p} is empty", "data.path")

    if not _is_header_like(header):
        raise DataError(
            f"CSV file {p}: the first row ({', '.join(header)}) looks like data; "
            "a header row naming the columns is required",
            "data.path",
        )
    for i, name in enumerate(header):
        if name == "":
            raise DataError(
                f"CSV file {p}: column {i + 1} has no name in the header (line {header_line})",
                "data.path",
            )
    dup = [n for n in header if header.count(n) > 1]
    if dup:
        raise DataError(f"CSV file {p}: column {dup[0]!r} appears twice in the header", "data.path")

    if target is None or str(target).strip() == "":
        raise DataError(
            f"dataset 'csv' needs target: the column to predict; columns are {choices(header)}",
            "data.target",
        )
    if target not in header:
        raise DataError(
            f"target column {target!r} not found in {p}; columns are {choices(header)}",
            "data.target",
        )
    if len(header) < 2:
        raise DataError(
            f"CSV file {p} has only the target column; it needs at least one input column",
            "data.path",
        )
    if not rows:
        raise DataError(f"CSV file {p} has a header but no data rows", "data.path")

    width = len(header)
    values = np.empty((len(rows), width), dtype=np.float64)
    for r, (line, cells) in enumerate(rows):
        where = f"line {line} (data row {r + 1})"
        if len(cells) != width:
            raise DataError(
                f"CSV file {p}, {where}: expected {width} values, got {len(cells)}",
                "data.path",
            )
        for c, cell in enumerate(cells):
            value = _parse_number(cell)
            if value is None or not math.isfinite(value):
                what = "is empty" if cell == "" else (
                    f"value {cell!r} is not a number" if value is None
                    else f"value {cell!r} is not a finite number"
                )
                raise DataError(
                    f"CSV file {p}, {where}, column {header[c]!r}: {what}", "data.path"
                )
            values[r, c] = value

    t = header.index(target)
    y_raw = values[:, t]
    x = np.delete(values, t, axis=1)
    input_names = [n for n in header if n != target]
    distinct = np.unique(y_raw)
    if len(distinct) < 2:
        raise DataError(
            f"target column {target!r} has a single value ({distinct[0]:g}); nothing to learn",
            "data.target",
        )
    is_int = bool(np.all(y_raw == np.round(y_raw)))
    if is_int and len(distinct) <= MAX_CLASSES:
        y = np.searchsorted(distinct, y_raw).astype(np.int64)
        k = len(distinct)
        return CsvTable(
            path=p,
            x=x,
            y=y,
            input_names=input_names,
            target_name=target,
            task="binary" if k == 2 else "multiclass",
            n_classes=k,
            class_names=[str(int(v)) for v in distinct],
        )
    return CsvTable(
        path=p,
        x=x,
        y=y_raw.copy(),
        input_names=input_names,
        target_name=target,
        task="regression",
        n_classes=None,
        class_names=None,
    )
