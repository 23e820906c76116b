"""`nnsim run FILE`: train headless, one Keras-like line per epoch, then judge the goals."""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from nnsim.engine import DivergenceError, EpochRecord, Trainer
from nnsim.engine.checkpoint import load_checkpoint, save_checkpoint
from nnsim.files import UserFileError, check_user_file
from nnsim.numfmt import num
from nnsim.scenarios import Scenario, load_scenario
from nnsim.scenarios.build import build_session
from nnsim.scenarios.goals import GoalResult, evaluate_goals
from nnsim.tui.usertext import user_text

from .backends import chosen_backend
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    check_output_path,
    err,
    mark,
    stdout_console,
)
from .history import check_history_path, write_history

#: The largest checkpoint --load opens (the engine validates what is inside).
MAX_CHECKPOINT_BYTES = 4 << 30


def _fmt(value: float | None) -> str:
    """The one number format (nnsim.numfmt): 4 significant digits, scientific when huge/tiny."""
    return num(value, none="n/a")


def epoch_line(rec: EpochRecord, total: int) -> str:
    """`Epoch 3/60 - loss: 0.1234 - accuracy: 0.9500 - test_loss: 0.1300 - test_accuracy: 0.9400 - 0.02s`"""
    m = rec.metric
    parts = [f"Epoch {rec.epoch}/{total}", f"loss: {_fmt(rec.train_loss)}", f"{m}: {_fmt(rec.train_metric)}"]
    if rec.test_loss is not None:
        parts += [f"test_loss: {_fmt(rec.test_loss)}", f"test_{m}: {_fmt(rec.test_metric)}"]
    parts.append(f"{rec.seconds:.2f}s")
    return " - ".join(parts)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _full_batches(trainer: Trainer) -> int:
    return -(-trainer.n_train // trainer.batch_size)


def _progress(enabled: bool) -> Progress:
    """The bar on stderr; epoch lines printed to a terminal stdout go above it."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("Epoch {task.fields[epoch]}/{task.fields[total_epochs]}"),
        BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
        TextColumn("loss {task.fields[loss]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=console, transient=True, disable=not enabled,
        redirect_stdout=enabled and sys.stdout.isatty(), redirect_stderr=False,
    )


def train_epochs(trainer: Trainer, target: int, *, show_bar: bool, on_epoch) -> None:
    """Train until `trainer.epoch == target`, calling `on_epoch(record)` after each epoch.

    Batches run through the play path in chunks of about a tenth of an epoch (the same math as
    whole epochs), so the bar moves within an epoch. Raises DivergenceError."""
    full = _full_batches(trainer)
    remaining = (trainer.batches_per_epoch - trainer.batch) + (target - trainer.epoch - 1) * full
    chunk = max(1, -(-full // 10))
    with _progress(show_bar) as progress:
        task = progress.add_task("train", total=remaining, epoch=trainer.epoch + 1,
                                 total_epochs=target, loss="…")
        while trainer.epoch < target:
            losses, rec = trainer.play(chunk)
            progress.update(task, advance=len(losses), loss=_fmt(float(losses[-1])))
            if rec is not None:
                on_epoch(rec)
                progress.update(task, epoch=min(trainer.epoch + 1, target))


def print_goals(console: Console, results: list[GoalResult]) -> bool:
    """Each goal with ✓ or ✗ and what was seen; returns whether all were met."""
    if not results:
        console.print("No goals set.")
        return True
    console.print("Goals:")
    for r in results:
        line = Text("  ")
        line.append(mark(r.met), style="bold green" if r.met else "bold red")
        line.append(f" {r.text}: {r.detail}")
        console.print(line)
    met = sum(r.met for r in results)
    if met == len(results):
        console.print("All goals met." if len(results) > 1 else "Goal met.")
        return True
    console.print(f"{met} of {len(results)} goals met.")
    return False


def _target_epochs(args: argparse.Namespace, scenario: Scenario, trainer: Trainer,
                   load_path: Path | None) -> int:
    target = args.epochs if args.epochs is not None else scenario.training.epochs
    if trainer.epoch >= target:
        raise UsageError(
            f"--load {load_path}: the checkpoint has already trained {trainer.epoch} epochs and "
            f"this run stops at epoch {target}; pass --epochs N with N > {trainer.epoch} to train more")
    return target


def run_command(args: argparse.Namespace) -> int:
    console = stdout_console()
    path = Path(args.file)
    history_path = check_history_path(Path(args.history)) if args.history else None
    save_path = check_output_path(Path(args.save), "checkpoint") if args.save else None
    load_path = Path(args.load) if args.load else None
    if load_path is not None:  # a FIFO or a device is refused before anything reads it
        try:
            check_user_file(load_path, MAX_CHECKPOINT_BYTES, what="checkpoint")
        except UserFileError as exc:
            reason = "checkpoint file not found" if exc.reason == "file not found" else exc.reason
            raise UsageError(f"--load {load_path}: {reason}") from None

    scenario = load_scenario(path)
    session = build_session(scenario, seed=args.seed, backend=chosen_backend(args, scenario))
    tr = session.trainer
    ds = session.dataset
    console.print(user_text(f"{scenario.meta.name} ({path})", style="bold", one_line=True))
    if load_path is not None:
        if not zipfile.is_zipfile(load_path):
            raise UsageError(f"--load {load_path}: not an .npz checkpoint (write one with --save)")
        resumed = load_checkpoint(tr, load_path)
        if resumed:
            console.print(user_text(f"Loaded checkpoint {load_path}: resuming after epoch {tr.epoch} "
                                    f"(step {tr.step}).", one_line=True))
        else:
            console.print(user_text(f"Loaded weights from {load_path}; the optimizer starts fresh.",
                                    one_line=True))
    target = _target_epochs(args, scenario, tr, load_path)
    seed = scenario.meta.seed if args.seed is None else args.seed
    console.print(f"{ds.n_train} train / {ds.n_test} test samples, {tr.net.n_params} parameters, "
                  f"{_plural(_full_batches(tr), 'batch', 'batches')} of {tr.batch_size} per epoch, seed {seed}; "
                  f"training to epoch {target}.")

    last: list[EpochRecord] = []

    def on_epoch(rec: EpochRecord) -> None:
        changed = not last or last[0].warnings != rec.warnings
        last[:] = [rec]
        if not args.quiet:
            print(epoch_line(rec, target), flush=True)
            if changed:   # health warnings, printed when they appear or change
                for w in rec.warnings:
                    console.print(user_text(f"  warning: {w}", style="yellow", one_line=True))

    show_bar = not args.quiet and sys.stderr.isatty()
    diverged: DivergenceError | None = None
    try:
        train_epochs(tr, target, show_bar=show_bar, on_epoch=on_epoch)
    except DivergenceError as exc:
        diverged = exc
    if args.quiet and last:
        print(epoch_line(last[0], target))
        for w in last[0].warnings:
            console.print(user_text(f"  warning: {w}", style="yellow", one_line=True))
    if diverged is not None:
        console.print(Text("Diverged: ", style="bold red") + user_text(diverged))

    # each output on its own: one that cannot be written does not cost the other
    failed = 0
    if history_path is not None:
        try:
            write_history(tr, history_path, {"scenario": scenario.meta.name, "file": str(path),
                                             "seed": seed, "diverged": diverged is not None})
            kept = tr.history.summary()
            thinned = (f"; thinned from {kept['epochs_total']} and {kept['batches_total']}"
                       if kept["decimated"] else "")
            if history_path.suffix.lower() == ".csv":    # one row per epoch: say where batches are
                what = (f"{kept['epochs_kept']} epochs, one row each{thinned}; a .csv holds epochs "
                        f"only: --history {history_path.with_suffix('.json').name} also writes the "
                        f"{kept['batches_kept']} mini-batch losses")
            else:
                what = f"{kept['epochs_kept']} epochs, {kept['batches_kept']} batches{thinned}"
            console.print(user_text(f"History written to {history_path} ({what}).", one_line=True))
        except OSError as exc:
            failed += 1
            err(f"history not written: {exc}")
    if save_path is not None:
        try:
            save_checkpoint(tr, save_path)
            console.print(user_text(f"Checkpoint written to {save_path} (after epoch {tr.epoch}, "
                                    f"step {tr.step}).", one_line=True))
        except OSError as exc:
            failed += 1
            err(f"checkpoint not written: {exc}")

    results = evaluate_goals(scenario.goals, tr.history.epochs, diverged is not None)
    if diverged is not None and not scenario.goals.diverges and not results:
        console.print("Training diverged and the scenario does not expect it.")
        return EXIT_USAGE if failed else EXIT_FAILED
    ok = print_goals(console, results)
    if failed:
        return EXIT_USAGE
    return EXIT_OK if ok else EXIT_FAILED
