"""A feed-forward network over one flat parameter vector (see kernels.layout)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..kernels import catalogue as cat
from ..kernels.layout import region_offsets
from . import activations
from .layers import Dense, Dropout, Layer

DTYPES = {"float32": np.float32, "float64": np.float64}
PREDICT_ROWS = 256   # rows per block in predict's workspace


@dataclass(frozen=True)
class ParamSlice:
    """Where one weight tensor lives in the flat vectors P and G (and optimizer state)."""

    name: str                 # checkpoint key, e.g. "layer0.W"
    label: str                # what users read, e.g. "layer 1 W" (1-based, every layer counted)
    layer: int                # 0-based index among the parameterised (dense) layers
    key: str                  # "W" or "b"
    start: int
    stop: int
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class SummaryRow:
    name: str         # e.g. "dense_1"
    type: str         # "Dense" / "Dropout"
    output_shape: str  # "(None, 4)"
    params: int


class Network:
    """Layers in order, their parameters in one vector `P` and gradients in `G`.

    Weights are named `layer{i}.W` (fan_in × units) and `layer{i}.b`, where i is the layer's
    position in the list (dropout layers count).
    """

    def __init__(self, input_dim: int, layers: Sequence[Layer], dtype: str = "float32",
                 seed: int = 0) -> None:
        if isinstance(input_dim, bool) or int(input_dim) < 1:
            raise ValueError(f"input_dim must be >= 1, got {input_dim!r}")
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        self.input_dim = int(input_dim)
        self.layers = list(layers)
        self.dtype = np.dtype(DTYPES[dtype])
        self.seed = int(seed)
        self._check_structure()
        self._build_layout()
        self.initialize(seed)

    # -- structure -------------------------------------------------------------------------
    def _check_structure(self) -> None:
        if not any(isinstance(l, Dense) for l in self.layers):
            raise ValueError("a network needs at least one dense layer")
        if not isinstance(self.layers[-1], Dense):
            raise ValueError("the last layer must be dense (it produces the output)")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, (Dense, Dropout)):
                raise ValueError(f"layer {i}: unsupported layer type {type(layer).__name__}")
            if isinstance(layer, Dropout) and i > 0 and isinstance(self.layers[i - 1], Dropout):
                raise ValueError(f"layers {i - 1} and {i} are two dropout layers in a row; use one")
        for i, layer in enumerate(self.layers[:-1]):
            if isinstance(layer, Dense) and layer.activation == "softmax":
                raise ValueError(f"layer {i}: softmax is only allowed on the output layer")

    def _build_layout(self) -> None:
        self.dense: list[Dense] = [l for l in self.layers if isinstance(l, Dense)]
        self.dense_positions = [i for i, l in enumerate(self.layers) if isinstance(l, Dense)]
        L = len(self.dense)
        layi = np.zeros((L + 1, cat.LAYI_COLS), dtype=np.int64)
        layf = np.zeros((L + 1, cat.LAYF_COLS), dtype=np.float64)
        layi[0, cat.UNITS] = self.input_dim
        layi[0, cat.KIND] = cat.INPUT
        off, din, site, ucol = 0, self.input_dim, 0, 0
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layf[site, cat.DROP] = layer.rate
                continue
            site += 1
            u = int(layer.units)
            row = layi[site]
            row[cat.FAN_IN], row[cat.UNITS], row[cat.WOFF], row[cat.BOFF] = din, u, off, off + din * u
            row[cat.ACT] = activations.get(layer.activation).code
            row[cat.HASB] = int(layer.use_bias)
            row[cat.KIND] = cat.DENSE
            layf[site, cat.ALPHA] = float(layer.alpha or 0.0)
            off += din * u + u
            din = u
        for s in range(L + 1):
            if layf[s, cat.DROP] > 0:
                layi[s, cat.UCOL] = ucol
                ucol += int(layi[s, cat.UNITS])
        self.layi, self.n_params, self.n_dropout_cols = layi, off, ucol
        self.layf64 = layf            # the reference backend computes in float64
        self.layf = layf.astype(self.dtype)
        self.P = np.zeros(off, dtype=self.dtype)
        self.G = np.zeros(off, dtype=self.dtype)
        self._slices = self._param_slices()
        for sl in self._slices:
            layer = self.dense[sl.layer]
            layer.params[sl.key] = self.P[sl.start:sl.stop].reshape(sl.shape)
            layer.grads[sl.key] = self.G[sl.start:sl.stop].reshape(sl.shape)

    def _param_slices(self) -> list[ParamSlice]:
        out = []
        for l, pos in enumerate(self.dense_positions):
            row = self.layi[l + 1]
            fi, u = int(row[cat.FAN_IN]), int(row[cat.UNITS])
            w0, b0 = int(row[cat.WOFF]), int(row[cat.BOFF])
            for key, start, shape in (("W", w0, (fi, u)), ("b", b0, (u,))):
                out.append(ParamSlice(f"layer{pos}.{key}", f"layer {pos + 1} {key}", l, key,
                                      start, start + int(np.prod(shape)), shape))
        return out

    def param_slices(self) -> list[ParamSlice]:
        """Every weight tensor in order (layer by layer, W then b) with its flat range."""
        return list(self._slices)

    def workspace_offsets(self, bmax: int) -> tuple[np.ndarray, int]:
        """Block offsets inside one workspace region of `bmax` rows, and the region size."""
        return region_offsets(self.layi, bmax)

    @property
    def output_dim(self) -> int:
        return int(self.dense[-1].units)

    @property
    def n_dense(self) -> int:
        return len(self.dense)

    def dense_label(self, l: int) -> str:
        """Human name of dense layer l (0-based), counting hidden/output for learners."""
        return f"layer {l + 1}" + (" (output)" if l == self.n_dense - 1 else "")

    # -- weights ---------------------------------------------------------------------------
    def initialize(self, seed: int | None = None) -> None:
        """Draw fresh weights from the seeded initializers."""
        if seed is not None:
            self.seed = int(seed)
        rng = np.random.default_rng(self.seed)
        din = self.input_dim
        for layer in self.dense:
            fresh = layer.initialize(rng, din)
            layer.params["W"][...] = fresh["W"]
            layer.params["b"][...] = fresh["b"]
            din = int(layer.units)
        self.G[:] = 0
        self._host_changed()

    # -- the device copy: on the cuda backend P and G live on the GPU while training -------
    device_copy = None   # set by a Trainer on the cuda backend (its DeviceTrainer)

    def sync_to_host(self) -> None:
        """Bring P and G back from the device if training changed them there (cuda backend;
        nothing to do on cpu). `get_weights` and `predict` call it; code that reads `P`, `G` or
        a layer's `params` directly after training on cuda calls it (or the trainer's) first."""
        if self.device_copy is not None:
            self.device_copy.pull("P G")

    def _host_changed(self) -> None:
        """P was written here (initialize, set_weights): the device copy takes it."""
        if self.device_copy is not None:
            self.device_copy.push_params()

    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of every weight array by name (`layer{i}.W`, `layer{i}.b`)."""
        self.sync_to_host()
        return {sl.name: self.P[sl.start:sl.stop].reshape(sl.shape).copy() for sl in self._slices}

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Set weights by name; every name must be present with the right shape."""
        for sl in self._slices:
            if sl.name not in weights:
                raise ValueError(f"weights are missing {sl.name!r} "
                                 f"(have {', '.join(sorted(weights))})")
            arr = np.asarray(weights[sl.name])
            if arr.shape != sl.shape:
                raise ValueError(f"{sl.name} has shape {arr.shape}, expected {sl.shape}")
        for sl in self._slices:
            self.P[sl.start:sl.stop] = np.asarray(weights[sl.name]).reshape(-1)
        self._host_changed()

    def weight_arrays(self) -> list[np.ndarray]:
        return [layer.params["W"] for layer in self.dense]

    # -- inference and description ---------------------------------------------------------
    def predict(self, x: np.ndarray, backend: str = "cpu") -> np.ndarray:
        """Eval-mode output (dropout off) for every row of x."""
        self.sync_to_host()
        from ..kernels import get_backend
        xx = np.ascontiguousarray(x, dtype=self.dtype)
        if xx.ndim != 2 or xx.shape[1] != self.input_dim:
            raise ValueError(f"inputs must have shape (N, {self.input_dim}), got {xx.shape}")
        out = np.empty((xx.shape[0], self.output_dim), dtype=self.dtype)
        offs, _ = self.workspace_offsets(PREDICT_ROWS)
        get_backend(backend).predict(xx, self.P, self.layi, self.layf, offs, PREDICT_ROWS, out)
        return out

    def summary(self) -> list[SummaryRow]:
        """Keras-style rows: name, type, output shape, parameter count."""
        rows, din, counts = [], self.input_dim, {"dense": 0, "dropout": 0}
        for layer in self.layers:
            counts[layer.kind] += 1
            name = f"{layer.kind}_{counts[layer.kind]}"
            if isinstance(layer, Dense):
                n = din * int(layer.units) + (int(layer.units) if layer.use_bias else 0)
                din = int(layer.units)
                rows.append(SummaryRow(name, "Dense", f"(None, {din})", n))
            else:
                rows.append(SummaryRow(name, "Dropout", f"(None, {din})", 0))
        return rows

    def config(self) -> list[dict]:
        return [layer.config() for layer in self.layers]
