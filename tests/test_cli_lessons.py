"""The command line's first minutes (issue #10): lessons by number or name from any folder, a
closest-lesson suggestion, `nnsim check` within 80 columns, what a .csv history holds, and a
lesson count in docs/cli.md that is current."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from nnsim.cli.check import print_summary
from nnsim.cli.main import main
from nnsim.scenarios import load_scenario
from nnsim.scenarios.build import build_session
from nnsim.scenarios.library import builtin_lessons_dir, closest_lesson, find_lesson, scan_lessons

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["06", "6", "two-circles", "06-two-circles",
                                  "06-two-circles.toml", "Two Circles"])
def test_find_lesson_by_number_or_name(name):
    assert find_lesson(name).name == "06-two-circles.toml"


def test_no_lesson_and_the_closest_one():
    assert find_lesson("999") is None and find_lesson("circles") is None
    assert closest_lesson("two-circle").name == "06-two-circles.toml"
    assert closest_lesson("sprial").name == "08-spiral.toml"
    assert closest_lesson("xyzzy") is None


def test_run_and_check_a_lesson_from_any_folder(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "06", "--epochs", "1", "-q"]) in (0, 1)
    out = capsys.readouterr().out
    assert "Two circles" in out and "Epoch 1/1" in out
    assert main(["check", "two-circles"]) == 0
    assert "valid scenario" in capsys.readouterr().out


def test_file_not_found_suggests_the_closest_lesson(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "scenarios/06-two-circle.toml"]) == 2
    err = capsys.readouterr().err
    assert "file not found" in err and "did you mean the built-in lesson 06-two-circles" in err
    assert main(["check", "xyzzy"]) == 2
    assert "nnsim list" in capsys.readouterr().err


@pytest.mark.parametrize("number", ["03", "08", "29"])
def test_check_fits_80_columns(number):
    path = find_lesson(number)
    scenario = load_scenario(path)
    buf = io.StringIO()
    console = Console(file=buf, width=80, force_terminal=True, color_system=None, highlight=False,
                      soft_wrap=True, markup=False)
    print_summary(console, path, scenario, build_session(scenario))
    text = buf.getvalue()
    assert all(len(line) <= 80 for line in text.splitlines()), max(text.splitlines(), key=len)
    assert "…" not in "".join(l for l in text.splitlines() if l.startswith(("│ dense", "│ drop")))
    assert "Output Shape" in text and "Param #" in text
    if number == "29":
        assert "dropout_1 (Dropout)" in text and "inputs: 64 (px0_0" in text and "…, px7_7)" in text


def test_a_csv_history_says_it_holds_epochs_only(capsys, tmp_path):
    out_csv = tmp_path / "h.csv"
    main(["run", "06", "--epochs", "2", "-q", "--history", str(out_csv)])
    out = capsys.readouterr().out
    assert "a .csv holds epochs only" in out and "h.json" in out
    assert len(out_csv.read_text().splitlines()) == 3          # a header and two epochs


def test_docs_cli_lesson_count_is_current():
    docs = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    counts = [int(n) for n in re.findall(r"^(\d+) lessons in ", docs, re.M)]
    assert counts == [len(scan_lessons(builtin_lessons_dir()))]
