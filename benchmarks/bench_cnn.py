"""W4, a small CNN: nnsim's layered kernels against its NumPy reference and PyTorch CPU.

W4: 1×28×28 input, conv 3×3 ×8 → relu → maxpool 2 → conv 3×3 ×16 → relu → maxpool 2 → dense
10, softmax cross-entropy, SGD (lr 0.01), batch 64, 2,000 samples (uniform [0, 1) pixels, labels
from a random linear teacher). Also the LeNet lesson (scenarios/45-…)'s epoch and the layered
kernels' first compile and cached load.

    python benchmarks/bench_cnn.py                 # W4 + lesson 45 + start-up, ~2 minutes
    python benchmarks/bench_cnn.py --quick         # 3 timed epochs per column instead of 9
    python benchmarks/bench_cnn.py --no-startup --no-torch --wait-quiet 300 --json out.json

Columns (milliseconds per epoch, the median; every column trains the first epoch from the same
weights in the same order, in interleaved rounds, as bench_engine.py does): `play` nnsim's
`Trainer.play` (one kernel call per epoch; BLAS and Numba's threads at their default 2),
`play·1t` the same with BLAS and Numba at one thread each, `reference` the NumPy reference
backend, `torch` PyTorch eager with 2 threads (`nn.Conv2d`, `nn.MaxPool2d`, `nn.Linear`,
nnsim's weights copied in, nnsim's batch order, `CrossEntropyLoss`, `loss.item()` per batch),
`torch·1t` with one. nnsim's end-of-epoch evaluation is subtracted (shown as `eval`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_engine import (  # noqa: E402
    NnsimRun,
    cpu_snapshot,
    host_speed,
    med_ms,
    others_cpu,
    run_child,
    time_interleaved,
    timed,
    torch_or_none,
    wait_quiet,
)

from nnsim.engine import Conv2D, Dense, Flatten, MaxPool2D, Network, Trainer  # noqa: E402

N, SHAPE, BATCH, LR = 2000, (1, 28, 28), 64, 0.01


def w4_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((N, int(np.prod(SHAPE))), dtype=np.float32).astype(np.float64)
    teacher = rng.normal(0, 1, (x.shape[1], 10))
    return x, np.argmax((x - 0.5) @ teacher, axis=1)[:, None]


def w4_network(dtype: str = "float32") -> Network:
    return Network(784, [Conv2D(8, 3, activation="relu"), MaxPool2D(2),
                         Conv2D(16, 3, activation="relu"), MaxPool2D(2), Flatten(),
                         Dense(10, activation="softmax")], dtype=dtype, seed=0, input_shape=SHAPE)


def w4_trainer(x: np.ndarray, y: np.ndarray, backend: str = "cpu") -> Trainer:
    return Trainer(w4_network(), x, y[:, 0], loss="sparse_categorical_crossentropy",
                   optimizer="sgd", learning_rate=LR, batch_size=BATCH, shuffle=True, seed=0,
                   backend=backend)


class OneThreadRun(NnsimRun):
    """`play·1t`: BLAS (threadpoolctl) and Numba's parallel kernels (the conv rows' two halves
    of a mini-batch) held to one thread."""

    def __init__(self, tr: Trainer) -> None:
        super().__init__(tr, "play", blas_threads=1)
        self._numba = 0

    def enter(self) -> None:
        import numba
        super().enter()
        self._numba = numba.get_num_threads()
        numba.set_num_threads(1)

    def exit(self) -> None:
        import numba
        super().exit()
        numba.set_num_threads(self._numba)


class TorchCNN:
    """W4 in PyTorch eager, nnsim's initial weights and first-epoch order."""

    def __init__(self, torch, x: np.ndarray, y: np.ndarray, weights: dict[str, np.ndarray],
                 threads: int = 2) -> None:
        nn = torch.nn
        self.torch, self.threads, self.weights = torch, threads, weights
        self.model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
                                   nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                   nn.Linear(400, 10)).float()
        self.X = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32).reshape(-1, *SHAPE))
        self.Y = torch.from_numpy(y[:, 0].astype(np.int64))
        self.order = torch.from_numpy(np.random.default_rng(0).permutation(len(x)))
        self.loss_fn = nn.CrossEntropyLoss()
        self.reset()

    def enter(self) -> None:
        self.torch.set_num_threads(self.threads)

    def exit(self) -> None:
        pass

    def reset(self) -> None:
        torch, w = self.torch, self.weights
        with torch.no_grad():
            for mod, key, t in ((self.model[0], "layer0", False), (self.model[3], "layer2", False),
                                (self.model[7], "layer5", True)):
                W = torch.from_numpy(w[f"{key}.W"].copy())
                mod.weight.copy_(W.T if t else W)   # conv kernels: the same order; dense: Wᵀ
                mod.bias.copy_(torch.from_numpy(w[f"{key}.b"]))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LR)

    def epoch(self) -> list[float]:
        losses = []
        for s in range(0, len(self.order), BATCH):
            idx = self.order[s:s + BATCH]
            self.opt.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.model(self.X[idx]), self.Y[idx])
            loss.backward()
            self.opt.step()
            losses.append(loss.item())
        return losses


def agreement(torch, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """One epoch each from the same weights in the same order: the batch losses' largest
    relative difference (float32 both)."""
    tr = w4_trainer(x, y)
    run = TorchCNN(torch, x, y, tr.net.get_weights(), threads=2)
    run.enter()
    theirs = run.epoch()
    ours, _ = tr.play(1 << 30)
    ours = list(ours)
    rel = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(ours, theirs))
    return {"batches": len(ours), "max_rel_diff": rel, "first_ours": ours[0], "first_torch": theirs[0]}


def lesson_epoch(repeats: int) -> dict[str, float]:
    """The LeNet lesson's play epoch (training and evaluation), median of `repeats`."""
    from nnsim.scenarios import load_scenario
    from nnsim.scenarios.build import build_session
    path = next((HERE.parent / "scenarios").glob("45-*.toml"))
    session = build_session(load_scenario(path))
    run = NnsimRun(session.trainer, "play")
    run.epoch()                                     # warm-up (and compile)
    totals, evals = [], []
    for _ in range(repeats):
        run.reset()
        run.evals.clear()
        totals.append(timed(run.epoch))
        evals.append(run.evals[-1])
    return {"file": path.name, "batches": session.trainer.batches_per_epoch,
            "total_ms": med_ms(totals), "eval_ms": med_ms(evals),
            "train_ms": med_ms([t - e for t, e in zip(totals, evals)])}


STARTUP = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from nnsim.engine import Conv2D, Dense, Flatten, MaxPool2D, Network, Trainer
rng = np.random.default_rng(0)
side, batch = (8, 32) if sys.argv[1] == "lesson" else (28, 64)   # 8x8 digits, or W4's size
x = rng.random((128, side * side)); y = np.arange(128) % 10
net = Network(side * side, [Conv2D(4, 3, activation="relu"), MaxPool2D(2), Flatten(),
                            Dense(10, activation="softmax")], input_shape=(1, side, side))
tr = Trainer(net, x, y, x, y, loss="sparse_categorical_crossentropy", batch_size=batch)
t1 = time.perf_counter()
tr.step_batch()
t2 = time.perf_counter()
tr.step_epoch()
t3 = time.perf_counter()
print(json.dumps({"setup": t1 - t0, "first_batch": t2 - t1, "rest_of_epoch": t3 - t2}))
"""


def startup(size: str) -> dict[str, dict[str, float]]:
    """A fresh process with an empty Numba cache (compiles the layered kernels' variant for
    `size`: "lesson", 8×8 images, one thread; "w4", 28×28, two threads), then twice with that
    cache (loads them)."""
    with tempfile.TemporaryDirectory() as cache:
        cold = run_child(STARTUP, cache, size)
        warm = [run_child(STARTUP, cache, size) for _ in range(2)]
    return {"cold": cold, "cached": {k: statistics.median(w[k] for w in warm) for k in cold}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 timed epochs per column instead of 9")
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    ap.add_argument("--no-startup", action="store_true", help="skip the fresh-process compile timing")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                    help="wait up to S seconds for a quiet machine first")
    ap.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    repeats = 3 if args.quick else 9
    torch, why = (None, "--no-torch") if args.no_torch else torch_or_none()
    print(f"host: {host_speed()}")
    note = wait_quiet(args.wait_quiet)
    if note:
        print(note)

    x, y = w4_data()
    runs: dict[str, object] = {"play": NnsimRun(w4_trainer(x, y), "play")}
    try:
        import threadpoolctl  # noqa: F401
        runs["play·1t"] = OneThreadRun(w4_trainer(x, y))
    except ImportError:
        print("play·1t skipped: threadpoolctl is not installed")
    runs["reference"] = NnsimRun(w4_trainer(x, y, backend="reference"), "play")
    weights = runs["play"].tr.net.get_weights()   # type: ignore[attr-defined]
    if torch is not None:
        runs["torch"] = TorchCNN(torch, x, y, weights, threads=2)
        runs["torch·1t"] = TorchCNN(torch, x, y, weights, threads=1)
    else:
        print(f"PyTorch columns skipped: {why}")
    for run in runs.values():                          # compile and warm every column
        run.enter()
        run.epoch()
        run.exit()
    before = cpu_snapshot()
    times = time_interleaved(runs, repeats)
    busy = others_cpu(before, cpu_snapshot())
    row = {k: med_ms(v["train"]) for k, v in times.items()}
    row["eval"] = med_ms(times["play"]["eval"])
    spread = {k: (1e3 * min(v["train"]), 1e3 * max(v["train"])) for k, v in times.items()}
    print(f"\nW4 (ms per epoch, median of {repeats}; nnsim without its evaluation)")
    cols = [c for c in ("play", "eval", "play·1t", "reference", "torch", "torch·1t") if c in row]
    print(" | ".join(f"{c:>9}" for c in cols) + (" | torch/play" if "torch" in row else ""))
    line = " | ".join(f"{row[c]:9.1f}" for c in cols)
    if "torch" in row:
        line += f" | {row['torch'] / row['play']:9.2f}×"
    print(line)
    print("spread (min–max): " + ", ".join(f"{k} {a:.1f}–{b:.1f}" for k, (a, b) in spread.items()))
    if busy is not None:
        flag = "  (above 10%: the ratios are unreliable)" if busy > 0.10 else ""
        print(f"other processes used {100 * busy:.0f}% of the machine meanwhile{flag}")
    out: dict[str, object] = {"W4": row, "spread": spread, "others_busy": busy}
    if torch is not None:
        agree = agreement(torch, x, y)
        out["agreement"] = agree
        print(f"agreement over {agree['batches']} batches (float32, same weights and order): "
              f"largest relative difference of a batch loss {agree['max_rel_diff']:.2e}")
        if "torch" in row:
            target = row["torch"] / row["play"] >= 1.5
            print(f"target W4 play ≥ 1.5× PyTorch CPU: {row['torch'] / row['play']:.2f}× "
                  f"{'met' if target else 'NOT met'}" + (" (???: machine busy)" if busy and busy > 0.10 else ""))
    lesson = lesson_epoch(repeats)
    out["lesson"] = lesson
    print(f"\nlesson {lesson['file']}: {lesson['batches']} batches, epoch {lesson['total_ms']:.1f} ms "
          f"(training {lesson['train_ms']:.1f} + evaluation {lesson['eval_ms']:.1f})")
    if not args.no_startup:
        out["startup"] = {}
        for size, what in (("lesson", "8×8 lesson CNN (variant cnn)"), ("w4", "28×28 CNN (variant cnn_threads)")):
            start = out["startup"][size] = startup(size)
            c, w = start["cold"], start["cached"]
            print(f"\n{what}, fresh process: cold (empty cache) first batch {c['first_batch']:.1f} s "
                  f"+ first evaluation {c['rest_of_epoch']:.1f} s; cached {w['first_batch']:.2f} s "
                  f"+ {w['rest_of_epoch']:.2f} s (setup {w['setup']:.2f} s)")
    print(f"host: {host_speed()}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
