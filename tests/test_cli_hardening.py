"""The command line against hostile text, hostile output paths and early Ctrl-C (issue 9)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nnsim.scenarios.library as library
from nnsim.atomic import OutputError, atomic_write, atomic_write_text, clean_stale_temps
from nnsim.cli.main import main
from nnsim.textsafe import clean, clean_line
from nnsim.tui.usertext import user_text

HOSTILE_TEXT = Path(__file__).parent / "data" / "textsafe" / "lesson.toml"
GOOD = Path(__file__).parent / "data" / "cli" / "three_four_two.toml"
LITERAL = ("a[/]b", "[bold]bold?[/bold]", "[@click=app.quit]quit?[/]")
ESCAPES = ("\x1b", "\x07", "\x9b")


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _no_escapes(text: str) -> None:
    for byte in ESCAPES:
        assert byte not in text, f"{byte!r} reached the output: {text!r}"


# -- text safety -----------------------------------------------------------------------------------
def test_clean_drops_control_characters_only() -> None:
    assert clean("a\x1b[2Jb\x07c\x9bd\te\nf\r\ng\u202eh") == "a[2Jbcd\te\nf\ngh"
    assert clean_line("a\nb\tc\r\nd") == "a b c d"
    assert clean("[bold]x[/] é ✓") == "[bold]x[/] é ✓"
    text = user_text("[@click=app.quit]x[/]\x1b", style="bold")
    assert text.plain == "[@click=app.quit]x[/]" and text.spans == [] and str(text.style) == "bold"


@pytest.fixture
def hostile_dir(tmp_path: Path) -> Path:
    """The hostile lesson under a folder called `m[` (so `m[/]…` paths exist)."""
    folder = tmp_path / "m["
    folder.mkdir()
    shutil.copy(HOSTILE_TEXT, folder / "]c.toml")
    return tmp_path


def test_check_run_gradcheck_print_user_text_literally(capsys, hostile_dir, monkeypatch) -> None:
    monkeypatch.chdir(hostile_dir)
    lesson = "m[/]c.toml"
    code, out, err = run_cli(capsys, "check", lesson)
    assert code == 0, err
    _no_escapes(out + err)
    assert all(s in out for s in LITERAL) and "[training]" in out and "m[/]c.toml: valid" in out

    code, out, err = run_cli(capsys, "run", lesson, "--save", "m[/]c.npz", "--history", "m[/]h.json")
    assert code == 0, err
    _no_escapes(out + err)
    assert all(s in out for s in LITERAL)
    assert "Checkpoint written to m[/]c.npz" in out and "History written to m[/]h.json" in out
    assert (hostile_dir / "m[" / "]c.npz").is_file()
    history = json.loads((hostile_dir / "m[" / "]h.json").read_text())
    assert "\x1b[2J" in history["scenario"]  # the data keeps what the file says; only display cleans

    code, out, err = run_cli(capsys, "gradcheck", lesson, "--samples", "4")
    assert code == 0, err
    _no_escapes(out + err)
    assert all(s in out for s in LITERAL)


def test_list_prints_user_text_literally(capsys, hostile_dir, monkeypatch) -> None:
    folder = hostile_dir / "m["
    (folder / "b[@click=app.quit]\x1b[2J.toml").write_text("not [valid\n")  # broken, odd name
    monkeypatch.setattr(library, "builtin_lessons_dir", lambda: folder)
    code, out, err = run_cli(capsys, "list")
    assert code == 0, err
    _no_escapes(out + err)
    assert "[@click=app.quit]quit?[/]" in out and "b[@click=app.quit][2J.toml" in out


def test_problems_and_errors_print_without_escapes(capsys, tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(HOSTILE_TEXT.read_text().replace('activation = "tanh"',
                                                    'activation = "t\\u001b[2J[/]"'))
    code, out, err = run_cli(capsys, "check", bad)
    assert code == 2 and "[/]" in err
    _no_escapes(out + err)
    code, out, err = run_cli(capsys, "run", tmp_path / "x\x1b]0;t\x07[/].toml")
    assert code == 2 and "file not found" in err
    _no_escapes(out + err)
    code, out, err = run_cli(capsys, "run", GOOD, "--bogus", "\x1b[2J\x07")
    assert code == 2 and "unrecognized arguments: --bogus [2J" in err
    _no_escapes(out + err)


# -- output paths ----------------------------------------------------------------------------------
posix_only = pytest.mark.skipif(os.name != "posix", reason="devices, FIFOs and modes")


@posix_only
@pytest.mark.parametrize("kind, message", [
    ("device", "is a character device, not a regular file"),
    ("fifo", "is a FIFO (named pipe), not a regular file"),
    ("folder", "is a folder"),
    ("readonly", "read-only (mode 0444)"),
    ("link-to-device", "is a character device, not a regular file"),
])
def test_refused_output_paths(capsys, tmp_path, kind, message) -> None:
    target = tmp_path / "out.json"   # a name both --save and --history take
    if kind == "device":
        target = Path("/dev/full")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "readonly":
        target.write_bytes(b"keep me")
        target.chmod(0o444)
    else:
        target.symlink_to("/dev/null")
    for option in ("--save",) if kind == "device" else ("--save", "--history"):
        code, out, err = run_cli(capsys, "run", GOOD, option, target)
        assert code == 2 and message in err and "Epoch" not in out, err
    with pytest.raises(OutputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        atomic_write_text(target, "x")
    if kind == "readonly":
        assert target.read_bytes() == b"keep me"
    if kind == "device":
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@posix_only
def test_links_are_followed_and_modes_kept(tmp_path) -> None:
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real.name)
    atomic_write_text(link, "one")
    assert link.is_symlink() and real.read_text() == "one"
    real.chmod(0o640)
    atomic_write_text(link, "two")
    assert link.is_symlink() and real.read_text() == "two"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "new.json", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640  # 0666 & ~027


def test_failed_write_names_the_file_and_leaves_no_temp(tmp_path) -> None:
    target = tmp_path / "c.npz"
    target.write_bytes(b"old")

    def full_disk(fh) -> None:
        fh.write(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError) as info:
        atomic_write(target, full_disk)
    assert str(info.value) == f"cannot write {target}: No space left on device"
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]


def test_stale_temp_files_of_a_killed_write_are_removed(tmp_path) -> None:
    target = tmp_path / "c.npz"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # a pid that has exited
    stale = [tmp_path / f".c.npz.{dead}.abcd1234.tmp", tmp_path / ".c.npz.k2j4_x9a.tmp"]
    alive = tmp_path / f".c.npz.{os.getppid()}.zzzz1234.tmp"   # a live writer's: kept
    other = [tmp_path / ".d.npz.abcd1234.tmp", tmp_path / ".c.npz.notours.tmp", tmp_path / "c.npz.tmp"]
    for p in [*stale, alive, *other]:
        p.write_bytes(b"x" * 10)
        os.utime(p, (time.time() - 60, time.time() - 60))
    atomic_write_text(target, "new")
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"c.npz", alive.name, *(p.name for p in other)}
    assert clean_stale_temps(target, time.time()) == []


def test_kill_during_write_leaves_temp_that_the_next_write_removes(tmp_path) -> None:
    target = tmp_path / "c.json"
    code = ("import os, signal\nfrom nnsim.atomic import atomic_write\n"
            "def w(fh):\n    fh.write(b'x' * 1000)\n    fh.flush()\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n"
            f"atomic_write({str(target)!r}, w)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert out.returncode == -signal.SIGKILL
    leaked = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leaked) == 1 and leaked[0].name.startswith(".c.json.")
    os.utime(leaked[0], (time.time() - 5, time.time() - 5))
    atomic_write_text(target, "{}")
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


@posix_only
def test_load_refuses_a_fifo_or_device_unread(capsys, tmp_path) -> None:
    fifo = tmp_path / "c.npz"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        code, out, err = run_cli(capsys, "run", GOOD, "--load", path)
        assert code == 2 and "not a regular file" in err and "Epoch" not in out


def test_failed_history_still_writes_the_checkpoint(capsys, tmp_path, monkeypatch) -> None:
    import nnsim.cli.history as history

    def full_disk(path, text) -> None:
        raise OutputError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(history, "atomic_write_text", full_disk)
    h, c = tmp_path / "h.json", tmp_path / "c.npz"
    code, out, err = run_cli(capsys, "run", GOOD, "--history", h, "--save", c)
    assert code == 2
    assert f"history not written: cannot write {h}: No space left on device" in err
    assert c.is_file() and "Checkpoint written" in out and "Goal" in out


# -- Ctrl-C at start-up ----------------------------------------------------------------------------
@pytest.mark.skipif(os.name != "posix", reason="signals")
@pytest.mark.parametrize("delay", [0.2, 0.3, 0.45, 0.7, 1.0])
def test_ctrl_c_early_in_run_exits_130_without_traceback(tmp_path, delay) -> None:
    """As the `nnsim` console script starts: import nnsim.cli.main, then main()."""
    entry = "import sys; from nnsim.cli.main import main; sys.exit(main())"
    # Ctrl-C reaches a program started from an interactive shell, whose SIGINT is the default;
    # a test runner started in the background (nohup, `&`, some CI harnesses) passes SIGINT
    # on as ignored, so the child puts the default back as a shell's foreground job has it.
    proc = subprocess.Popen([sys.executable, "-c", entry, "run", str(GOOD), "--epochs", "100000", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (proc.returncode, err)
    assert "Traceback" not in err and err.strip() == "nnsim: interrupted"
