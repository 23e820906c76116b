"""Hostile input files (issue 9): every one is refused with a message naming the file, none
hangs, exhausts memory or shows a traceback. The corpus is tests/data/hostile/; FIFOs, device
links and large files are made in the test."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from nnsim.data import DataError, load_dataset
from nnsim.files import MAX_CSV_BYTES, MAX_SCENARIO_BYTES, UserFileError, read_user_file
from nnsim.scenarios import ScenarioError, load_scenario, loads_scenario
from nnsim.scenarios.build import build_session

HOSTILE = Path(__file__).parent / "data" / "hostile"
posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev")

# scenario file -> (key path, message fragment); "" is a whole-file problem
SCENARIOS = {
    "deep_arrays.toml": ("training", "nest more than 16 levels deep"),
    "deep_inline_tables.toml": ("", "nest too deeply"),
    "dotted_keys_600.toml": ("goals", "nest more than 16 levels deep"),
    "deep_table_header.toml": ("view", "nest more than 16 levels deep"),
    "huge_integer.toml": ("", "an integer has more than 4,300 digits"),
    "csv_three_classes.toml": ("training.loss", "has 3 classes (0, 1, 2); binary_crossentropy needs 2"),
    "csv_continuous_target.toml": ("training.loss", "not all integers, so it is a regression target"),
    "csv_three_classes_two_units.toml": ("layers[0].units", "needs 3 output units, got 2"),
}
# scenarios that load but whose CSV data are refused when built
CSV_DATA = {
    "csv_multiline_cell.toml": "line 3, column 1: a quoted value spans several lines",
    "csv_beyond_float32.toml": "line 3 (data row 2), column 'b': value '4e39' is beyond float32's range",
}


def _problems(path: Path) -> list:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def test_corpus_is_covered() -> None:
    tomls = {p.name for p in HOSTILE.glob("*.toml")}
    assert tomls == set(SCENARIOS) | set(CSV_DATA)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_hostile_scenario_is_a_scenario_error(name: str) -> None:
    key, fragment = SCENARIOS[name]
    problems = _problems(HOSTILE / name)
    hits = [p for p in problems if p.path == key and fragment in p.message]
    assert hits, "\n".join(map(str, problems))
    assert hits[0].file == str(HOSTILE / name)


@pytest.mark.parametrize("name", sorted(CSV_DATA))
def test_hostile_csv_is_refused_with_line_and_column(name: str) -> None:
    scenario = load_scenario(HOSTILE / name)
    with pytest.raises(ScenarioError) as info:
        build_session(scenario)
    assert CSV_DATA[name] in str(info.value)


def test_recursion_in_text_never_escapes() -> None:
    for text in ("a = " + "[" * 2000 + "]" * 2000, "a = " + "{b = " * 2000 + "1" + "}" * 2000,
                 "a" + ".a" * 5000 + " = 1", "[" + "t." * 3000 + "t]"):
        with pytest.raises(ScenarioError):
            loads_scenario(text, source="deep.toml")


# -- files that are not regular files, or too large -------------------------------------------------
def _in_thread(fn, timeout: float = 20.0):
    """Run fn() in a thread; fail (instead of hanging the suite) if it blocks."""
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "blocked: the call did not return"
    return box


@posix_only
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "dev-urandom", "link-to-zero", "link-to-fifo",
                                  "folder"])
def test_non_regular_scenario_is_refused_before_reading(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "x.toml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path = Path("/dev/zero")
    elif kind == "dev-urandom":
        path = Path("/dev/urandom")
    elif kind == "link-to-zero":
        path.symlink_to("/dev/zero")
    elif kind == "link-to-fifo":
        os.mkfifo(tmp_path / "pipe")
        path.symlink_to(tmp_path / "pipe")
    else:
        path.mkdir()
    box = _in_thread(lambda: load_scenario(path))
    err = box.get("error")
    assert isinstance(err, ScenarioError), box
    message = err.problems[0].message
    assert err.problems[0].file == str(path)
    assert ("not a regular file" in message) or ("is a folder" in message), message


def test_oversized_scenario_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes(b"# padding\n" * (MAX_SCENARIO_BYTES // 10 + 1))
    problems = _problems(path)
    assert "a scenario file may be at most 1 MiB" in problems[0].message


def test_read_user_file_reads_at_most_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_user_file(path, 100) == b"x" * 100
    with pytest.raises(UserFileError, match="at most 99 bytes"):
        read_user_file(path, 99)
    with pytest.raises(UserFileError, match="file not found"):
        read_user_file(tmp_path / "nope", 10)


@posix_only
@pytest.mark.parametrize("kind", ["fifo", "link-to-zero"])
def test_non_regular_csv_is_refused(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "d.csv"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    box = _in_thread(lambda: load_dataset("csv", path=path, target="y"))
    assert isinstance(box.get("error"), DataError), box
    assert "not a regular file" in str(box["error"]) and "CSV file" in str(box["error"])
    # and the scenario check says so too, without reading it
    (tmp_path / "s.toml").write_text((HOSTILE / "csv_three_classes.toml").read_text()
                                     .replace("three_classes.csv", "d.csv"))
    box = _in_thread(lambda: load_scenario(tmp_path / "s.toml"))
    assert isinstance(box.get("error"), ScenarioError), box
    assert "not a regular file" in str(box["error"])


def test_csv_row_limit_is_the_sample_limit() -> None:
    from nnsim.data.csvdata import MAX_ROWS
    from nnsim.data.registry import MAX_SAMPLES
    assert MAX_ROWS == MAX_SAMPLES


def test_csv_limits(tmp_path: Path) -> None:
    long = tmp_path / "long.csv"
    long.write_text("a,b,y\n" + "1" * 140_000 + ",2,1\n1,2,0\n")
    with pytest.raises(DataError, match=r"line 2: cannot be read as CSV \(a value is longer than 131,072"):
        load_dataset("csv", path=long, target="y")
    many = tmp_path / "many.csv"
    many.write_text("a,b,y\n" + "1,2,0\n1,3,1\n" * 100_001)
    with pytest.raises(DataError, match="more than 200,000 data rows"):
        load_dataset("csv", path=many, target="y")
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as fh:
        fh.truncate(MAX_CSV_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(DataError, match="a CSV file may be at most 64 MiB"):
        load_dataset("csv", path=huge, target="y")


def test_csv_quoted_cell_without_line_break_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('a,"b",y\n"1",2,0\n3,"4",1\n5,6,0\n7,8,1\n')
    ds = load_dataset("csv", path=path, target="y", test_fraction=0)
    assert sorted(ds.x_train[:, 0].tolist()) == [1, 3, 5, 7]


def test_csv_within_float32_range_loads(tmp_path: Path) -> None:
    path = tmp_path / "big_values.csv"
    path.write_text("a,b,y\n3e38,-3e38,0\n1,2,1\n3,4,0\n5,6,1\n")
    ds = load_dataset("csv", path=path, target="y", test_fraction=0)
    assert np.isfinite(ds.x_train.astype(np.float32)).all()


@posix_only
def test_cli_check_and_open_refuse_a_fifo_quickly(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    for argv in (["check", str(fifo)], [str(fifo)], ["run", str(fifo)]):
        out = subprocess.run([sys.executable, "-m", "nnsim", *argv], capture_output=True, text=True,
                             timeout=60, stdin=subprocess.DEVNULL)
        assert out.returncode == 2, (argv, out.stderr)
        assert "FIFO" in out.stderr and "Traceback" not in out.stderr
