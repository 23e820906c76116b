"""Training: seeded mini-batches, one step or many per kernel call, history, traces.

The Trainer never prints. `train()` and `walk_step()` are generators a UI can consume.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from typing import Any, Iterator

import numpy as np
from scipy.linalg import blas

from ..kernels import catalogue as lay
from ..kernels import get_backend, npmath, resolve_backend
from ..kernels.blas import single_thread
from . import activations, health
from . import losses as losses_mod
from . import regularizers as reg_mod
from .errors import DivergenceError
from .history import EpochRecord, History
from .metrics import encode_targets, metric_name, metric_value
from .network import Network
from .optimizers import CLIP_OPTION, LR_OPTION, OPTIMIZERS, Optimizer, check_learning_rate
from .schedules import Schedule
from .trace import LayerTrace, Phase, StepTrace, step_phases
from .unroll import recurrent_trace

#: Single steps check the weights for inf/NaN this often (and at every epoch's end).
PARAM_CHECK_EVERY = 16


class Trainer:
    """Trains a `Network` on (x_train, y_train), evaluating on (x_test, y_test) each epoch."""

    def __init__(self, net: Network, x_train: np.ndarray, y_train: np.ndarray,
                 x_test: np.ndarray | None = None, y_test: np.ndarray | None = None, *,
                 loss: str = "mse", from_logits: bool = False, optimizer: str = "sgd",
                 learning_rate: float = 0.01, optimizer_options: dict[str, Any] | None = None,
                 schedule: str = "constant", schedule_options: dict[str, Any] | None = None,
                 regularization: str = "none", regularization_rate: float = 0.0,
                 batch_size: int = 32, shuffle: bool = True, seed: int = 0,
                 metric: str | None = None, backend: str = "cpu", clip_norm: float = 0.0) -> None:
        self.net = net
        self.backend_name = resolve_backend(backend)  # "auto": cuda with a usable GPU, else cpu
        self._on_device = self.backend_name == "cuda"  # data, weights and state on the GPU
        self._dev = None                                # its DeviceTrainer, bound at first use
        self._clip_norm = self._checked_clip(clip_norm)
        # conv, pool, recurrent rows and clipping: the layered kernels
        self._layered = net.layered or self._clip_norm > 0
        self.kernels = get_backend(backend, layered=self._layered)
        self.loss = losses_mod.get(loss)
        self.from_logits = bool(from_logits)
        out_act = net.dense[-1].activation
        if self.from_logits and out_act != "linear":
            raise ValueError(f"from_logits=True needs a linear output layer, not {out_act}")
        self.x_train = self._inputs(x_train, "x_train")
        self.y_train = encode_targets(y_train, self.loss, net.output_dim, out_act, "y_train")
        if len(self.y_train) != len(self.x_train):
            raise ValueError(f"x_train has {len(self.x_train)} rows but y_train has {len(self.y_train)}")
        if len(self.x_train) == 0:
            raise ValueError("the training set is empty")
        has_test = x_test is not None and len(x_test) > 0
        self.x_test = self._inputs(x_test, "x_test") if has_test else None
        self.y_test = (encode_targets(y_test, self.loss, net.output_dim, out_act, "y_test")
                       if has_test else None)
        self._check_targets(self.y_train, "y_train")
        if self.y_test is not None:
            self._check_targets(self.y_test, "y_test")
        with np.errstate(invalid="ignore"):
            self.data_absmax = float(max(np.abs(self.x_train).max(initial=0.0),
                                         np.abs(self.y_train).max(initial=0.0)))
        bad = health.first_nonfinite(net)
        if bad is not None:
            raise ValueError(f"the network's parameters are not finite ({net.dense_label(bad[0])} "
                             f"{bad[1]})")
        if metric not in (None, "accuracy", "mae"):
            raise ValueError(f"metric must be 'accuracy' or 'mae', got {metric!r}")
        self.metric = metric or metric_name(self.loss)  # mse on class labels: pass "accuracy"
        self.pm1 = bool(self.metric == "accuracy" and net.output_dim == 1
                        and np.all(np.isin(self.y_train, (-1.0, 1.0)))
                        and np.any(self.y_train < 0))
        self.optimizer = self._checked_optimizer(Optimizer.create(optimizer, **(optimizer_options or {})))
        self.base_lr = self._checked_lr(learning_rate)
        self.schedule = Schedule.create(schedule, **(schedule_options or {}))
        self.set_regularization(regularization, regularization_rate)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        # BLAS dot without NumPy's floating-point warnings: ‖P‖² after each update
        self._pdot = blas.sdot if net.dtype == np.float32 else blas.ddot
        self._gn_alarm = float(np.finfo(net.dtype).max) ** 0.25   # every step above this norm
        self._health_layers = health.checked_layers(net, self.loss.code, self.from_logits)
        n = len(self.x_train)
        self._health_rows = np.unique(np.linspace(0, n - 1, min(n, health.HEALTH_ROWS)).astype(np.int64))
        self.batch_size = batch_size
        self.reset_state()

    # -- setup -----------------------------------------------------------------------------
    def _inputs(self, x: np.ndarray, name: str) -> np.ndarray:
        """The inputs in the network's dtype; ValueError if a value is not finite there."""
        with np.errstate(over="ignore", invalid="ignore"):
            arr = np.ascontiguousarray(np.asarray(x, dtype=self.net.dtype))
        if arr.ndim != 2 or arr.shape[1] != self.net.input_dim:
            raise ValueError(f"{name} must have shape (N, {self.net.input_dim}), got {arr.shape}")
        self._check_finite(arr, name)
        return arr

    def _check_targets(self, y: np.ndarray, name: str) -> None:
        with np.errstate(over="ignore", invalid="ignore"):
            self._check_finite(y.astype(self.net.dtype), name)

    def _check_finite(self, arr: np.ndarray, name: str) -> None:
        ok = np.isfinite(arr)
        if not ok.all():
            r, c = np.argwhere(~ok)[0]
            raise ValueError(f"{name} holds a value that is not finite in {self.net.dtype.name} "
                             f"(row {r}, column {c}; |values| must stay below "
                             f"{np.finfo(self.net.dtype).max:.3g})")

    # -- settings that must survive the dtype ---------------------------------------------
    def _checked_optimizer(self, opt: Optimizer) -> Optimizer:
        spec = OPTIMIZERS.get(opt.name)
        for o in spec.options:
            health.check_survives(f"optimizer {opt.name}: {o.name}", opt.options[o.name],
                                  self.net.dtype, o)
        return opt

    def _checked_lr(self, value: float) -> float:
        lr = check_learning_rate(value)
        health.check_survives("learning_rate", lr, self.net.dtype, LR_OPTION)
        return lr

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        """Changes take effect from the next mini-batch."""
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {value!r}")
        self._batch_size = int(min(value, len(self.x_train)))
        self._alloc_workspace()

    def _alloc_workspace(self) -> None:
        net, B = self.net, self._batch_size
        self.offs, self.region = net.workspace_offsets(B)
        self.ws = np.zeros(4 * self.region, dtype=net.dtype)   # A, Z, dL/dA, dL/dZ
        self._scratch = net.scratch(B) if self._layered else None  # (soffs, im2col..., argmax)
        self.cfg = np.zeros(lay.CFG_SIZE, dtype=np.int64)
        self.cfg[lay.CFG_BATCH] = B
        self.cfg[lay.CFG_BMAX] = B
        self.cfg[lay.CFG_OPT] = self.optimizer.code
        self.cfg[lay.CFG_LOSS] = self.loss.code
        self.cfg[lay.CFG_LOGITS] = int(self.from_logits)
        self.cfg[lay.CFG_REG] = self.reg_code
        self.cfg[lay.CFG_APPLY] = 1
        self._one_loss = np.zeros(1)
        self._one_gn = np.zeros((1, net.n_dense))

    def set_regularization(self, name: str, rate: float) -> None:
        """Change the weight penalty (live)."""
        code = reg_mod.get(name)
        try:
            rate = reg_mod.RATE_OPTION.check("regularization", rate)
        except ValueError as err:
            raise ValueError(str(err).removeprefix("regularization: ")) from None
        health.check_survives("regularization_rate", rate, self.net.dtype, reg_mod.RATE_OPTION)
        self.reg_code, self.reg_rate = code, rate
        self.reg_name = reg_mod.REGULARIZERS.canonical(name)
        if hasattr(self, "cfg"):
            self.cfg[lay.CFG_REG] = code
            self._hp = self._make_hp()

    def set_optimizer(self, name: str, **options: Any) -> None:
        """Change the optimizer or its settings (live); state is kept when the kind is the same."""
        self._release_device()   # the device's optimizer state comes back first (cuda)
        new = self._checked_optimizer(Optimizer.create(name, **options))
        if new.code == self.optimizer.code:
            new.s1, new.s2, new.t = self.optimizer.s1, self.optimizer.s2, self.optimizer.t
        else:
            new.init_state(self.net.n_params, self.net.dtype)
        self.optimizer = new
        self.cfg[lay.CFG_OPT] = new.code
        self.cfg[lay.CFG_T] = new.t
        self._hp = self._make_hp()

    @property
    def learning_rate(self) -> float:
        """The learning rate in force now (base rate through the schedule)."""
        return self.schedule.lr(self.base_lr, self.epoch)

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.base_lr = self._checked_lr(value)
        self._hp = self._make_hp()

    def _make_hp(self) -> np.ndarray:
        hp = self.optimizer.hp_vector(self.learning_rate)
        hp[lay.HP_REG] = self.reg_rate
        hp[lay.HP_CLIP] = self._clip_norm
        return hp.astype(self.net.dtype)

    # -- gradient clipping -------------------------------------------------------------------
    def _checked_clip(self, value: Any) -> float:
        clip = CLIP_OPTION.check("training", value)
        health.check_survives("clip_norm", clip, self.net.dtype, CLIP_OPTION)
        return clip

    @property
    def clip_norm(self) -> float:
        """Gradient clipping by global norm: before each update, when ‖g‖ (every parameter's
        gradient as one vector) exceeds clip_norm, g ← g·clip_norm/‖g‖. 0: off. The gradient
        norms in the history are the ones before clipping."""
        return self._clip_norm

    @clip_norm.setter
    def clip_norm(self, value: float) -> None:
        """Changes take effect from the next mini-batch (an all-dense network switches to the
        layered kernels while clipping is on)."""
        self._clip_norm = self._checked_clip(value)
        layered = self.net.layered or self._clip_norm > 0
        if layered != self._layered:
            self._layered = layered
            self.kernels = get_backend(self.backend_name, layered=layered)
            self._scratch = self.net.scratch(self._batch_size) if layered else None
        self._hp = self._make_hp()

    def reset_state(self) -> None:
        """Fresh optimizer state, counters, history and data order (weights untouched)."""
        self._release_device()
        self.optimizer.init_state(self.net.n_params, self.net.dtype)
        self.rng = np.random.default_rng(self.seed)
        self.epoch = 0          # completed epochs
        self.pos = 0            # samples consumed in the current epoch
        self.batch = 0          # batches done in the current epoch
        self.step = 0           # batches done in all
        self.samples_seen = 0
        self.max_grad_norm = 0.0
        self.history = History()
        self._plan: tuple[np.ndarray, np.ndarray] | None = None
        self._walk_record: EpochRecord | None = None
        self._rng_epoch_state = self.rng.bit_generator.state
        self._epoch_gn_list = [0.0] * self.net.n_dense
        self._epoch_seconds = 0.0
        self._last_rows = 0
        self._unit_warnings: list[str] = []
        self._alloc_workspace()
        self._hp = self._make_hp()

    def reset(self, seed: int | None = None) -> None:
        """Re-initialise the weights (same seed unless given) and start training over."""
        if seed is not None:
            self.seed = int(seed)
        self.net.initialize(self.net.seed if seed is None else seed)
        self.reset_state()

    # -- state for checkpoints ---------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything an exact resume needs besides the weights: optimizer state (arrays under
        "s1"/"s2"), counters, the RNG state at the start of the current epoch's plan, and the
        bounded history (`History.state()`: epoch records, thinning counters and the batch
        columns as arrays). Values are JSON-friendly except the arrays."""
        opt = self.optimizer
        drawn = self._plan is not None
        self.sync_to_host()
        return {
            "optimizer": opt.config(), "t": opt.t, "s1": opt.s1.copy(), "s2": opt.s2.copy(),
            "epoch": self.epoch, "pos": self.pos, "batch": self.batch, "step": self.step,
            "samples_seen": self.samples_seen, "max_grad_norm": self.max_grad_norm,
            "base_lr": self.base_lr, "batch_size": self.batch_size,
            "epoch_grad_norm_sum": list(self._epoch_gn_list),
            "rng": self._rng_epoch_state if drawn else self.rng.bit_generator.state,
            "plan_drawn": drawn, "seed": self.seed,
            "history": self.history.state(self.net.n_dense),
            "unit_warnings": list(self._unit_warnings),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned (weights are loaded separately). Every value is
        checked first (`resume.check_state`); ValueError names the field that does not fit,
        and then nothing has changed. The optimizer must be the same kind."""
        from .resume import check_state
        st = check_state(self, state)
        self.batch_size = st["batch_size"]
        self.reset_state()
        opt = self.optimizer
        opt.s1[:] = st["s1"]
        opt.s2[:] = st["s2"]
        opt.t = st["t"]
        self.cfg[lay.CFG_T] = opt.t
        self.base_lr = st["base_lr"]
        self.epoch, self.pos, self.batch = st["epoch"], st["pos"], st["batch"]
        self.step, self.samples_seen = st["step"], st["samples_seen"]
        self.max_grad_norm = st["max_grad_norm"]
        self._epoch_gn_list = st["epoch_grad_norm_sum"]
        self.history = st["history"]
        self._unit_warnings = st["unit_warnings"]
        self.rng.bit_generator.state = st["rng"]
        if st["plan_drawn"]:
            self._ensure_plan()
        self._hp = self._make_hp()

    # -- epochs and batches ----------------------------------------------------------------
    @property
    def n_train(self) -> int:
        return len(self.x_train)

    @property
    def batches_per_epoch(self) -> int:
        return self.batch + -(-(self.n_train - self.pos) // self._batch_size)

    def _ensure_plan(self) -> tuple[np.ndarray, np.ndarray]:
        """The epoch's sample order and dropout uniforms, drawn at the epoch's first batch."""
        if self._plan is None:
            self._rng_epoch_state = self.rng.bit_generator.state
            n = self.n_train
            order = self.rng.permutation(n) if self.shuffle else np.arange(n)
            cols = self.net.n_dropout_cols
            U = (self.rng.random((n, cols), dtype=np.float64).astype(self.net.dtype) if cols
                 else np.zeros((0, 0), dtype=self.net.dtype))
            self._plan = (order.astype(np.int64), U)
            self._hp = self._make_hp()
        return self._plan

    @property
    def _hp_noclip(self) -> np.ndarray:
        hp = self._hp.copy()
        hp[lay.HP_CLIP] = 0
        return hp

    def _kernel(self, count: int, apply: bool,
                clip: bool = True) -> tuple[int, np.ndarray, np.ndarray]:
        """One backend call over `count` batches from the current position: (batches done,
        their losses, their per-layer gradient norms). No bookkeeping. `clip` False: the
        gradient left as computed (clip_norm ignored)."""
        order, U = self._ensure_plan()
        cfg = self.cfg
        cfg[lay.CFG_START] = self.pos
        cfg[lay.CFG_COUNT] = count
        cfg[lay.CFG_APPLY] = apply
        if count == 1:
            out_loss, out_gn = self._one_loss, self._one_gn
        else:
            out_loss, out_gn = np.zeros(count), np.zeros((count, self.net.n_dense))
        if self._on_device:   # cuda: the chunk runs on the GPU; its losses and norms come back
            dev = self._device()
            done = dev.train_batches(order, U, self._hp, cfg, self.offs, out_loss, out_gn)
            self.optimizer.t = cfg.item(lay.CFG_T)
            if not math.isfinite(dev.params_sq):   # a weight went non-finite: the host looks
                dev.pull()
            return done, out_loss, out_gn
        opt, net = self.optimizer, self.net
        if self._scratch is not None:
            soffs, XS, IS = self._scratch
            hp = self._hp if clip else self._hp_noclip
            with single_thread() if net.recurrent else nullcontext():
                done = self.kernels.train_batches_layered(
                    self.x_train, self.y_train, order, net.P, net.G, opt.s1, opt.s2, hp, cfg,
                    net.layi, net.layf, self.offs, U, self.ws, out_loss, out_gn, XS, soffs, IS)
        else:
            done = self.kernels.train_batches(self.x_train, self.y_train, order, net.P, net.G,
                                              opt.s1, opt.s2, self._hp, cfg, net.layi, net.layf,
                                              self.offs, U, self.ws, out_loss, out_gn)
        opt.t = cfg.item(lay.CFG_T)
        return done, out_loss, out_gn

    def _run(self, count: int, apply: bool = True) -> np.ndarray:
        """Run `count` batches through the backend; returns their losses (raises on divergence,
        and when an update made a parameter non-finite)."""
        t0 = time.perf_counter()
        done, out_loss, out_gn = self._kernel(count, apply)
        self._epoch_seconds += time.perf_counter() - t0
        if done == 1:  # stepping: a handful of floats, plain Python beats numpy reductions
            g = out_gn[0].tolist()
            egn = self._epoch_gn_list
            ss = 0.0
            for i, v in enumerate(g):
                egn[i] += v
                ss += v * v
            if ss > self.max_grad_norm * self.max_grad_norm:
                self.max_grad_norm = math.sqrt(ss)
        elif done:
            gn = out_gn[:done]
            egn = self._epoch_gn_list
            for i, v in enumerate(gn.sum(axis=0).tolist()):
                egn[i] += v
            self.max_grad_norm = max(self.max_grad_norm, float(np.sqrt((gn * gn).sum(axis=1)).max()))
        if apply and done:
            self._advance(done, out_loss)
            # the weights after the update: ‖P‖² (BLAS, no NumPy warnings) after every play
            # call, every PARAM_CHECK_EVERY-th single step, a step with a large gradient, and
            # at each epoch's end (single steps cannot overflow sane weights: see engine.md)
            if done > 1 or self.step % PARAM_CHECK_EVERY == 0 or self.max_grad_norm > self._gn_alarm:
                P = self.net.P
                if not math.isfinite(self._pdot(P, P)):
                    self._check_params_after_update()
        if done < count:
            order, U = self._ensure_plan()
            raise self._diagnose(order, U, int(self.cfg[lay.CFG_ERR]),
                                 int(self.cfg[lay.CFG_ERR_LAYER]))
        return out_loss

    def compute_gradients(self) -> tuple[float, np.ndarray]:
        """The loss of the next mini-batch and the gradient of loss + penalty with respect to
        every parameter (a copy, laid out as `net.P`). Nothing changes: no update, no counters,
        no history (the epoch's batch order is drawn if it was not yet). Not clipped."""
        _, out_loss, _ = self._kernel(1, apply=False, clip=False)
        self.sync_to_host()
        return float(out_loss[0]), self.net.G.copy()

    def _advance(self, done: int, losses: np.ndarray) -> None:
        h = self.history
        if done == 1:
            h.add_batch(self.step + 1, self.epoch + 1, self.batch + 1, losses.item(0))
        else:
            h.add_batches(self.step + 1, self.epoch + 1, self.batch + 1, losses[:done])
        B = self._batch_size
        n = min(self.n_train - self.pos, done * B)
        self._last_rows = n - (done - 1) * B      # rows of the last mini-batch (health screen)
        self.pos += n
        self.samples_seen += n
        self.batch += done
        self.step += done

    def _check_params_after_update(self) -> None:
        """DivergenceError (applied=True) if an update left a weight or bias non-finite."""
        bad = health.first_nonfinite(self.net)
        if bad is None:
            return
        layer, key = bad
        P = self.net.P
        with np.errstate(invalid="ignore"):
            finite = P[np.isfinite(P)]
        cause, advice = health.divergence_cause(
            self.x_train[:0], self.y_train[:0], self.data_absmax, False,
            float(np.abs(finite).max(initial=0.0)), self.optimizer, self.net.dtype)
        advice += " The update was applied: reset the weights before training on."
        raise DivergenceError(self.epoch, max(self.batch - 1, 0), self.step, layer + 1,
                              {"W": "weights W", "U": "recurrent weights U"}.get(key, "bias b"),
                              self.max_grad_norm,
                              self.learning_rate, cause=cause, advice=advice, applied=True)

    def _finish_epoch_if_done(self) -> EpochRecord | None:
        if self.pos < self.n_train:
            return None
        self.sync_to_host()   # the record reads the weights (cuda: one copy per epoch)
        t0 = time.perf_counter()
        lr = self.learning_rate
        P = self.net.P
        ss = self._pdot(P, P)           # max |w| <= ‖P‖: look closer only when ‖P‖ is large
        if not math.isfinite(ss):       # cuda: the first look at the weights since the update
            self._check_params_after_update()
        amax = float(np.abs(P).max()) if ss > health.WEIGHT_LIMIT ** 2 else 0.0
        if health.check_due(self.epoch + 1):
            self._unit_warnings = self._unit_health()
        warnings = health.weight_warning(amax) + self._unit_warnings
        rec = self.evaluate()
        nb = max(self.batch, 1)
        record = EpochRecord(
            epoch=self.epoch + 1, train_loss=rec["train_loss"], test_loss=rec["test_loss"],
            train_metric=rec["train_metric"], test_metric=rec["test_metric"], metric=self.metric,
            penalty=rec["penalty"], learning_rate=lr,
            grad_norms=[g / nb for g in self._epoch_gn_list],
            weight_norms=[float(np.linalg.norm(w.astype(np.float64)))  # no float32 overflow
                          for w in self.net.weight_arrays()],
            seconds=self._epoch_seconds + time.perf_counter() - t0, batches=self.batch,
            warnings=warnings)
        self.history.add_epoch(record)
        self.epoch += 1
        self.pos = self.batch = 0
        self._plan = None
        self._epoch_gn_list = [0.0] * self.net.n_dense
        self._epoch_seconds = 0.0
        self._hp = self._make_hp()
        return record

    def step_batch(self, trace: bool = False) -> tuple[float, StepTrace | None, EpochRecord | None]:
        """Train one mini-batch. Returns (its loss before the update, trace if asked, the epoch
        record if this batch ended an epoch)."""
        if trace:
            *_, last = self.walk_step()     # every phase, to the applied update
            tr = last.trace
            return tr.loss, tr, self._walk_record
        loss = float(self._run(1)[0])
        return loss, None, self._finish_epoch_if_done()

    def play(self, max_batches: int) -> tuple[np.ndarray, EpochRecord | None]:
        """The fast path: up to `max_batches` batches in one kernel call, stopping at the end of
        the epoch. Returns the batch losses and the epoch record if the epoch ended."""
        remaining = -(-(self.n_train - self.pos) // self._batch_size)
        count = max(1, min(int(max_batches), remaining))
        losses = self._run(count).copy()
        return losses, self._finish_epoch_if_done()

    def step_epoch(self) -> EpochRecord:
        """Train to the end of the current epoch and return its record."""
        while True:
            _, rec = self.play(1 << 30)
            if rec is not None:
                return rec

    def train(self, epochs: int) -> Iterator[EpochRecord]:
        """Generator: train `epochs` epochs, yielding each epoch's record."""
        for _ in range(int(epochs)):
            yield self.step_epoch()

    # -- health ----------------------------------------------------------------------------
    def health(self) -> list[str]:
        """Warnings about the current weights (see `engine.health`): exploded weights,
        saturated tanh/sigmoid units, relu layers with every unit dead, judged now."""
        self.sync_to_host()
        self._last_rows = 0          # no mini-batch to screen with: the full check
        return (health.weight_warning(float(np.abs(self.net.P).max(initial=0.0)))
                + self._unit_health())

    def _unit_health(self) -> list[str]:
        """The saturation and dead-relu warnings (cheap when healthy: on the cpu backend the
        last mini-batch's pre-activations, still in the workspace, screen first)."""
        P = self.net.P
        out: list[str] = []
        layers = self._health_layers
        if not layers:
            return out
        if self.backend_name == "cpu":
            rows, region, offs, ws = self._last_rows, self.region, self.offs, self.ws

            def z_of(l: int, units: int) -> np.ndarray:
                start = region + offs.item(l + 1)
                return ws[start:start + rows * units]

            if not health.screen(layers, z_of, rows):
                return out
        from ..kernels import reference
        with np.errstate(all="ignore"):
            ps = reference.forward(self.x_train[self._health_rows], P, self.net.layi, self.net.layf64)
        zs = {l: ps.z[l + 1] for l, _, _ in layers}
        return out + health.layer_warnings(self.net, layers, zs)

    # -- the device (cuda backend) -----------------------------------------------------------
    def sync_to_host(self) -> None:
        """Bring the weights, gradients and optimizer state back from the device if training
        changed them there: the cuda backend keeps them on the GPU between calls and copies
        back only what is read (a dirty flag makes this free when nothing changed; nothing to
        do on cpu). The trainer calls it before it reads them itself; call it before reading
        `net.P`, `net.G` or the optimizer's state directly (`Network.get_weights` and
        `Network.predict` call it for you)."""
        if self._dev is not None:
            self._dev.pull()

    def _device(self):
        """The DeviceTrainer that holds this trainer's arrays on the GPU (bound at first use,
        after any change of the host arrays it mirrors)."""
        if self._dev is None:
            opt, net = self.optimizer, self.net
            self._dev = self.kernels.bind(self.x_train, self.y_train, net.P, net.G, opt.s1,
                                          opt.s2, net.layi, net.layf, self.x_test)
            net.device_copy = self._dev
        return self._dev

    def _release_device(self) -> None:
        """Copy back what the device changed and let it go: the optimizer state (or what it
        mirrors) is about to be replaced; the next training call binds again."""
        if self._dev is not None:
            self._dev.pull()
            if self.net.device_copy is self._dev:
                self.net.device_copy = None
            self._dev = None

    def _pull_trace(self) -> None:
        """A traced step reads the workspace and G: copy them back (cuda)."""
        if self._dev is not None:
            self._dev.pull("G")
            self._dev.pull_workspace(self.ws)

    def _optimizer_update(self) -> int:
        """One optimizer step from the current G (the stepper's update phase); the new t."""
        opt, net = self.optimizer, self.net
        if self._on_device:
            t = self._device().optimizer_update(opt.code, self._hp, opt.t)
            self._dev.pull("P S1 S2")
            return t
        return self.kernels.optimizer_update(opt.code, self._hp, opt.t, net.P, net.G, opt.s1,
                                             opt.s2)

    # -- evaluation ------------------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        if self._on_device:   # with the device's weights; x_train and x_test are already there
            return self._device().predict(x)
        return self.net.predict(x, backend=self.backend_name)

    def evaluate(self) -> dict[str, float | None]:
        """Loss (data only) and metric on the full sets, dropout off; the penalty separately."""
        self.sync_to_host()
        out = {"penalty": reg_mod.penalty(self.reg_code, self.reg_rate, self.net.weight_arrays())}
        for split, x, y in (("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test)):
            if x is None:
                out[f"{split}_loss"] = out[f"{split}_metric"] = None
                continue
            pred = self.predict(x).astype(np.float64)
            out[f"{split}_loss"] = self.loss.value(pred, y.astype(np.float64), self.from_logits)
            out[f"{split}_metric"] = metric_value(self.metric, pred, y, self.loss, self.from_logits, self.pm1)
        return out

    # -- traces and phases -----------------------------------------------------------------
    def walk_step(self) -> Iterator[Phase]:
        """Generator over one step's phases: forward layer 1..L, loss, backward L..1, update
        (`trace.step_phases`: a recurrent layer is walked through time, step by step).

        The gradients are computed first (nothing changes); the weights change only when the
        final "update" phase is reached. Closing the generator early leaves the step undone.
        """
        self._walk_record = None
        net, opt = self.net, self.optimizer
        order, U = self._ensure_plan()
        p0 = self.pos
        n = min(self._batch_size, self.n_train - p0)
        self.sync_to_host()
        P_before = net.P.copy()
        loss = float(self._run(1, apply=False)[0])
        self._pull_trace()
        tr = self._build_trace(order[p0:p0 + n].copy(), loss, P_before, n, U, p0)
        phases = step_phases(tr)          # a recurrent row: step by step through time
        yield from phases[:-1]
        s1_before, s2_before = opt.s1.copy(), opt.s2.copy()
        self.cfg[lay.CFG_T] = self._optimizer_update()
        opt.t = int(self.cfg[lay.CFG_T])
        tr.optimizer_t = opt.t
        delta = net.P - P_before
        for sl in net.param_slices():
            setattr(tr.layers[sl.layer], f"update_{sl.key}",
                    delta[sl.start:sl.stop].reshape(sl.shape).copy())
            setattr(tr.layers[sl.layer], f"state_{sl.key}",
                    self._optimizer_state(sl, s1_before, s2_before))
        for lt in tr.layers:          # pool and flatten rows: nothing to update
            if lt.update_W is None and lt.W.size == 0:
                lt.update_W, lt.update_b = lt.W.copy(), lt.b.copy()
        self._advance(1, np.array([loss]))
        self._walk_record = self._finish_epoch_if_done()
        yield phases[-1]

    def _build_trace(self, idx: np.ndarray, loss: float, P: np.ndarray, n: int,
                     U: np.ndarray, p0: int) -> StepTrace:
        net = self.net
        offs, region, ws = self.offs, self.region, self.ws
        opt = self.optimizer
        tr = StepTrace(epoch=self.epoch + 1, batch=self.batch + 1, step=self.step + 1,
                       indices=idx, y=self.y_train[idx].copy(), loss=loss,
                       learning_rate=self.learning_rate, loss_name=self.loss.name,
                       from_logits=self.from_logits,
                       fused=lay.fused_output(self.loss.code, self.from_logits,
                                              int(net.layi[net.n_dense, lay.ACT])),
                       divisor=losses_mod.batch_divisor(self.loss.code, n),
                       regularization=self.reg_name, regularization_rate=float(self.reg_rate),
                       optimizer=opt.name, optimizer_options=dict(opt.options), optimizer_t=opt.t)

        def block(r: int, s: int, d: int) -> np.ndarray:
            start = r * region + offs[s]
            return ws[start:start + n * d].reshape(n, d).copy()

        def kept(row: int, units: int) -> tuple[float, np.ndarray | None]:
            """The dropout rate on layer-table row `row` and its 0/1 keep mask for the batch."""
            rate = float(net.layf64[row, lay.DROP])
            if rate <= 0.0 or not U.size:
                return 0.0, None
            c = int(net.layi[row, lay.UCOL])
            return rate, U[p0:p0 + n, c:c + units] >= rate

        tr.input_drop_rate, tr.input_keep = kept(0, net.input_dim)
        tensors = {(sl.layer, sl.key): sl for sl in net.param_slices()}
        clip_scale = self._clip_scale()
        L = net.n_dense
        def tensor(v: np.ndarray, sl: Any) -> np.ndarray:   # pool/flatten rows: no tensor
            return v[sl.start:sl.stop].reshape(sl.shape).copy() if sl else np.zeros(0, v.dtype)

        for l, layer in enumerate(net.dense):
            W, b, Ut = tensors.get((l, "W")), tensors.get((l, "b")), tensors.get((l, "U"))
            fi, u = int(net.layi[l, lay.UNITS]), int(net.layi[l + 1, lay.UNITS])
            lt = LayerTrace(
                index=l, position=net.dense_positions[l], activation=layer.activation,
                a_in=block(0, l, fi), z=block(1, l + 1, u), a=block(0, l + 1, u),
                W=tensor(P, W), b=tensor(P, b),
                dA=block(2, l + 1, u), dZ=block(3, l + 1, u),
                dW=tensor(net.G, W), db=tensor(net.G, b),
                alpha=float(net.layf64[l + 1, lay.ALPHA]))
            shapes = net.shapes[net.dense_positions[l]]
            lt.kind, lt.in_shape, lt.out_shape = layer.kind, shapes.input, shapes.output
            lt.window, lt.stride, lt.padding = shapes.window, shapes.stride, shapes.padding
            rate, keep = kept(l + 1, u) if l < L - 1 else (0.0, None)
            lt.fz = None              # set below where dropout makes it differ from a
            row_act = layer.activation
            if Ut is not None:        # a recurrent row: its output is h (the row's ACT is linear)
                lt.U, lt.dU = tensor(P, Ut), tensor(net.G, Ut)
                lt.recurrent = recurrent_trace(net, l, lt.a_in, lt.dZ, P,
                                               self._scratch if self.backend_name == "cpu" else None,
                                               clip_scale)
                row_act = "linear"
            if keep is not None:      # f(z) before dropout: a/scale where kept, f(z) where dropped
                lt.drop_rate, lt.keep = rate, keep
                fz = activations.get(row_act).fn(lt.z.astype(np.float64), lt.alpha)
                lt.fz = np.where(keep > 0, lt.a * (1.0 - rate), fz).astype(lt.a.dtype)
            tr.layers.append(lt)
        out = tr.layers[-1]
        if self.from_logits:
            z = out.z.astype(np.float64)
            tr.probs = (npmath.sigmoid(z) if self.loss.code == lay.BCE else npmath.softmax(z))
        with np.errstate(all="ignore"):
            o, y = out.a.astype(np.float64), tr.y.astype(np.float64)
            tr.sample_loss = np.array([self.loss.value(o[i:i + 1], y[i:i + 1], self.from_logits)
                                       for i in range(n)])
        return tr

    def _clip_scale(self) -> float:
        """The factor clipping applied to the traced step's gradient (1: none), from the
        per-row norms the kernel recorded before clipping."""
        if self._clip_norm <= 0:
            return 1.0
        norm = math.sqrt(sum(v * v for v in self._one_gn[0].tolist()))
        return self._clip_norm / norm if norm > self._clip_norm else 1.0

    def _optimizer_state(self, sl, s1_before: np.ndarray, s2_before: np.ndarray) -> dict[str, np.ndarray]:
        """The optimizer's state for one tensor around this step's update, by name (see
        `LayerTrace.state_W`)."""
        opt = self.optimizer

        def part(v: np.ndarray) -> np.ndarray:      # in the parameters' dtype: traces are kept
            return v[sl.start:sl.stop].reshape(sl.shape).copy()      # for the history, keep them small

        code = opt.code
        if code in (lay.MOMENTUM, lay.NESTEROV):
            return {"v_before": part(s1_before), "v": part(opt.s1)}
        if code in (lay.ADAGRAD, lay.RMSPROP):
            return {"c_before": part(s1_before), "c": part(opt.s1)}
        if code == lay.ADAM:
            return {"m_before": part(s1_before), "v_before": part(s2_before), "m": part(opt.s1),
                    "v": part(opt.s2)}
        return {}

    # -- divergence ------------------------------------------------------------------------
    def _diagnose(self, order: np.ndarray, U: np.ndarray, err: int, err_layer: int) -> DivergenceError:
        """Find the first non-finite quantity of the failing batch with the NumPy reference."""
        from ..kernels import reference
        self.sync_to_host()
        net = self.net
        p0 = self.pos
        idx = order[p0:p0 + self._batch_size]
        ub = U[p0:p0 + len(idx)] if U.size else None
        layer, quantity = err_layer + 1, {lay.ERR_LOSS: "loss", lay.ERR_GRAD: "gradient dL/dW"}.get(err, "value")
        with np.errstate(all="ignore"):
            ps = reference.forward_backward(self.x_train[idx], self.y_train[idx], ub, net.P,
                                            net.layi, net.layf64, self.loss.code, self.from_logits,
                                            self.reg_code, self.reg_rate)
            found = None
            for l in range(1, net.n_dense + 1):
                for q, arr in (("z", ps.z[l]), ("a", ps.a[l])):
                    if found is None and not np.all(np.isfinite(arr)):
                        found = (l, f"activation {q}")
            if found is None and not np.isfinite(ps.loss):
                found = (net.n_dense, "loss")
            for l in range(net.n_dense, 0, -1):
                for q, arr in (("dL/da", ps.da[l]), ("dL/dz", ps.dz[l])):
                    if found is None and arr is not None and not np.all(np.isfinite(arr)):
                        found = (l, q)
            if found is None and ps.grad is not None and not np.all(np.isfinite(ps.grad)):
                found = (layer, "gradient dL/dW")
        if found is not None:
            layer, quantity = found
        with np.errstate(invalid="ignore"):
            wmax = float(np.abs(net.P).max(initial=0.0))
        cause, advice = health.divergence_cause(
            self.x_train[idx], self.y_train[idx], self.data_absmax, self.step == 0, wmax,
            self.optimizer, net.dtype)
        return DivergenceError(self.epoch, self.batch, self.step + 1, layer, quantity,
                               self.max_grad_norm, self.learning_rate, cause=cause, advice=advice)
