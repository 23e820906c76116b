"""The `nnsim` command: open the app, list lessons, check, run and gradient-check scenario files.

`main(argv)` returns the exit status (0 success, 1 goals not met / unexpected divergence /
gradient check failed, 2 bad input, 130 interrupted) and never shows a traceback for a user
error. Set NNSIM_DEBUG=1 to see one anyway.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from pathlib import Path
from typing import Callable, Sequence

from nnsim import __version__
from nnsim.engine.gradcheck import DEFAULT_H, PASS_BELOW
from nnsim.numfmt import num
from nnsim.textsafe import clean, clean_line
from nnsim.tui.usertext import user_text

from . import interrupted
from .backends import add_backend_option
from .circuit_options import add_run_options as add_circuit_run_options
from .circuit_options import is_circuit_file, reject_options
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, err, mark

COMMANDS = ("list", "check", "run", "gradcheck")

EPILOG = """\
examples:
  nnsim                                   open the app on the lesson gallery
  nnsim scenarios/06-two-circles.toml     open the app on a scenario file
  nnsim list                              the built-in lessons
  nnsim check my.toml                     validate and summarise a scenario
  nnsim run my.toml --epochs 50 --history h.json
  nnsim gradcheck my.toml

exit status: 0 success (run: every goal met), 1 goals not met, training diverged where no goal
expected it, or gradient check failed, 2 bad input (file, value, option), 130 interrupted.
See docs/cli.md."""


def _int_at_least(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            allowed = f">= {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"must be an integer {allowed}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


class _Parser(argparse.ArgumentParser):
    """argparse, with control characters dropped from what it echoes (an odd argument)."""

    def _print_message(self, message: str, file=None) -> None:  # noqa: ANN001 - argparse's
        super()._print_message(clean(message), file)


def _step_h(text: str) -> float:
    from nnsim.engine.gradcheck import check_h
    try:
        return check_h(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("h ")) from None


WEIGHT_NAME = re.compile(r"layer(\d+)\.W\[\s*(\d+)\s*,\s*(\d+)\s*\]")


def _weight_name(text: str) -> tuple[int, int, int]:
    """"layer1.W[0,2]" → (dense layer 0, i = 0, j = 2)."""
    m = WEIGHT_NAME.fullmatch(text.strip())
    if m is None or int(m.group(1)) < 1:
        raise argparse.ArgumentTypeError(f"must name a weight like layer1.W[0,2], got {text!r}")
    return int(m.group(1)) - 1, int(m.group(2)), int(m.group(3))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nnsim", usage="%(prog)s [-h] [--version] [FILE.toml | COMMAND ...]",
        description="nnsim: a terminal laboratory for learning how neural networks learn.\n\n"
                    "  nnsim             open the app on the lesson gallery\n"
                    "  nnsim FILE.toml   open the app on a scenario file\n"
                    "  nnsim COMMAND     one of the commands below (nnsim COMMAND --help)",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"nnsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    sub.add_parser("list", prog="nnsim list", help="the built-in lessons with a one-line summary each",
                   description="List the built-in lessons (the scenarios/ folder) with a "
                               "one-line summary each; broken files are marked.")

    p = sub.add_parser("check", prog="nnsim check", help="validate a scenario file and summarise it",
                       description="Validate a scenario file; print a Keras-style model summary, "
                                   "the data, the training settings and the goals.")
    p.add_argument("file", metavar="FILE", help="scenario file (.toml)")

    p = sub.add_parser("run", prog="nnsim run", help="train headless and report the goals",
                       description="Train a scenario without the app: a progress bar (on a "
                                   "terminal), one line per epoch, then each goal met or not.")
    p.add_argument("file", metavar="FILE", help="scenario file (.toml)")
    p.add_argument("--epochs", type=_int_at_least(1, 100_000), metavar="N",
                   help="train until epoch N (default: the file's training.epochs); with --load, "
                        "counted from the start of the original run")
    p.add_argument("--seed", type=_int_at_least(0), metavar="S",
                   help="override scenario.seed (data, initial weights, batch order)")
    p.add_argument("--history", metavar="OUT", help="write the history to OUT.json (epochs and "
                                                     "batches) or OUT.csv (epochs)")
    p.add_argument("--save", metavar="CKPT", help="write a full checkpoint (.npz) after training")
    p.add_argument("--load", metavar="CKPT", help="restore a checkpoint (.npz, full or "
                                                  "weights-only) before training")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar and no per-epoch lines: only the result")
    add_backend_option(p)
    add_circuit_run_options(p, _int_at_least)

    p = sub.add_parser("gradcheck", prog="nnsim gradcheck", help="compare analytic and numerical gradients",
                       description="Compare the backward pass with finite differences (float64, "
                                   "dropout off): first one weight per tensor wiggled by ±h, with "
                                   "L(w − h), L(w + h), the central difference "
                                   "(L(w + h) − L(w − h)) / 2h and the forward difference "
                                   "(L(w + h) − L(w)) / h; then every tensor's relative error "
                                   f"(a tensor passes below {PASS_BELOW:g}). Layers are counted "
                                   "from 1, as in the app: layer1.W[i, j] is W[i, j] of the first "
                                   "dense layer (fan_in × units).")
    p.add_argument("file", metavar="FILE", help="scenario file (.toml)")
    p.add_argument("--samples", type=_int_at_least(1, 10_000), default=32, metavar="N",
                   help="training samples to use (default 32)")
    p.add_argument("--seed", type=_int_at_least(0), metavar="S", help="override scenario.seed")
    add_backend_option(p)
    p.add_argument("--h", type=_step_h, metavar="H", dest="h",
                   help=f"networks: the finite-difference step (default {DEFAULT_H:g}; > 0, <= 1)")
    p.add_argument("--weight", type=_weight_name, metavar="NAME",
                   help="networks: the weight to wiggle, e.g. layer1.W[0,2] (and that neuron's "
                        "bias); default: each tensor's entry with the largest |dL/dw|")
    return parser


# -- commands ------------------------------------------------------------------------------------
def open_app(file: str | None) -> int:
    """`nnsim` / `nnsim FILE`: validate FILE, then start the app."""
    if file is not None:
        path = Path(file)
        if path.exists() and path.suffix.lower() != ".toml":
            raise UsageError(f"{file}: not a scenario file (expected a name ending in .toml)")
        from nnsim.scenarios import load_scenario
        from nnsim.scenarios.build import build_session
        from nnsim.scenarios.circuit import is_circuit
        scenario = load_scenario(path)  # every problem, before the app starts
        if not is_circuit(scenario):
            build_session(scenario)
    try:
        from nnsim.tui import run_app
    except ImportError as exc:
        return _app_missing(exc)
    try:
        status = run_app(file)
    except ModuleNotFoundError as exc:  # the app imports textual and its screens on first use
        return _app_missing(exc)
    return EXIT_OK if status is None else int(status)


def _app_missing(exc: ImportError) -> int:
    err(f"the app is not available ({exc}); the commands list, check, run and gradcheck "
        "work without it (nnsim --help)")
    return EXIT_USAGE


def list_command(args: argparse.Namespace) -> int:
    from rich.text import Text

    from nnsim.scenarios.library import builtin_lessons_dir, first_problem, first_sentence, scan_lessons

    from .common import stdout_console

    console = stdout_console()
    folder = builtin_lessons_dir()
    lessons = scan_lessons(folder)
    if not lessons:
        console.print(user_text(f"No built-in lessons found in {folder}."))
        return EXIT_OK
    width = max(len(f.path.name) for f in lessons)
    for f in lessons:
        line = Text(clean_line(f"{f.path.name:<{width}}  "), style="cyan")
        if f.scenario is not None:
            line.append(clean_line(f.scenario.meta.name), style="bold")
            summary = first_sentence(f.scenario.meta.description)
            if summary:
                line.append(clean_line(f" — {summary}"))
        else:
            line.append(clean_line(f"(broken: {first_problem(f.error)})"), style="red")
        console.print(line)
    try:
        shown = folder.relative_to(Path.cwd())
    except ValueError:
        shown = folder
    first = lessons[0].path.stem
    number = first.split("-", 1)[0]
    console.print(user_text(f"\n{len(lessons)} lessons in {shown}. "
                            f"Open one by its number or name, from any folder: nnsim {number}, "
                            f"nnsim run {number}, nnsim check {first}"))
    return EXIT_OK


def gradcheck_command(args: argparse.Namespace) -> int:
    if is_circuit_file(args.file):
        for key, flag in (("h", "--h"), ("weight", "--weight")):
            if getattr(args, key, None) is not None:
                raise UsageError(f"gradcheck {flag} applies to network scenarios; a circuit's step "
                                 f"is circuit.h in its file ({args.file})")
        from .circuit import gradcheck_command as circuit_gradcheck
        return circuit_gradcheck(args, PASS_BELOW)
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from nnsim.engine.gradcheck import gradient_check, probe_weights
    from nnsim.scenarios import load_scenario
    from nnsim.scenarios.build import build_session

    from .common import stdout_console

    console = stdout_console()
    scenario = load_scenario(Path(args.file))
    from .backends import chosen_backend
    session = build_session(scenario, seed=args.seed, backend=chosen_backend(args, scenario))
    h = DEFAULT_H if args.h is None else args.h
    net = session.trainer.net
    if args.weight is not None:
        l, i, j = args.weight
        if l >= net.n_dense or i >= net.dense[l].params["W"].shape[0] or j >= net.dense[l].units:
            shapes = ", ".join(f"layer{k + 1}.W {d.params['W'].shape[0]}×{d.units}"
                               for k, d in enumerate(net.dense))
            raise UsageError(f"--weight layer{l + 1}.W[{i},{j}] is not in this network ({shapes}; "
                             "indices from 0)")
    n = min(args.samples, session.trainer.n_train)
    probes = probe_weights(session.trainer, samples=args.samples, h=h, selected=args.weight)
    rows = gradient_check(session.trainer, samples=args.samples, h=h)
    console.print(user_text(f"{scenario.meta.name} ({args.file})", style="bold", one_line=True))
    console.print(f"Gradient check on {n} training samples: float64, dropout off, h = {h:g}; "
                  f"L = data loss + penalty; pass when relative error < {PASS_BELOW:g}.")
    which = "the given weight and its bias" if args.weight else "the entry with the largest |dL/dw|"
    console.print(f"One weight per tensor ({which}), "
                  "wiggled by ±h: numerical = (L(w + h) − L(w − h)) / 2h, the central difference; "
                  "forward = (L(w + h) − L(w)) / h, for comparison. "
                  "rel.error = |analytic − numerical| / (|analytic| + |numerical|).")
    if probes:
        console.print(f"L(w) = {probes[0].loss!r}")
    width = max(len("weight"), *(len(p.name) for p in probes))
    console.print(Text(f"{'weight':<{width}}  {'numerical':>19}  {'analytic':>19}  {'rel.error':>9}  "
                       f"{'L(w − h)':>20}  {'L(w + h)':>20}  {'forward':>19}  {'rel.error':>9}",
                       style="bold"))
    for p in probes:
        console.print(Text(f"{p.name:<{width}}  {p.central:>19.12g}  {p.analytic:>19.12g}  "
                           f"{num(p.rel_error, 3):>9}  {p.loss_minus!r:>20}  {p.loss_plus!r:>20}  "
                           f"{p.forward:>19.12g}  {num(p.forward_rel_error, 3):>9}"))
    table = Table(box=box.HEAVY_HEAD)
    for name, justify in (("Tensor", "left"), ("Key", "left"), ("Shape", "left"), ("Checked", "right"),
                          ("Relative error", "right"), ("Max |diff|", "right"), ("Result", "left")):
        table.add_column(name, justify=justify, no_wrap=True)
    failed = 0
    for r in rows:
        ok = r.rel_error < PASS_BELOW
        failed += not ok
        table.add_row(Text(r.label or r.name), Text(r.name), Text("×".join(map(str, r.shape))),
                      Text(str(r.checked)),
                      Text(num(r.rel_error, 3)), Text(num(r.max_abs_diff, 3)),
                      Text(f"{mark(ok)} {'pass' if ok else 'FAIL'}", style="green" if ok else "bold red"))
    console.print(table)
    if failed:
        console.print(f"{failed} of {len(rows)} tensors FAIL: the analytic gradient disagrees "
                      "with finite differences.")
        return EXIT_FAILED
    console.print(f"All {len(rows)} tensors pass.")
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    circuit = is_circuit_file(args.file)
    reject_options(args, circuit)
    if circuit:
        from .circuit import run_command as run_circuit
        return run_circuit(args)
    from .run import run_command
    return run_command(args)


def _check(args: argparse.Namespace) -> int:
    if is_circuit_file(args.file):
        from .circuit import check_command as check_circuit
        return check_circuit(args)
    from .check import check_command
    return check_command(args)


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": list_command, "check": _check, "run": _run, "gradcheck": gradcheck_command,
}


# -- entry point -----------------------------------------------------------------------------------
def scenario_arg(text: str, command: str = "run") -> str:
    """A FILE argument: the path as given when it exists; else, when it is no path (no folder
    in it), the built-in lesson it names by number or name (`nnsim run 06`, `nnsim check
    two-circles`), from any folder; else a usage error naming the closest lesson."""
    from nnsim.scenarios.library import closest_lesson, find_lesson

    if Path(text).exists():
        return text
    if "/" not in text and "\\" not in text:
        found = find_lesson(text)
        if found is not None:
            return str(found)
    close = closest_lesson(text)
    prog = "nnsim" if command is None else f"nnsim {command}"
    hint = (f"; did you mean the built-in lesson {close.stem} ({prog} {close.stem})?" if close
            else "; nnsim list shows the built-in lessons (nnsim run 06 runs lesson 06)")
    raise UsageError(f"{text}: file not found{hint}")


def _dispatch(argv: list[str]) -> int:
    if not argv:
        return open_app(None)
    first = argv[0]
    if first not in COMMANDS and not first.startswith("-"):
        from nnsim.scenarios.library import find_lesson
        lesson = None if Path(first).exists() or "/" in first else find_lesson(first)
        if Path(first).suffix.lower() == ".toml" or Path(first).exists() or lesson is not None:
            if len(argv) > 1:
                raise UsageError(f"unexpected arguments after {first}: {' '.join(argv[1:])} "
                                 "(options belong to a command, e.g. nnsim run FILE --epochs 10)")
            return open_app(scenario_arg(first, None))
        close = difflib.get_close_matches(first, COMMANDS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise UsageError(f"unknown command '{first}'; {hint}commands: {', '.join(COMMANDS)}; "
                         "or give a scenario file ending in .toml, or a lesson's number or name "
                         "(nnsim list)")
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # name the command in the usage line, not just "nnsim"
            sub = _subparser(parser, args.command)
            (sub or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        return open_app(None)
    if getattr(args, "file", None) is not None:    # a lesson's number or name works from anywhere
        args.file = scenario_arg(args.file, args.command)
    return HANDLERS[args.command](args)


def _subparser(parser: argparse.ArgumentParser, name: str | None) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(name)
    return None


def _problem_lines(exc) -> list[str]:
    return [str(p) for p in exc.problems] or [str(exc)]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (130 after Ctrl-C, at any moment)."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        return interrupted()


def _main(argv: list[str]) -> int:
    debug = bool(os.environ.get("NNSIM_DEBUG"))
    from nnsim.data import DataError
    from nnsim.engine.checkpoint import CheckpointError
    from nnsim.scenarios import ScenarioError
    try:
        return _dispatch(argv)
    except ScenarioError as exc:
        if debug:
            raise
        lines = _problem_lines(exc)
        for line in lines:
            print(clean(line), file=sys.stderr)
        if len(lines) > 1:
            print(f"{len(lines)} problems; see docs/scenarios.md for every key.", file=sys.stderr)
        return EXIT_USAGE
    except (UsageError, CheckpointError, DataError) as exc:
        if debug:
            raise
        err(str(exc))
        return EXIT_USAGE
    except BrokenPipeError:
        # the reader went away (nnsim list | head): stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_FAILED  # as rich does when its console meets a closed pipe
    except OSError as exc:
        if debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        err(f"{where}{exc.strerror or exc}")
        return EXIT_USAGE
    except ValueError as exc:
        if debug:
            raise
        err(str(exc))
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
