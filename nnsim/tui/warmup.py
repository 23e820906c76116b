"""Compile (first launch) or load (later launches) the Numba kernels in the background, one named
piece at a time, so the app shows the gallery and the lesson at once. Imports no textual.

Numba compiles a kernel on its first call for each dtype and caches the machine code on disk
(`cache=True`); the first launch of the app therefore compiles the dense kernels, 5-10 s on a
2-core machine. `Warmup` does it in a daemon thread, in steps whose names the app shows
("preparing the kernels: 4/7 loss and output gradient"), and only for the dtypes the opened
lessons use: float32 at start-up, float64 when a float64 lesson opens. The prediction kernel
comes early (the boundary view needs it); the fused training loop comes last. Later launches
load everything from the cache in about half a second. A lesson with conv or pool layers asks
for "float32 conv" as well: the layered kernels (`kernels.cpu_layers`), which dense lessons
never compile.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from nnsim.engine import Network


@dataclass(frozen=True)
class WarmStep:
    """One finished warm-up step."""

    index: int          # 1-based
    total: int
    label: str
    seconds: float
    from_cache: bool    # loaded rather than compiled


def _pieces(dtype: np.dtype) -> list[tuple[str, Callable[[], None]]]:
    """(label, call) for each piece, in an order where every piece's callees come first; the
    calls use the exact argument types the trainer uses, so nothing compiles twice."""
    from nnsim.engine import Dense, Network, Trainer
    from nnsim.kernels import catalogue as cat
    from nnsim.kernels import cpu

    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 2))
    y = (x[:, :1] > 0).astype(np.float64)
    net = Network(2, [Dense(3, activation="tanh"), Dense(1, activation="sigmoid")],
                  dtype=str(dtype))
    tr = Trainer(net, x, y, x, y, loss="binary_crossentropy", batch_size=4)
    i0 = np.int64(0)
    one = np.int64(1)
    f = np.zeros(4, dtype=dtype)
    U = np.zeros((0, 0), dtype=dtype)
    Y = np.zeros((1, 1))
    order = np.zeros(1, dtype=np.int64)
    alpha = dtype.type(0.0)

    def products() -> None:
        for mm in (cpu._mm, cpu._mm_tn, cpu._mm_nt):
            mm(f, i0, f, i0, f, i0, one, one, one)

    def activations() -> None:
        cpu._act_fwd(i0, alpha, f, i0, f, i0, one, one)
        # a hidden layer's call (the output layer's, with literal zeros, compiles with the loop)
        cpu._act_bwd(i0, alpha, f, i0, f, i0, f, i0, f, i0, one, one, alpha, U, i0, i0)

    def loss() -> None:
        cpu._loss_delta(np.int64(cat.MSE), False, i0, f, i0, f, i0, f, i0, f, i0, one, one,
                        Y, order, i0)

    def optimizer() -> None:
        opt = tr.optimizer
        cpu.optimizer_update(np.int64(opt.code), tr._hp, np.int64(0), f.copy(), f, opt.s1[:4].copy(),
                             opt.s2[:4].copy())

    return [
        ("matrix products", products),
        ("activations and their derivatives", activations),
        ("prediction (forward pass)", lambda: tr.predict(x[:3])),
        ("loss and output gradient", loss),
        ("optimizer updates", optimizer),
        ("training loop", lambda: tr.play(2)),
        ("stepper", lambda: tr.step_batch(trace=True)),
    ]


def _layered_net(dtype: np.dtype, tag: str) -> tuple[Network, np.ndarray, int]:
    """A small network (and inputs, batch size) whose layered kernels are variant `tag`."""
    from nnsim.engine import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, Network
    from nnsim.engine.layers import LSTM

    rng = np.random.default_rng(0)
    if tag == "cnn_threads":   # rows large enough for the two-thread kernels (W4's first conv)
        layers, shape, batch = [Conv2D(8, 3, activation="relu"), MaxPool2D(2), Flatten()], (1, 28, 28), 64
    elif tag == "rnn":
        layers, shape, batch = [LSTM(2)], (3, 2), 4
    elif tag == "plain":
        layers, shape, batch = [Flatten()], (1, 4, 4), 4
    else:
        layers, shape, batch = [Conv2D(2, 2, activation="relu"), MaxPool2D(1), AvgPool2D(1), Flatten()], (1, 4, 4), 4
    size = int(np.prod(shape))
    net = Network(size, [*layers, Dense(2, activation="softmax")], dtype=str(dtype), input_shape=shape)
    return net, rng.normal(size=(batch, size)), batch


def _layered_pieces(dtype: np.dtype, tag: str) -> list[tuple[str, Callable[[], None]]]:
    """The layered kernels of variant `tag` (`cpu_layers.variant`) with the argument types a
    lesson's trainer uses; none if no small network makes that variant."""
    from nnsim.engine import Trainer
    from nnsim.kernels.cpu_layers import kernels_for

    net, x, batch = _layered_net(dtype, tag)
    if kernels_for(net.layi, batch).tag != tag:
        return []
    y = np.arange(batch) % 2
    tr = Trainer(net, x, y, x, y, loss="sparse_categorical_crossentropy", batch_size=batch)
    what = {"cnn": "conv", "cnn_threads": "conv (two threads)", "rnn": "recurrent"}.get(tag, "layered")
    return [(f"{what} prediction", lambda: tr.predict(x)),
            (f"{what} training loop", lambda: tr.play(2)),
            (f"{what} stepper", lambda: tr.step_batch(trace=True))]


def layered_tags(net: Network, batch_size: int) -> list[str]:
    """The layered kernel variants that training (mini-batches of batch_size) and prediction
    of `net` use (one or two: prediction runs PREDICT_ROWS_LAYERED rows at a time)."""
    from nnsim.engine.network import PREDICT_ROWS_LAYERED
    from nnsim.kernels.cpu_layers import kernels_for

    return sorted({kernels_for(net.layi, batch_size).tag, kernels_for(net.layi, PREDICT_ROWS_LAYERED).tag})


def _cache_hits() -> int:
    from numba.core.registry import CPUDispatcher

    from nnsim.kernels import cpu, cpu_layers
    found = [v for module in (cpu, cpu_layers) for v in vars(module).values()
             if isinstance(v, CPUDispatcher)]
    for k in cpu_layers.compiled_variants():
        found += [k.train, k.predict]
    return sum(sum(d.stats.cache_hits.values()) for d in found)


class Warmup:
    """Background compilation of the kernels for each dtype, with progress for the app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[str, threading.Event] = {}
        self._threads: dict[str, threading.Thread] = {}
        self.steps: list[WarmStep] = []
        self.current: str | None = None       # what is compiling now ("3/7: loss ...")
        self.error: str | None = None
        self.on_step: Callable[[WarmStep], None] | None = None   # called from the thread
        # layered warm-ups under way: the plain ones pause between pieces until they are done
        # (Numba compiles one function at a time, and the lesson open waits for its layered
        # kernels, not for the dense ones the app starts at launch)
        self._layered = 0
        self._layered_done = threading.Condition()

    def start(self, dtype: str = "float32") -> None:
        """Begin preparing `dtype`'s kernels in a daemon thread (once)."""
        with self._lock:
            if dtype in self._threads:
                return
            self._done[dtype] = threading.Event()
            if " " in dtype:
                with self._layered_done:
                    self._layered += 1
            t = threading.Thread(target=self._run, args=(dtype,), daemon=True,
                                 name=f"nnsim-warmup-{dtype}")
            self._threads[dtype] = t
        t.start()

    def ready(self, dtype: str = "float32") -> bool:
        event = self._done.get(dtype)
        return event is not None and event.is_set()

    def wait(self, dtype: str = "float32", timeout: float | None = None) -> bool:
        """Start `dtype` if needed and block until it is ready (True) or `timeout` passes."""
        self.start(dtype)
        return self._done[dtype].wait(timeout)

    def status(self, dtype: str = "float32") -> str:
        """One line for the status bar: empty once ready."""
        if self.ready(dtype):
            return ""
        now = self.current or "starting"
        return f"preparing the kernels (first launch compiles them): {now}"

    def run_steps(self, dtype: str = "float32") -> list[WarmStep]:
        """Prepare `dtype`'s kernels in this thread; the steps it took."""
        out: list[WarmStep] = []
        t0 = time.perf_counter()
        import nnsim.kernels.cpu  # noqa: F401  (imports numba: part of the first step's time)
        base, _, tags = dtype.partition(" ")       # "float32" or e.g. "float32 cnn"
        if tags:
            pieces = [p for tag in tags.split("+") for p in _layered_pieces(np.dtype(base), tag)]
        else:
            pieces = _pieces(np.dtype(base))
        for i, (label, call) in enumerate(pieces, 1):
            if not tags:
                with self._layered_done:
                    self._layered_done.wait_for(lambda: self._layered == 0)
                t0 = time.perf_counter()
            self.current = f"{i}/{len(pieces)}: {label}"
            hits = _cache_hits()
            call()
            dt = time.perf_counter() - t0
            step = WarmStep(i, len(pieces), label, dt, _cache_hits() > hits)
            out.append(step)
            self.steps.append(step)
            if self.on_step is not None:
                self.on_step(step)
            t0 = time.perf_counter()
        self.current = None
        return out

    def _run(self, dtype: str) -> None:
        layered = " " in dtype     # counted in `start`, before its thread runs
        try:
            self.run_steps(dtype)
        except Exception as exc:  # noqa: BLE001 - shown by the app; kernels then compile on use
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            if layered:
                with self._layered_done:
                    self._layered -= 1
                    self._layered_done.notify_all()
            self._done[dtype].set()
