"""Load a numeric CSV file with a header row and a named target column.

The file is read through `nnsim.files.read_user_file`: a regular file of at most
`MAX_CSV_BYTES` (64 MiB), never a FIFO or a device. It is parsed whole by the csv module (so a
quoted cell may not hide a line break), holds at most `MAX_ROWS` (200,000) data rows, and
every value must be a finite number within float32's range (the network's default dtype).
The last table read is kept (read-only) for a second read of the same unchanged file: a
scenario check reads the target column, then the loader builds the dataset.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import MAX_CSV_BYTES, UserFileError, read_user_text
from .errors import DataError, choices

#: An integer target with at most this many distinct values is a class label.
MAX_CLASSES = 20
#: The largest magnitude a value may have: float32's (training converts the data to it).
MAX_VALUE = float(np.finfo(np.float32).max)
#: The most data rows a CSV file may hold: the sample limit of every dataset
#: (registry.MAX_SAMPLES, which imports this module; a test keeps the two equal).
MAX_ROWS = 200_000


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


def _rows(p: Path, text: str) -> tuple[list[str] | None, int, list[tuple[int, list[str]]]]:
    """(header, its line, [(line, cells)]) with blank lines skipped; DataError for a line the
    csv module cannot parse, a cell holding a line break, or more than MAX_ROWS data rows."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1   # the row's first line in the file
            if not cells or all(c.strip() == "" for c in cells) and len(cells) <= 1:
                continue  # blank line
            for c, cell in enumerate(cells):
                if "\n" in cell or "\r" in cell:
                    raise DataError(f"CSV file {p}, line {line}, column {c + 1}: a quoted value "
                                    "spans several lines; each value must be one number", "data.path")
            cells = [c.strip() for c in cells]
            if header is None:
                header, header_line = cells, line
            else:
                rows.append((line, cells))
                if len(rows) > MAX_ROWS:
                    raise DataError(f"CSV file {p} has more than {MAX_ROWS:,} data rows (at line "
                                    f"{line}); the limit is {MAX_ROWS:,} samples (memory)", "data.path")
    except csv.Error as exc:
        what = str(exc)
        if "field larger than field limit" in what:
            what = f"a value is longer than {csv.field_size_limit():,} characters"
        raise DataError(f"CSV file {p}, line {reader.line_num}: cannot be read as CSV ({what})",
                        "data.path") from None
    return header, header_line, rows


def read_csv(path: str | Path | None, target: str | None, base_dir: str | Path | None) -> CsvTable:
    """Read and validate the file; raise ``DataError`` naming the line and column at fault."""
    p = resolve_path(path, base_dir)
    key = _cache_key(p, target)
    if key is not None and key in _CACHE:
        return _CACHE[key]
    table = _read(p, target)
    table.x.setflags(write=False)   # shared by the cache: nobody may change it
    table.y.setflags(write=False)
    if key is not None:
        _CACHE.clear()
        _CACHE[key] = table
    return table


#: The last file read (a scenario check reads it, then the loader): key -> read-only table.
_CACHE: dict[tuple, CsvTable] = {}


def _cache_key(p: Path, target: str | None) -> tuple | None:
    try:
        st = os.stat(p)
    except (OSError, ValueError):
        return None
    return (str(p), target, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _read(p: Path, target: str | None) -> CsvTable:
    try:
        text = read_user_text(p, MAX_CSV_BYTES, what="CSV file")
    except UserFileError as exc:
        if exc.reason == "file not found":
            raise DataError(f"CSV file not found: {p}", "data.path") from None
        raise DataError(f"CSV file {p}: {exc.reason}", "data.path") from None

    header, header_line, rows = _rows(p, text)
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
            if value is None or not math.isfinite(value) or abs(value) > MAX_VALUE:
                what = "is empty" if cell == "" else (
                    f"value {cell!r} is not a number" if value is None
                    else f"value {cell!r} is not a finite number" if not math.isfinite(value)
                    else f"value {cell!r} is beyond float32's range (±{MAX_VALUE:.4g})"
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
