"""Shapes through a network: each layer's output shape from its input's, checked on the way.

A shape is `(D,)` for a flat vector of D values, `(T, F)` for a sequence of T time steps of F
features each (step 0's features first), or `(C, H, W)` for an image of C channels of H × W
pixels (one sample; a batch puts N in front, shown as `None` in summaries). The rules:

* conv2d, maxpool2d, avgpool2d need an image; conv "valid": (H − kh) // sh + 1 rows out,
  "same": ⌈H / sh⌉ (zero padding split evenly, the odd extra row at the bottom, as Keras);
  a pool: (H − ph) // sh + 1. A kernel larger than its (padded) input, or a pool larger than
  its input, is an error.
* flatten turns (C, H, W) into (C·H·W,) and (T, F) into (T·F,) (a flat input passes unchanged);
* dense needs a flat vector. The first row of a network may be dense on an image: it sees the
  flattened image (how the digits lessons use 8 × 8 images). After a conv or pool layer a
  flatten layer must come first. Dense on a sequence (T, F) applies to every step, as Keras
  does: (T, units), the same W at each step (Keras' TimeDistributed(Dense)).
* simple_rnn and lstm need a sequence (T, F): (T, units) with return_sequences, else (units,).
* dropout keeps the shape.

Errors are `ShapeError` (a ValueError) with the layer's 0-based position; the message names the
layer 1-based, its type and the shapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from .layers import LSTM, AvgPool2D, Conv2D, Dense, Dropout, Flatten, Layer, MaxPool2D, SimpleRNN

Shape = tuple[int, ...]


class ShapeError(ValueError):
    """A layer does not fit the shape it receives; `position` is its 0-based index and `key`
    the setting at fault ("type", "kernel_size" or "pool_size")."""

    def __init__(self, position: int, message: str, key: str = "type") -> None:
        self.position = position
        self.key = key
        super().__init__(message)


@dataclass(frozen=True)
class LayerShapes:
    """One layer's input and output shapes, and for conv/pool layers the geometry the kernels
    need: window (kh, kw), stride (sh, sw), padding (top, left)."""

    input: Shape
    output: Shape
    window: tuple[int, int] = (0, 0)
    stride: tuple[int, int] = (0, 0)
    padding: tuple[int, int] = (0, 0)


def show(shape: Shape) -> str:
    """"(None, 8, 26, 26)" — the Keras-style batch shape."""
    return "(" + ", ".join(["None", *(str(v) for v in shape)]) + ")"


def _name(i: int, layer: Layer) -> str:
    return f"layer {i + 1} ({layer.kind})"


def _same(size: int, k: int, s: int) -> tuple[int, int]:
    """(output size, padding before) of Keras "same" padding along one axis."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return out, total // 2


def infer(input_shape: Shape, layers: Sequence[Layer]) -> list[LayerShapes]:
    """Each layer's shapes from the network's input shape (ShapeError on the first misfit)."""
    shape = tuple(int(v) for v in input_shape)
    out: list[LayerShapes] = []
    first_row = True
    for i, layer in enumerate(layers):
        if isinstance(layer, Dropout):
            out.append(LayerShapes(shape, shape))
            continue
        if isinstance(layer, Dense):
            if len(shape) == 3 and not first_row:
                raise ShapeError(i, f"{_name(i, layer)} receives the {shape} feature maps of the "
                                    f"layer before it; add a flatten layer before it to give it "
                                    f"{shape[0] * shape[1] * shape[2]} values")
            if len(shape) == 2:   # a sequence: the same dense layer at every step
                out.append(LayerShapes(shape, (shape[0], int(layer.units))))
            else:
                out.append(LayerShapes(shape, (int(layer.units),)))
        elif isinstance(layer, Flatten):
            out.append(LayerShapes(shape, (int(math.prod(shape)),)))
        elif isinstance(layer, (SimpleRNN, LSTM)):
            if len(shape) != 2:
                what = (f"the data are {'images' if len(shape) == 3 else 'flat vectors'}"
                        if first_row else f"the layer before it gives {show(shape)}")
                how = ("give the data a shape (a sequence data set, or [data] shape = [steps, "
                       "features])" if first_row else "set return_sequences = true on the "
                       "recurrent layer before it, so that it passes on every step")
                raise ShapeError(i, f"{_name(i, layer)} needs sequences (time steps, features) "
                                    f"as input, but {what}; {how}")
            steps = shape[0]
            out.append(LayerShapes(shape, (steps, layer.units) if layer.return_sequences
                                   else (layer.units,)))
        elif isinstance(layer, (Conv2D, MaxPool2D, AvgPool2D)):
            out.append(_spatial(i, layer, shape, first_row))
        else:
            raise ShapeError(i, f"layer {i + 1}: unsupported layer type {type(layer).__name__}")
        first_row = False
        shape = out[-1].output
    return out


def _spatial(i: int, layer: Conv2D | MaxPool2D | AvgPool2D, shape: Shape,
             first_row: bool) -> LayerShapes:
    if len(shape) != 3:
        flat = len(shape) == 1
        what = ((f"the data are flat vectors of {shape[0]} values" if flat else
                 f"the data are sequences of {shape[0]} steps")
                if first_row else (f"the layer before it gives a flat vector of {shape[0]} values"
                                   if flat else f"the layer before it gives {show(shape)}"))
        raise ShapeError(i, f"{_name(i, layer)} needs images (channels, height, width) as input, "
                            f"but {what}; give the data a shape "
                            "(an image data set, or [data] shape = [channels, height, width])")
    c, h, w = shape
    if isinstance(layer, Conv2D):
        (kh, kw), (sh, sw) = layer.kernel_size, layer.stride  # type: ignore[misc]
        if layer.padding == "same":
            (ho, ph), (wo, pw) = _same(h, kh, sh), _same(w, kw, sw)
        else:
            if kh > h or kw > w:
                raise ShapeError(i, f"{_name(i, layer)}: its {kh}×{kw} kernel is larger than its "
                                    f"{h}×{w} input {shape}; use a smaller kernel_size or "
                                    'padding = "same"', "kernel_size")
            ho, wo, ph, pw = (h - kh) // sh + 1, (w - kw) // sw + 1, 0, 0
        return LayerShapes(shape, (layer.filters, ho, wo), (kh, kw), (sh, sw), (ph, pw))
    (kh, kw), (sh, sw) = layer.pool_size, layer.stride  # type: ignore[misc]
    if kh > h or kw > w:
        raise ShapeError(i, f"{_name(i, layer)}: its {kh}×{kw} pool is larger than its {h}×{w} "
                            f"input {shape}, which would leave 0×0 outputs; use a smaller "
                            "pool_size or remove the layer", "pool_size")
    return LayerShapes(shape, (c, (h - kh) // sh + 1, (w - kw) // sw + 1), (kh, kw), (sh, sw))
