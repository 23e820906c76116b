"""A feed-forward network over one flat parameter vector (see kernels.layout).

Every layer but dropout is a *row* of the layer table (`layi`): dense, conv2d, maxpool2d,
avgpool2d and flatten layers. `rows`, `n_rows` and `row_positions` list them; the older names
`dense`, `n_dense` and `dense_positions` are the same lists (they predate the other kinds and
mean "every layer with a table row"). Only `Dense` and `Conv2D` rows hold parameters.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..kernels import catalogue as cat
from ..kernels.blas import single_thread
from ..kernels.layout import recurrent_dims, region_offsets, scratch_offsets
from . import activations
from .layers import LSTM, AvgPool2D, Conv2D, Dense, Dropout, Flatten, Layer, MaxPool2D, SimpleRNN
from .shapes import LayerShapes, infer, show

DTYPES = {"float32": np.float32, "float64": np.float64}
PREDICT_ROWS = 256   # rows per block in predict's workspace
PREDICT_ROWS_LAYERED = 64   # the same with conv rows (their im2col scratch grows with it)
_NO_WEIGHTS = np.zeros(0)
ROW_KINDS = {Dense: cat.DENSE, Conv2D: cat.CONV2D, MaxPool2D: cat.MAXPOOL2D,
             AvgPool2D: cat.AVGPOOL2D, Flatten: cat.FLATTEN, SimpleRNN: cat.SIMPLE_RNN,
             LSTM: cat.LSTM}
TYPE_NAMES = {"dense": "Dense", "dropout": "Dropout", "conv2d": "Conv2D",
              "maxpool2d": "MaxPool2D", "avgpool2d": "AvgPool2D", "flatten": "Flatten",
              "simple_rnn": "SimpleRNN", "lstm": "LSTM"}
RECURRENT = (SimpleRNN, LSTM)


@dataclass(frozen=True)
class ParamSlice:
    """Where one weight tensor lives in the flat vectors P and G (and optimizer state)."""

    name: str                 # checkpoint key, e.g. "layer0.W"
    label: str                # what users read, e.g. "layer 1 W" (1-based, every layer counted)
    layer: int                # 0-based row (every layer but dropout; see `Network.rows`)
    key: str                  # "W" or "b"
    start: int
    stop: int
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class SummaryRow:
    name: str         # e.g. "dense_1", "conv2d_1"
    type: str         # "Dense", "Dropout", "Conv2D", "MaxPool2D", "AvgPool2D", "Flatten",
                      # "SimpleRNN", "LSTM"
    output_shape: str  # "(None, 4)", "(None, 8, 26, 26)" (channels, height, width),
                       # "(None, 50, 32)" (steps, units)
    params: int


class Network:
    """Layers in order, their parameters in one vector `P` and gradients in `G`.

    Weights are named `layer{i}.W` and `layer{i}.b`, where i is the layer's position in the list
    (dropout layers count): a dense W is fan_in × units, a conv W filters × channels × kh × kw
    (PyTorch's order); a recurrent row also has `layer{i}.U` (units × k·units; W is
    features × k·units, b k·units; k = 4 for LSTM, gate blocks input, forget, cell, output — the
    Keras layout). `input_shape` (channels, height, width) makes the inputs images (their
    C·H·W values channel by channel, row by row), (steps, features) sequences (step by step);
    shapes are inferred and checked through the layers (`nnsim.engine.shapes`; a misfit is a
    ValueError naming the layer and the shapes).
    """

    def __init__(self, input_dim: int, layers: Sequence[Layer], dtype: str = "float32",
                 seed: int = 0, input_shape: Sequence[int] | None = None) -> None:
        if isinstance(input_dim, bool) or int(input_dim) < 1:
            raise ValueError(f"input_dim must be >= 1, got {input_dim!r}")
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        self.input_dim = int(input_dim)
        self.input_shape = self._image_shape(input_shape)
        self.layers = list(layers)
        self.dtype = np.dtype(DTYPES[dtype])
        self.seed = int(seed)
        self._check_structure()
        self.shapes: list[LayerShapes] = infer(self.input_shape or (self.input_dim,), self.layers)
        self._build_layout()
        self.initialize(seed)

    def _image_shape(self, shape: Sequence[int] | None) -> tuple[int, ...] | None:
        """An image (channels, height, width) or a sequence (steps, features), checked."""
        if shape is None:
            return None
        dims = tuple(shape)
        if len(dims) not in (2, 3) or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                                          or v < 1 for v in dims):
            raise ValueError(f"input_shape must be (channels, height, width) or (steps, features), "
                             f"integers >= 1, got {shape!r}")
        out = tuple(int(v) for v in dims)
        if int(np.prod(out)) != self.input_dim:
            raise ValueError(f"input_shape {out} holds {int(np.prod(out))} values, but input_dim "
                             f"is {self.input_dim}")
        return out

    # -- structure -------------------------------------------------------------------------
    def _check_structure(self) -> None:
        if not any(isinstance(l, Dense) for l in self.layers):
            raise ValueError("a network needs at least one dense layer")
        if not isinstance(self.layers[-1], Dense):
            raise ValueError("the last layer must be dense (it produces the output)")
        for i, layer in enumerate(self.layers):
            if type(layer) not in ROW_KINDS and not isinstance(layer, Dropout):
                raise ValueError(f"layer {i}: unsupported layer type {type(layer).__name__}")
            if isinstance(layer, Dropout) and i > 0 and isinstance(self.layers[i - 1], Dropout):
                raise ValueError(f"layers {i - 1} and {i} are two dropout layers in a row; use one")
        for i, layer in enumerate(self.layers[:-1]):
            if isinstance(layer, Dense) and layer.activation == "softmax":
                raise ValueError(f"layer {i}: softmax is only allowed on the output layer")

    def _build_layout(self) -> None:
        self.rows: list[Layer] = [l for l in self.layers if not isinstance(l, Dropout)]
        self.row_positions = [i for i, l in enumerate(self.layers) if not isinstance(l, Dropout)]
        self.dense, self.dense_positions = self.rows, self.row_positions  # the older names
        L = len(self.rows)
        layi = np.zeros((L + 1, cat.LAYI_COLS), dtype=np.int64)
        layf = np.zeros((L + 1, cat.LAYF_COLS), dtype=np.float64)
        layi[0, cat.UNITS] = self.input_dim
        layi[0, cat.KIND] = cat.INPUT
        layi[0, [cat.C_OUT, cat.H_OUT, cat.W_OUT]] = _chw(self.input_shape or (self.input_dim,))
        off, site, ucol = 0, 0, 0
        for layer, shapes in zip(self.layers, self.shapes):
            if isinstance(layer, Dropout):
                layf[site, cat.DROP] = layer.rate
                continue
            site += 1
            row = layi[site]
            row[cat.KIND] = ROW_KINDS[type(layer)]
            row[cat.UNITS] = int(np.prod(shapes.output))
            row[[cat.C_IN, cat.H_IN, cat.W_IN]] = _chw(shapes.input)
            row[[cat.C_OUT, cat.H_OUT, cat.W_OUT]] = _chw(shapes.output)
            row[[cat.KH, cat.KW]] = shapes.window
            row[[cat.SH, cat.SW]] = shapes.stride
            row[[cat.PH, cat.PW]] = shapes.padding
            row[cat.WOFF] = row[cat.BOFF] = off
            row[cat.ACT] = cat.LINEAR
            if isinstance(layer, RECURRENT):    # W (F × k·H), U (H × k·H), b (k·H); ACT linear
                k, F, H = layer.gates, shapes.input[-1], layer.units
                row[cat.FAN_IN], row[cat.BOFF] = F, off + (F + H) * k * H
                row[cat.RACT] = activations.get(layer.activation).code
                row[cat.HASB] = int(layer.use_bias)
                layf[site, cat.ALPHA] = float(layer.alpha or 0.0)
                off += (F + H + 1) * k * H
            elif isinstance(layer, (Dense, Conv2D)):
                fan_in = ((shapes.input[-1] if len(shapes.input) == 2 else int(np.prod(shapes.input)))
                          if isinstance(layer, Dense)
                          else shapes.input[0] * shapes.window[0] * shapes.window[1])
                nb = int(row[cat.C_OUT])        # units, or filters
                row[cat.FAN_IN], row[cat.BOFF] = fan_in, off + fan_in * nb
                row[cat.ACT] = activations.get(layer.activation).code
                row[cat.HASB] = int(layer.use_bias)
                layf[site, cat.ALPHA] = float(layer.alpha or 0.0)
                off += fan_in * nb + nb
        for s in range(L + 1):
            if layf[s, cat.DROP] > 0:
                layi[s, cat.UCOL] = ucol
                ucol += int(layi[s, cat.UNITS])
        self.layi, self.n_params, self.n_dropout_cols = layi, off, ucol
        #: True when some row is a SimpleRNN or LSTM
        self.recurrent = any(isinstance(l, RECURRENT) for l in self.rows)
        self.layf64 = layf            # the reference backend computes in float64
        self.layf = layf.astype(self.dtype)
        self.P = np.zeros(off, dtype=self.dtype)
        self.G = np.zeros(off, dtype=self.dtype)
        self._slices = self._param_slices()
        for sl in self._slices:
            layer = self.rows[sl.layer]
            layer.params[sl.key] = self.P[sl.start:sl.stop].reshape(sl.shape)
            layer.grads[sl.key] = self.G[sl.start:sl.stop].reshape(sl.shape)

    def _param_slices(self) -> list[ParamSlice]:
        out = []
        for l, pos in enumerate(self.row_positions):
            row = self.layi[l + 1]
            kind = int(row[cat.KIND])
            if kind in (cat.SIMPLE_RNN, cat.LSTM):
                k, _, F, H = recurrent_dims(self.layi, l + 1)
                w0, b0 = int(row[cat.WOFF]), int(row[cat.BOFF])
                for key, start, shape in (("W", w0, (F, k * H)), ("U", w0 + F * k * H, (H, k * H)),
                                          ("b", b0, (k * H,))):
                    out.append(ParamSlice(f"layer{pos}.{key}", f"layer {pos + 1} {key}", l, key,
                                          start, start + int(np.prod(shape)), shape))
                continue
            if kind == cat.DENSE:
                w_shape: tuple[int, ...] = (int(row[cat.FAN_IN]), int(row[cat.C_OUT]))
            elif kind == cat.CONV2D:
                w_shape = (int(row[cat.C_OUT]), int(row[cat.C_IN]), int(row[cat.KH]), int(row[cat.KW]))
            else:
                continue
            w0, b0 = int(row[cat.WOFF]), int(row[cat.BOFF])
            for key, start, shape in (("W", w0, w_shape), ("b", b0, (int(row[cat.C_OUT]),))):
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
    def layered(self) -> bool:
        """True when some row is not dense (or is dense on a sequence): training and prediction
        then use the layered kernels (`kernels.cpu_layers`), all-dense networks the fused ones."""
        return bool(np.any(self.layi[1:, cat.KIND] != cat.DENSE)
                    or np.any(self.layi[1:, cat.H_OUT] > 1))



    def scratch(self, bmax: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(soffs, float scratch, int scratch) for the layered kernels on up to `bmax` rows
        (`kernels.layout.scratch_offsets`)."""
        soffs, fsize, isize = scratch_offsets(self.layi, bmax)
        return soffs, np.zeros(fsize, dtype=self.dtype), np.zeros(isize, dtype=np.int64)

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    def row_shape(self, l: int) -> tuple[int, ...]:
        """Row l's output shape for one sample: (units,) or (channels, height, width)."""
        return self.shapes[self.row_positions[l]].output

    def row_input_shape(self, l: int) -> tuple[int, ...]:
        """Row l's input shape for one sample (the data's for row 0)."""
        return self.shapes[self.row_positions[l]].input

    def row_kind(self, l: int) -> str:
        """"dense", "conv2d", "maxpool2d", "avgpool2d" or "flatten"."""
        return self.rows[l].kind

    @property
    def output_dim(self) -> int:
        """Output values per sample: the last layer's units (times the steps of a sequence)."""
        return int(self.layi[-1, cat.UNITS])

    @property
    def n_dense(self) -> int:
        """The number of rows (the older name of `n_rows`)."""
        return len(self.rows)

    def dense_label(self, l: int) -> str:
        """Human name of row l (0-based), counting hidden/output for learners."""
        return f"layer {l + 1}" + (" (output)" if l == self.n_dense - 1 else "")

    # -- weights ---------------------------------------------------------------------------
    def initialize(self, seed: int | None = None) -> None:
        """Draw fresh weights from the seeded initializers."""
        if seed is not None:
            self.seed = int(seed)
        rng = np.random.default_rng(self.seed)
        P = np.zeros_like(self.P)
        slices = {(sl.layer, sl.key): sl for sl in self._slices}
        for l, layer in enumerate(self.rows):
            if (l, "W") not in slices:
                continue                    # pool and flatten rows hold no parameters
            fresh = layer.initialize(rng, (int(self.layi[l + 1, cat.FAN_IN])
                                           if isinstance(layer, Dense) else self.row_input_shape(l)))
            for key in ("W", "U", "b"):
                if (l, key) not in slices:
                    continue                # only recurrent rows have U
                with np.errstate(over="ignore", invalid="ignore"):
                    value = np.asarray(fresh[key], dtype=np.float64).astype(self.dtype)
                if not np.all(np.isfinite(value)):
                    what = {"W": f"init {layer.init!r}", "b": f"bias_init {layer.bias_init!r}",
                            "U": f"recurrent_init {getattr(layer, 'recurrent_init', '')!r}"}[key]
                    raise ValueError(
                        f"{self.dense_label(l)}: {what} gives {key} values that are not finite in "
                        f"{self.dtype.name} (|values| must stay below {np.finfo(self.dtype).max:.3g})")
                sl = slices[l, key]
                P[sl.start:sl.stop] = value.reshape(-1)
        self.P[:] = P
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
        """Set weights by name; every name must be present with the right shape, as real
        numbers that are finite in the network's dtype. Nothing changes on a ValueError."""
        new = {}
        for sl in self._slices:
            if sl.name not in weights:
                raise ValueError(f"weights are missing {sl.name!r} "
                                 f"(have {', '.join(sorted(weights))})")
            arr = np.asarray(weights[sl.name])
            if arr.shape != sl.shape:
                raise ValueError(f"{sl.name} has shape {arr.shape}, expected {sl.shape}")
            if arr.dtype.kind not in "fiu":
                raise ValueError(f"{sl.name} must hold real numbers, not {arr.dtype}")
            with np.errstate(over="ignore", invalid="ignore"):
                new[sl.name] = arr.astype(self.dtype)
            if not np.all(np.isfinite(new[sl.name])):
                raise ValueError(f"{sl.name} holds values that are not finite in {self.dtype.name}")
        for sl in self._slices:
            self.P[sl.start:sl.stop] = new[sl.name].reshape(-1)
        self._host_changed()

    def weight_arrays(self) -> list[np.ndarray]:
        """Each row's weight tensor W in order (an empty array for pool and flatten rows, so
        per-row lists such as the epoch's weight norms stay aligned with the rows); a recurrent
        row's W and U together, as one flat array (both are weights the penalty acts on)."""
        out = []
        for l, layer in enumerate(self.rows):
            if isinstance(layer, RECURRENT):
                w0 = int(self.layi[l + 1, cat.WOFF])
                out.append(self.P[w0:int(self.layi[l + 1, cat.BOFF])])
            else:
                out.append(layer.params.get("W", _NO_WEIGHTS))
        return out

    # -- inference and description ---------------------------------------------------------
    def predict(self, x: np.ndarray, backend: str = "cpu") -> np.ndarray:
        """Eval-mode output (dropout off) for every row of x."""
        self.sync_to_host()
        from ..kernels import get_backend
        xx = np.ascontiguousarray(x, dtype=self.dtype)
        if xx.ndim != 2 or xx.shape[1] != self.input_dim:
            raise ValueError(f"inputs must have shape (N, {self.input_dim}), got {xx.shape}")
        out = np.empty((xx.shape[0], self.output_dim), dtype=self.dtype)
        if self.layered:
            rows = PREDICT_ROWS_LAYERED
            offs, _ = self.workspace_offsets(rows)
            soffs, XS, IS = self.scratch(rows)
            with single_thread() if self.recurrent else nullcontext():
                get_backend(backend, layered=True).predict_layered(
                    xx, self.P, self.layi, self.layf, offs, rows, out, XS, soffs, IS)
            return out
        offs, _ = self.workspace_offsets(PREDICT_ROWS)
        get_backend(backend).predict(xx, self.P, self.layi, self.layf, offs, PREDICT_ROWS, out)
        return out

    def summary(self) -> list[SummaryRow]:
        """Keras-style rows: name, type, output shape, parameter count (biases counted only
        where the layer uses them, as Keras does)."""
        rows: list[SummaryRow] = []
        counts: dict[str, int] = {}
        for layer, shapes in zip(self.layers, self.shapes):
            counts[layer.kind] = counts.get(layer.kind, 0) + 1
            name = f"{layer.kind}_{counts[layer.kind]}"
            n = 0
            if isinstance(layer, Dense):   # on a sequence: one W for every step
                fan_in = shapes.input[-1] if len(shapes.input) == 2 else int(np.prod(shapes.input))
                n = fan_in * int(layer.units) + (int(layer.units) if layer.use_bias else 0)
            elif isinstance(layer, RECURRENT):
                n = layer.param_count(shapes.input[-1])
            elif isinstance(layer, Conv2D):
                kh, kw = shapes.window
                n = layer.filters * shapes.input[0] * kh * kw + (layer.filters if layer.use_bias else 0)
            rows.append(SummaryRow(name, TYPE_NAMES[layer.kind], show(shapes.output), n))
        return rows

    def config(self) -> list[dict]:
        return [layer.config() for layer in self.layers]


def _chw(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """A shape as (C, H, W): a flat (D,) is (D, 1, 1); a sequence (T, F) is (F, T, 1), the
    features of a step as channels (see `catalogue`)."""
    if len(shape) == 2:
        return (shape[1], shape[0], 1)
    return (shape[0], shape[1], shape[2]) if len(shape) == 3 else (shape[0], 1, 1)
