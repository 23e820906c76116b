"""`nnsim check FILE`: validate, then a Keras-style summary of the network, data, training, goals."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from nnsim.engine import Conv2D, Dense, Dropout, Flatten
from nnsim.engine.layers import LSTM, SimpleRNN
from nnsim.engine.shapes import show
from nnsim.scenarios import Scenario, load_scenario
from nnsim.scenarios.build import Session, build_session
from nnsim.scenarios.goals import goal_texts
from nnsim.scenarios.library import first_sentence
from nnsim.textsafe import clean_line
from nnsim.tui.usertext import user_text

from .common import EXIT_OK, stdout_console


def model_table(session: Session) -> Table:
    """`Layer (type) | Output Shape | Param #`, plus what each layer does."""
    net = session.network
    table = Table(box=box.HEAVY_HEAD, title=None, show_lines=False)
    summary = net.summary()
    widest = max([len(show(net.input_shape or (net.input_dim,)))]
                 + [len(r.output_shape) for r in summary])   # shapes are never cut short
    names = [f"{r.name} ({r.type})" for r in summary]
    # names, shapes and counts are never cut short; the details wrap (80 columns fit)
    table.add_column("Layer (type)", no_wrap=True, min_width=max([13] + [len(n) for n in names]))
    table.add_column("Output Shape", no_wrap=True, min_width=max(12, widest))
    table.add_column("Param #", justify="right", no_wrap=True,
                     min_width=max([7] + [len(f"{r.params:,}") for r in summary]))
    table.add_column("Details", overflow="fold")
    inputs = (name_list(session.dataset.feature_names) if not net.input_shape else
              f"images {'×'.join(map(str, net.input_shape))} (channels × height × width)"
              if len(net.input_shape) == 3 else
              f"sequences of {net.input_shape[0]} steps × {net.input_shape[1]} features")
    table.add_row(Text("input (Input)"), Text(show(net.input_shape or (net.input_dim,))), Text("0"),
                  Text(clean_line(inputs)))
    for row, layer in zip(summary, net.layers):
        if isinstance(layer, Dense):
            detail = f"{layer.activation}, init {layer.init}"
            if not layer.use_bias:
                detail += ", no bias"
        elif isinstance(layer, Dropout):
            detail = f"rate {layer.rate:g}"
        else:
            detail = layer_detail(layer)
        table.add_row(Text(f"{row.name} ({row.type})"), Text(row.output_shape),
                      Text(f"{row.params:,}"), Text(detail))
    return table


def name_list(names: list[str], limit: int = 6) -> str:
    """Feature names for one line: all of a few, else the first ones, "…" and the last."""
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[: limit - 2]) + f", …, {names[-1]}"


def _pair(p: tuple[int, int]) -> str:
    return f"{p[0]}×{p[1]}"


def layer_detail(layer: object) -> str:
    """What a conv, pool or flatten layer does, in a few words."""
    if isinstance(layer, Conv2D):
        detail = (f"{layer.filters} filters {_pair(layer.kernel_size)}, stride "  # type: ignore[arg-type]
                  f"{_pair(layer.stride)}, {layer.padding}, {layer.activation}")  # type: ignore[arg-type]
        if layer.kernel is not None:
            detail += ", hand-set kernel"
        return detail
    if isinstance(layer, Flatten):
        return "channel by channel, row by row"
    if isinstance(layer, (SimpleRNN, LSTM)):
        what = (f"{layer.activation}" if isinstance(layer, SimpleRNN) else
                "gates i, f, g, o; c = f·c + i·g, h = o·tanh c")
        return (f"{what}; " + ("every step's h" if layer.return_sequences else "last step's h")
                + (", no bias" if not layer.use_bias else ""))
    return (f"{'max' if layer.kind == 'maxpool2d' else 'mean'} of {_pair(layer.pool_size)}, "  # type: ignore[attr-defined]
            f"stride {_pair(layer.stride)}")  # type: ignore[attr-defined]


def _task(session: Session) -> str:
    ds = session.dataset
    if ds.task == "regression":
        return "regression" + (f", target {ds.target_name}" if ds.target_name else "")
    kind = "binary" if ds.task == "binary" else "multi-class"
    return f"{kind} classification, {ds.n_classes} classes"


def _options(opts: dict) -> str:
    return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in opts.items())


def describe(scenario: Scenario, session: Session) -> list[tuple[str, list[str]]]:
    """The data, training and goals sections as (title, lines)."""
    ds, tr, d, t = session.dataset, session.trainer, scenario.data, scenario.training
    data = [f"dataset: {d.dataset} ({_task(session)})",
            f"samples: {ds.n_train} train / {ds.n_test} test (test fraction {d.test_fraction:g})",
            f"inputs: {ds.input_dim} ({name_list(ds.feature_names)})"]
    extras = []
    if d.noise:
        extras.append(f"noise {d.noise:g}")
    if d.normalize:
        extras.append("normalized (mean 0, std 1)")
    if d.path:
        extras.append(f"file {d.path}")
    if ds.input_kind == "sequence" and ds.input_shape:
        extras.append(f"sequences of {ds.input_shape[0]} steps"
                      + (f", pattern {d.pattern}" if d.pattern else ""))
    if d.target == "inputs" and d.dataset != "csv":
        extras.append("targets = the inputs (an autoencoder)")
    if extras:
        data.append(", ".join(extras))

    loss = t.loss + (" (from logits)" if t.from_logits else "")
    opt = t.optimizer + (f" ({_options(t.optimizer_options())})" if t.optimizer_options() else "")
    sched = t.schedule.name + (f" ({_options(t.schedule.options())})" if t.schedule.options() else "")
    reg = t.regularization if t.regularization == "none" else f"{t.regularization}, rate {t.regularization_rate:g}"
    bpe = -(-ds.n_train // t.batch_rows(ds.n_train))
    training = [f"loss: {loss}, metric: {tr.metric}",
                f"optimizer: {opt}, learning rate {t.learning_rate:g}",
                f"schedule: {sched}",
                f"regularization: {reg}"
                + (f", gradients clipped to global norm {t.clip_norm:g}" if t.clip_norm else ""),
                f"batch size {t.batch_size}{f' = {ds.n_train}' if t.batch_size == 'full' else ''} "
                f"({bpe} {'batch' if bpe == 1 else 'batches'} per epoch), {t.epochs} epochs, "
                f"{'shuffled' if t.shuffle else 'not shuffled'}",
                f"dtype {t.dtype}, seed {scenario.meta.seed}"]
    goals = [f"- {text}" for _, text in goal_texts(scenario.goals)] or ["none"]
    return [("Data", data), ("Training", training), ("Goals", goals)]


def print_summary(console: Console, path: Path, scenario: Scenario, session: Session) -> None:
    """The summary; on a terminal prose lines wrap between words at its width (80 columns fit),
    in a pipe or a file each stays one line."""
    wrap = {"soft_wrap": not console.is_terminal}
    console.print(user_text(f"{path}: valid scenario", style="green", one_line=True))
    console.print(user_text(f'Model: "{scenario.meta.name}"', style="bold", one_line=True), **wrap)
    if scenario.meta.description.strip():
        console.print(user_text(first_sentence(scenario.meta.description, limit=200), style="italic",
                                one_line=True), **wrap)
    table = model_table(session)
    if console.is_terminal:
        console.print(table)                 # the details column wraps to fit the terminal
    else:                                    # a pipe or a file: one line per layer, uncut
        wide = Measurement.get(console, console.options.update_width(10_000), table).maximum
        width, console.width = console.width, max(console.width, wide)
        try:
            console.print(table)
        finally:
            console.width = width
    n = session.network.n_params
    console.print(f" Total params: {n:,}")
    console.print(f" Trainable params: {n:,}")
    console.print(" Non-trainable params: 0")
    for title, lines in describe(scenario, session):
        console.print()
        console.print(Text(title, style="bold"))
        for line in lines:
            console.print(user_text("  " + line, one_line=True), **wrap)


def check_command(args: argparse.Namespace) -> int:
    path = Path(args.file)
    scenario = load_scenario(path)
    session = build_session(scenario)
    print_summary(stdout_console(), path, scenario, session)
    return EXIT_OK
