"""Pydantic models of a scenario file: one model per TOML table, defaults filled in.

Every model forbids unknown keys and is strict (TOML has real types: `epochs = "10"` is an error,
an integer is accepted where a float is expected). Names are checked against the engine
registries (see `names.py`). Checks that relate several tables live in `checks.py`.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model, model_validator
from pydantic_core import PydanticCustomError

from ..data import MAX_SAMPLES, MIN_SAMPLES
from ..data.registry import MAX_STEPS
from ..engine import optimizers, regularizers, schedules
from ..engine.registry import Option
from . import names

MAX_UNITS = 4096
MAX_FILTERS = 1024
MAX_PARAMS = 5_000_000
MAX_EPOCHS = 100_000

_CONFIG = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, populate_by_name=True)


def unknown_name_error(what: str, value: Any, valid: list[str]) -> PydanticCustomError:
    """The error for a name that is not in `valid`, with the nearest match and the choices."""
    close = difflib.get_close_matches(str(value), valid, n=1) if isinstance(value, str) else []
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return PydanticCustomError(
        "unknown_name",
        "unknown {what} {value}{hint} valid choices: {valid}",
        {"what": what, "value": repr(value), "hint": hint or ";", "valid": ", ".join(valid)},
    )


def _registry_name(kind: str, what: str) -> AfterValidator:
    def check(value: str) -> str:
        valid = names.valid_names(kind)
        if value not in valid:
            raise unknown_name_error(what, value, valid)
        return value

    return AfterValidator(check)


ActivationName = Annotated[str, _registry_name("activations", "activation")]
LossName = Annotated[str, _registry_name("losses", "loss")]
OptimizerName = Annotated[str, _registry_name("optimizers", "optimizer")]
InitializerName = Annotated[str, _registry_name("initializers", "initializer")]
RegularizerName = Annotated[str, _registry_name("regularizers", "regularization")]
DatasetName = Annotated[str, _registry_name("datasets", "dataset")]


def _check_bias_init(value: Any) -> Any:
    """`bias_init` is an initializer name or a number (a constant)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PydanticCustomError(
            "bias_init_type", "must be an initializer name or a number (a constant bias)"
        )
    if isinstance(value, str):
        valid = names.choices("initializers")
        if value not in valid:
            raise unknown_name_error("initializer", value, valid)
    return value


def _check_feature(value: str) -> str:
    valid = names.feature_names()
    if value not in valid:
        raise unknown_name_error("feature", value, valid)
    return value


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise PydanticCustomError("duplicate", "each feature may be listed only once")
    return values


FeatureName = Annotated[str, AfterValidator(_check_feature)]
BiasInit = Annotated[Union[float, str], BeforeValidator(_check_bias_init)]


class Meta(BaseModel):
    """[scenario]: the lesson's name, text and random seed."""

    model_config = _CONFIG

    name: str = Field(min_length=1, description="a non-empty string")
    description: str = Field("", description="a string (the lesson text; may span lines)")
    seed: int = Field(0, ge=0, description="an integer >= 0")


class DataSpec(BaseModel):
    """[data]: which dataset, how many samples, how it is split and transformed."""

    model_config = _CONFIG

    dataset: DatasetName = Field(description="a dataset name", json_schema_extra={"choices": "datasets"})
    samples: int | None = Field(
        None, ge=MIN_SAMPLES, le=MAX_SAMPLES,
        description=f"an integer >= {MIN_SAMPLES} and <= {MAX_SAMPLES} (memory limit)",
    )
    noise: float = Field(0.0, ge=0, le=0.5, description="a number >= 0 and <= 0.5")
    test_fraction: float = Field(0.5, ge=0, le=0.9, description="a number >= 0 and <= 0.9")
    features: Annotated[list[FeatureName], AfterValidator(_unique)] | None = Field(
        None, min_length=1, description="a non-empty list of feature names"
    )
    normalize: bool = Field(False, description="true or false")
    classes: int | None = Field(None, ge=2, le=8, description="an integer >= 2 and <= 8")
    path: str | None = Field(None, min_length=1, description="a path to a CSV file, relative to the scenario file")
    target: str | None = Field(None, min_length=1, description='the name of the CSV\'s target column, '
                               'or "inputs" (any other dataset): the targets are the inputs, an autoencoder')
    shape: Annotated[list[Annotated[int, Field(ge=1, le=4096)]], Field(min_length=2, max_length=3)] | None = Field(
        None, description="[channels, height, width] (an image) or [steps, features] (a sequence): "
                          "the CSV's input columns in that shape")
    steps: int | None = Field(None, ge=1, le=MAX_STEPS,
                              description=f"an integer >= 1 and <= {MAX_STEPS} (time steps of a sequence)")
    pattern: Literal["many_to_one", "many_to_many", "one_to_many"] | None = Field(
        None, description='"many_to_one", "many_to_many" or "one_to_many"')
    images: str | None = Field(None, min_length=1, description="an IDX images file, relative to the scenario file")
    labels: str | None = Field(None, min_length=1, description="an IDX labels file, relative to the scenario file")
    test_images: str | None = Field(None, min_length=1, description="an IDX images file for the test set")
    test_labels: str | None = Field(None, min_length=1, description="an IDX labels file for the test set")


class DenseLayer(BaseModel):
    """[[layers]] type = "dense": a fully connected layer, a = f(x W + b)."""

    model_config = _CONFIG

    type: Literal["dense"] = "dense"
    units: int = Field(ge=1, le=MAX_UNITS, description=f"an integer >= 1 and <= {MAX_UNITS} (memory limit)")
    activation: ActivationName = Field(
        "linear", description="an activation name", json_schema_extra={"choices": "activations"}
    )
    init: InitializerName = Field(
        "glorot_uniform", description="an initializer name", json_schema_extra={"choices": "initializers"}
    )
    bias_init: BiasInit = Field(
        "zeros", description="an initializer name or a number", json_schema_extra={"choices": "initializers"}
    )
    use_bias: bool = Field(True, description="true or false")
    alpha: float | None = Field(None, ge=0, description="a number >= 0 (for leaky_relu and elu)")


class DropoutLayer(BaseModel):
    """[[layers]] type = "dropout": zeroes a fraction `rate` of its inputs while training."""

    model_config = _CONFIG

    type: Literal["dropout"] = "dropout"
    rate: float = Field(ge=0, lt=1, description="a number >= 0 and < 1")


def _check_pair(value: Any) -> Any:
    """An integer >= 1 (a square) or a [height, width] pair of them, as Keras takes sizes."""
    ok = (isinstance(value, int) and not isinstance(value, bool) and value >= 1) or (
        isinstance(value, list) and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value))
    if not ok:
        raise PydanticCustomError("size_pair", "must be an integer >= 1 or a [height, width] "
                                  "pair of integers >= 1")
    return value


def _check_kernel(value: Any) -> Any:
    """Hand-set conv weights: a rectangular array of numbers of 2, 3 or 4 dimensions."""
    def dims(v: Any, depth: int) -> list[int]:
        if isinstance(v, list):
            if not v or depth > 4:
                raise ValueError
            inner = [dims(x, depth + 1) for x in v]
            if any(d != inner[0] for d in inner):
                raise ValueError
            return [len(v), *inner[0]]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or abs(v) == float("inf"):
            raise ValueError
        return []

    try:
        shape = dims(value, 1)
    except ValueError:
        shape = []
    if not 2 <= len(shape) <= 4:
        raise PydanticCustomError(
            "kernel_array", "must be a rectangular array of finite numbers: [[...], ...] rows of "
            "one kernel (kernel_size), or [filters][rows][columns], or [filters][channels][rows][columns]")
    return value


SizePair = Annotated[Union[int, list[int]], BeforeValidator(_check_pair)]
KernelArray = Annotated[Any, BeforeValidator(_check_kernel)]


class Conv2DLayer(BaseModel):
    """[[layers]] type = "conv2d": `filters` kernels slide over the image; each output map is
    f(W ⋆ x + b), W of shape (filters, channels, kernel height, kernel width)."""

    model_config = _CONFIG

    type: Literal["conv2d"] = "conv2d"
    filters: int = Field(ge=1, le=MAX_FILTERS, description=f"an integer >= 1 and <= {MAX_FILTERS}")
    kernel_size: SizePair = Field(description="an integer >= 1 or a [height, width] pair")
    stride: SizePair = Field(1, description="an integer >= 1 or a [height, width] pair")
    padding: Literal["valid", "same"] = Field("valid", description='"valid" or "same"')
    activation: ActivationName = Field(
        "linear", description="an activation name", json_schema_extra={"choices": "activations"}
    )
    init: InitializerName = Field(
        "glorot_uniform", description="an initializer name", json_schema_extra={"choices": "initializers"}
    )
    bias_init: BiasInit = Field(
        "zeros", description="an initializer name or a number", json_schema_extra={"choices": "initializers"}
    )
    use_bias: bool = Field(True, description="true or false")
    alpha: float | None = Field(None, ge=0, description="a number >= 0 (for leaky_relu and elu)")
    kernel: KernelArray | None = Field(
        None, description="hand-set starting weights: [[...], ...] (one filter, one channel), "
                          "[filters][rows][columns] or [filters][channels][rows][columns]")
    bias: list[float] | None = Field(None, min_length=1, description="hand-set starting biases, one per filter")


class MaxPool2DLayer(BaseModel):
    """[[layers]] type = "maxpool2d": the largest value of each pool_size window."""

    model_config = _CONFIG

    type: Literal["maxpool2d"] = "maxpool2d"
    pool_size: SizePair = Field(2, description="an integer >= 1 or a [height, width] pair")
    stride: SizePair | None = Field(None, description="an integer >= 1 or a [height, width] pair "
                                                      "(default: the pool size)")


class AvgPool2DLayer(BaseModel):
    """[[layers]] type = "avgpool2d": the mean of each pool_size window."""

    model_config = _CONFIG

    type: Literal["avgpool2d"] = "avgpool2d"
    pool_size: SizePair = Field(2, description="an integer >= 1 or a [height, width] pair")
    stride: SizePair | None = Field(None, description="an integer >= 1 or a [height, width] pair "
                                                      "(default: the pool size)")


class FlattenLayer(BaseModel):
    """[[layers]] type = "flatten": (channels, height, width) feature maps as one vector."""

    model_config = _CONFIG

    type: Literal["flatten"] = "flatten"


class _RecurrentLayer(BaseModel):
    model_config = _CONFIG

    type: Literal["simple_rnn", "lstm"]   # first in the written file; each subclass narrows it
    units: int = Field(ge=1, le=MAX_UNITS, description=f"an integer >= 1 and <= {MAX_UNITS} (memory limit)")
    return_sequences: bool = Field(False, description="true (every step's h goes on) or false "
                                                      "(only the last step's, as Keras)")
    init: InitializerName = Field(
        "glorot_uniform", description="an initializer name (the input weights W)",
        json_schema_extra={"choices": "initializers"})
    recurrent_init: InitializerName = Field(
        "orthogonal", description="an initializer name (the recurrent weights U)",
        json_schema_extra={"choices": "initializers"})
    bias_init: BiasInit = Field(
        "zeros", description="an initializer name or a number", json_schema_extra={"choices": "initializers"}
    )
    use_bias: bool = Field(True, description="true or false")


class SimpleRNNLayer(_RecurrentLayer):
    """[[layers]] type = "simple_rnn": h_t = f(x_t W + h_{t-1} U + b), step by step."""

    type: Literal["simple_rnn"] = "simple_rnn"
    activation: ActivationName = Field(
        "tanh", description="an activation name", json_schema_extra={"choices": "activations"}
    )
    alpha: float | None = Field(None, ge=0, description="a number >= 0 (for leaky_relu and elu)")


class LSTMLayer(_RecurrentLayer):
    """[[layers]] type = "lstm": gates i, f, o and a candidate g from x_t W + h_{t-1} U + b;
    c_t = f c_{t-1} + i g, h_t = o tanh(c_t)."""

    type: Literal["lstm"] = "lstm"
    forget_bias: float = Field(1.0, ge=-10, le=10, description=(
        "a number >= -10 and <= 10: where the forget gate's biases start (1 as Keras' "
        "unit_forget_bias; larger keeps more of the cell per step at the start)"))


#: Layer models by their `type` value.
LAYER_TYPES: dict[str, type[BaseModel]] = {
    "dense": DenseLayer, "dropout": DropoutLayer, "conv2d": Conv2DLayer,
    "maxpool2d": MaxPool2DLayer, "avgpool2d": AvgPool2DLayer, "flatten": FlattenLayer,
    "simple_rnn": SimpleRNNLayer, "lstm": LSTMLayer}
LayerSpec = Annotated[Union[DenseLayer, DropoutLayer, Conv2DLayer, MaxPool2DLayer, AvgPool2DLayer,
                            FlattenLayer, SimpleRNNLayer, LSTMLayer], Field(discriminator="type")]

def option_field(o: Option, default: Any = None) -> tuple[Any, Any]:
    """A (type, Field) pair for a registry Option: its range and its description, never
    restated here."""
    bounds: dict[str, float] = {("ge" if o.low_inclusive else "gt"): o.low}
    if o.high != float("inf"):
        bounds["le" if o.high_inclusive else "lt"] = o.high
    kind: Any = int if o.integer else float
    return (kind if default is not None else kind | None,
            Field(default, description=o.describe(), **bounds))


def _unique_options(groups: dict[str, tuple[Option, ...]]) -> dict[str, Option]:
    """Each setting name once (a name shared by several entries must mean the same range)."""
    out: dict[str, Option] = {}
    for opts in groups.values():
        for o in opts:
            seen = out.setdefault(o.name, o)
            assert (seen.low, seen.high, seen.integer) == (o.low, o.high, o.integer), o.name
    return out


#: The settings each schedule takes (from the engine registry).
SCHEDULE_OPTIONS: dict[str, tuple[Option, ...]] = {n: schedules.options(n) for n in schedules.names()}
_SCHEDULE_FIELDS = _unique_options(SCHEDULE_OPTIONS)


class _ScheduleBase(BaseModel):
    """training.schedule: a name, or a table {name = ..., settings}; defaults filled in (t_max's
    default, training.epochs, is filled in by the training table)."""

    model_config = _CONFIG

    name: Annotated[str, _registry_name("schedules", "schedule")] = Field(
        description="a schedule name", json_schema_extra={"choices": "schedules"}
    )

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value}
        if not isinstance(value, (dict, BaseModel)):
            raise PydanticCustomError(
                "schedule_type",
                "must be a schedule name or a table like {name = \"step\", step_size = 10, gamma = 0.5}",
            )
        return value

    @model_validator(mode="after")
    def _options(self) -> Any:
        takes = {o.name: o for o in SCHEDULE_OPTIONS.get(self.name, ())}
        for key in _SCHEDULE_FIELDS:
            if key in takes:
                if getattr(self, key) is None and takes[key].default is not None:
                    default = takes[key].default
                    object.__setattr__(self, key, int(default) if takes[key].integer else default)
            elif getattr(self, key) is not None:
                users = [n for n, opts in SCHEDULE_OPTIONS.items() if any(o.name == key for o in opts)]
                raise PydanticCustomError(
                    "schedule_option",
                    "{key} does not apply to schedule '{name}' (only to: {takes})",
                    {"key": key, "name": self.name, "takes": ", ".join(users)},
                )
        return self

    def options(self) -> dict[str, Any]:
        """The schedule's settings (without `name`), None values left out."""
        return {k: v for k, v in self.model_dump(exclude={"name"}).items() if v is not None}


Schedule = create_model("Schedule", __base__=_ScheduleBase,
                        **{k: option_field(o) for k, o in _SCHEDULE_FIELDS.items()})  # type: ignore[call-overload]
Schedule.__doc__ = _ScheduleBase.__doc__

#: Optimizer settings and the optimizers that take them (from the engine registry); `nesterov`
#: is the Keras-style flag that turns sgd or momentum into nesterov.
OPTIMIZER_OPTIONS: dict[str, tuple[str, ...]] = {
    **{k: tuple(optimizers.takers(k)) for k in optimizers.all_options()},
    "nesterov": ("sgd", "momentum"),
}


class _TrainingBase(BaseModel):
    """[training]: loss, optimizer and its settings, batches, epochs, regularization, schedule."""

    model_config = _CONFIG

    loss: LossName = Field(description="a loss name", json_schema_extra={"choices": "losses"})
    from_logits: bool = Field(False, description="true or false")
    optimizer: OptimizerName = Field(
        "sgd", description="an optimizer name", json_schema_extra={"choices": "optimizers"}
    )
    learning_rate: float = option_field(optimizers.LR_OPTION, optimizers.LR_OPTION.default)[1]
    nesterov: bool | None = Field(None, description="true or false")
    batch_size: Annotated[int, Field(ge=1, le=MAX_SAMPLES)] | Literal["full"] = Field(
        32, union_mode="left_to_right",
        description=f'an integer >= 1 and <= {MAX_SAMPLES}, or "full" (the whole training set)')
    epochs: int = Field(10, ge=1, le=MAX_EPOCHS, description=f"an integer >= 1 and <= {MAX_EPOCHS}")
    shuffle: bool = Field(True, description="true or false")
    regularization: RegularizerName = Field(
        "none", description="a regularizer name", json_schema_extra={"choices": "regularizers"}
    )
    regularization_rate: float = option_field(regularizers.RATE_OPTION,
                                              regularizers.RATE_OPTION.default)[1]
    clip_norm: float = option_field(optimizers.CLIP_OPTION, optimizers.CLIP_OPTION.default)[1]
    schedule: Schedule = Field(default_factory=lambda: Schedule(name="constant"),  # type: ignore[valid-type]
                               description="a schedule")
    dtype: Literal["float32", "float64"] = Field("float32", description='"float32" or "float64"')
    backend: Literal["cpu", "cuda", "auto"] = Field(
        "cpu", description='"cpu", "cuda" or "auto" (cuda when a usable GPU is present)')

    def batch_rows(self, n_train: int) -> int:
        """The batch size in samples: "full" is the whole training set (one update per epoch)."""
        return n_train if self.batch_size == "full" else min(int(self.batch_size), n_train)

    def optimizer_options(self) -> dict[str, Any]:
        """The optimizer settings that are set (momentum, beta1, ...), for the engine."""
        return {k: getattr(self, k) for k in OPTIMIZER_OPTIONS if getattr(self, k) is not None}

    def schedule_options(self) -> dict[str, Any]:
        """The schedule's settings for the engine, its t_max defaulting to `epochs`."""
        takes = {o.name for o in SCHEDULE_OPTIONS[self.schedule.name]}
        opts = {k: v for k, v in self.schedule.options().items() if k in takes}
        if "t_max" in takes:
            opts.setdefault("t_max", self.epochs)
        return opts


TrainingSpec = create_model(
    "TrainingSpec", __base__=_TrainingBase,
    **{k: option_field(o) for k, o in optimizers.all_options().items()})  # type: ignore[call-overload]
TrainingSpec.__doc__ = _TrainingBase.__doc__


class Goals(BaseModel):
    """[goals]: what `nnsim run` checks after training (all optional)."""

    model_config = _CONFIG

    test_loss_below: float | None = Field(None, gt=0, description="a number > 0")
    test_accuracy_at_least: float | None = Field(None, ge=0, le=1, description="a number >= 0 and <= 1")
    test_accuracy_at_most: float | None = Field(None, ge=0, le=1, description="a number >= 0 and <= 1")
    train_loss_below: float | None = Field(None, gt=0, description="a number > 0")
    within_epochs: int | None = Field(None, ge=1, description="an integer >= 1")
    diverges: bool | None = Field(None, description="true or false")


class View(BaseModel):
    """[view]: where the app opens (optional)."""

    model_config = _CONFIG

    panel: Literal["network", "boundary", "plots", "stepper"] | None = Field(
        None, description='"network", "boundary", "plots" or "stepper"'
    )
    sample: int | None = Field(None, ge=0, description="an integer >= 0 (a sample index)")
    speed: float | None = Field(None, gt=0, le=1e6,
                                description="mini-batches per second, a number > 0 and <= 1000000")


class Scenario(BaseModel):
    """A whole scenario file. `meta` is the [scenario] table; `source_path` is where it was read
    from (used to resolve relative CSV paths; not written, not compared)."""

    model_config = _CONFIG

    meta: Meta = Field(alias="scenario")
    data: DataSpec
    layers: list[LayerSpec] = Field(min_length=1)
    training: TrainingSpec
    goals: Goals = Field(default_factory=Goals)
    view: View = Field(default_factory=View)
    source_path: Path | None = Field(None, exclude=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    @property
    def dense_layers(self) -> list[DenseLayer]:
        """The dense layers, in order."""
        return [layer for layer in self.layers if isinstance(layer, DenseLayer)]


#: The top-level tables, with their models (layers: an array of tables).
SECTIONS: dict[str, type[BaseModel]] = {
    "scenario": Meta, "data": DataSpec, "layers": DenseLayer, "training": TrainingSpec,
    "goals": Goals, "view": View,
}
REQUIRED_SECTIONS = ("scenario", "data", "layers", "training")
