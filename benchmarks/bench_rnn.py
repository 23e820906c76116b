#!/usr/bin/env python
"""Recurrent benchmark: milliseconds per training epoch of nnsim against PyTorch CPU, one run.

The issue's workload is an LSTM(32) on sequences of 50 steps (1 feature), a Dense(1) head on
the last step, mse, Adam (lr 0.001), batch 32, 1,024 training sequences (32 mini-batches per
epoch), float32. The script also times a SimpleRNN(32) and an LSTM(32) with return_sequences
and a dense head on every step. For each it times, one epoch at a time:

  nnsim play   Trainer.play: the whole epoch in one kernel call (BLAS held to one thread
               around it, as the Trainer does for recurrent networks)
  nnsim step   Trainer.step_batch() in a loop (one kernel call per mini-batch)
  torch        nn.LSTM / nn.RNN (batch_first) + nn.Linear, eager, same initial weights, same
               batch order, torch.set_num_threads(2)
  torch·1t     the same with torch.set_num_threads(1)

The ratio is against the faster of the two PyTorch columns (on a busy 2-core machine one
thread is often much faster: a second thread waits for a core at every small operation).

nnsim's end-of-epoch evaluation (loss and metric on the full training set) is timed alone and
subtracted, so both sides time the same 32 training steps. Before timing, the first 10
mini-batch losses of nnsim and torch are compared (same weights: they agree to ~1e-6 in
float32). Every repeat starts from the same weights and a fresh optimizer; the columns take
turns in rounds, the median of the rounds is reported.

    python benchmarks/bench_rnn.py            # 7 rounds
    python benchmarks/bench_rnn.py --quick    # 3 rounds

See docs/benchmarks.md for a measured table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nnsim.engine import Dense, Network, Trainer  # noqa: E402
from nnsim.engine.layers import LSTM, SimpleRNN  # noqa: E402

TARGET_VS_TORCH = 2.0    # issue 15: at least 2x PyTorch per epoch on the LSTM(32) workload
N, T, F, H, B, LR = 1024, 50, 1, 32, 32, 1e-3

WORKLOADS = {
    "LSTM(32)": ("lstm", False),
    "SimpleRNN(32)": ("simple_rnn", False),
    "LSTM(32) seq": ("lstm", True),
}


def make_data(rseq: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    phase = rng.uniform(0, 2 * np.pi, N)
    t = np.arange(T + 1)
    wave = np.sin(phase[:, None] + 2 * np.pi / 16 * t[None, :])
    x = wave[:, :T] + rng.normal(0, 0.05, (N, T))
    y = wave[:, 1:] if rseq else wave[:, T:]
    return x, y


def make_nnsim(kind: str, rseq: bool, x: np.ndarray, y: np.ndarray) -> Trainer:
    layer = LSTM(H, return_sequences=rseq) if kind == "lstm" else SimpleRNN(H, return_sequences=rseq)
    net = Network(T * F, [layer, Dense(1)], input_shape=(T, F), seed=0)
    return Trainer(net, x, y, loss="mse", optimizer="adam", learning_rate=LR, batch_size=B,
                   shuffle=False)


def make_torch(torch, kind: str, rseq: bool, tr: Trainer):
    w = tr.net.get_weights()
    rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.RNN)(F, H, batch_first=True)
    head = torch.nn.Linear(H, 1)
    start = {
        "weight_ih_l0": w["layer0.W"].T.copy(), "weight_hh_l0": w["layer0.U"].T.copy(),
        "bias_ih_l0": w["layer0.b"], "bias_hh_l0": np.zeros_like(w["layer0.b"]),
        "head.weight": w["layer1.W"].T.copy(), "head.bias": w["layer1.b"],
    }
    rnn.bias_hh_l0.requires_grad_(False)      # one bias, as nnsim and Keras
    params = [p for p in rnn.parameters() if p.requires_grad] + list(head.parameters())

    def reset():
        with torch.no_grad():
            for name, value in start.items():
                target = head if name.startswith("head.") else rnn
                getattr(target, name.removeprefix("head.")).copy_(torch.from_numpy(value))
        return torch.optim.Adam(params, lr=LR, eps=1e-7)

    def step(opt, xb, yb):
        opt.zero_grad()
        seq, _ = rnn(xb)
        out = head(seq if rseq else seq[:, -1]).reshape(len(xb), -1)
        loss = ((out - yb) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    return reset, step


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000.0


def bench(name: str, kind: str, rseq: bool, rounds: int, torch) -> dict[str, float]:
    x, y = make_data(rseq)
    tr = make_nnsim(kind, rseq, x, y)
    w0 = tr.net.get_weights()
    twin = make_torch(torch, kind, rseq, tr) if torch is not None else None   # the same start
    out: dict[str, list[float]] = {"nnsim play": [], "nnsim step": [], "eval": []}

    def fresh() -> None:
        tr.net.set_weights(w0)
        tr.reset_state()

    def play_epoch() -> None:
        fresh()
        tr.step_epoch()

    def step_epoch() -> None:
        fresh()
        while tr.step_batch()[2] is None:
            pass

    play_epoch()                                  # compile / warm up
    step_epoch()
    torch_cols: dict[str, tuple] = {}
    if torch is not None:
        xt = torch.from_numpy(x.astype(np.float32)).reshape(N, T, F)
        yt = torch.from_numpy(y.astype(np.float32))
        reset, step = twin
        fresh()
        ours = [tr.step_batch()[0] for _ in range(10)]
        opt = reset()
        theirs = [step(opt, xt[i * B:(i + 1) * B], yt[i * B:(i + 1) * B]).item() for i in range(10)]
        agree = float(np.max(np.abs(np.array(ours) - theirs) / np.abs(theirs)))
        print(f"{name}: first 10 mini-batch losses, nnsim vs torch: max relative difference "
              f"{agree:.2e}")

        def torch_epoch(threads: int):
            def run() -> None:
                torch.set_num_threads(threads)
                opt = reset()
                for i in range(N // B):
                    step(opt, xt[i * B:(i + 1) * B], yt[i * B:(i + 1) * B])
            return run

        torch_cols = {"torch": torch_epoch(2), "torch·1t": torch_epoch(1)}
        for col, fn in torch_cols.items():
            out[col] = []
            fn()                                  # warm up
    for _ in range(rounds):
        out["nnsim play"].append(timed(play_epoch))
        out["nnsim step"].append(timed(step_epoch))
        out["eval"].append(timed(tr.evaluate))
        for col, fn in torch_cols.items():
            out[col].append(timed(fn))
    med = {k: statistics.median(v) for k, v in out.items()}
    for col in ("nnsim play", "nnsim step"):
        med[col] -= med["eval"]
    return med


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    ap.add_argument("--rounds", type=int, default=None)
    args = ap.parse_args()
    rounds = args.rounds or (3 if args.quick else 7)
    try:
        import torch
        torch.manual_seed(0)
    except ImportError:
        torch = None
        print("note: PyTorch is not installed; the torch columns are left out")
    print(f"{N} sequences of {T} steps × {F} feature, batch {B} ({N // B} mini-batches per "
          f"epoch), Adam, float32; median of {rounds} rounds, ms per epoch (evaluation "
          "subtracted)")
    rows = {name: bench(name, kind, rseq, rounds, torch) for name, (kind, rseq) in WORKLOADS.items()}
    cols = ["nnsim play", "nnsim step", "torch", "torch·1t"]
    print()
    print("| workload | " + " | ".join(cols) + " | best torch / play |")
    print("|---" * (len(cols) + 2) + "|")
    ok = True
    for name, med in rows.items():
        cells = [f"{med[c]:.1f}" if c in med else "—" for c in cols]
        best = min(med.get("torch", np.inf), med.get("torch·1t", np.inf))   # PyTorch at its best
        ratio = best / med["nnsim play"]
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio:.1f}× |")
        if name == "LSTM(32)" and "torch" in med:
            ok = ratio >= TARGET_VS_TORCH
    if torch is not None:
        print(f"\ntarget: LSTM(32) at least {TARGET_VS_TORCH:g}× PyTorch per epoch: "
              f"{'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
