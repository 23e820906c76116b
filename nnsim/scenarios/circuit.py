"""Circuit scenarios (`[scenario] kind = "circuit"`): the pydantic models of their tables.

```toml
[scenario]
name = "Multiply, then add"
kind = "circuit"

[circuit]
expression = "(x * y) + z"      # or [[circuit.nodes]] tables: name, op, inputs

[circuit.inputs]
x = -2.0
y = 3.0
z = 4.0

[goals]
output_at_least = 0.0
within_steps = 20
```

Loading (every problem at once, with lines) is in `circuit_load.py`; goals in `circuit_goals.py`.
Like the network tables, every model forbids unknown keys and is strict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from nnsim.circuits import OPS, Circuit, GateSpec, parse_expression
from nnsim.circuits.parse import MAX_EXPRESSION_CHARS, MAX_GATES

KINDS = ("network", "circuit")
MAX_INPUTS = 64
MAX_STEPS = 10_000

_CONFIG = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, populate_by_name=True)


class CircuitMeta(BaseModel):
    """[scenario] of a circuit: name, text, the seed of random local search, and the kind."""

    model_config = _CONFIG

    name: str = Field(min_length=1, description="a non-empty string")
    kind: Literal["circuit"] = Field(description='"circuit" (or "network", the default)')
    description: str = Field("", description="a string (the lesson text; may span lines)")
    seed: int = Field(0, ge=0, description="an integer >= 0 (random local search)")


class CircuitNode(BaseModel):
    """[[circuit.nodes]]: one gate, drawn by hand: its name, its op, and what it reads."""

    model_config = _CONFIG

    name: str = Field(min_length=1, description="a name: a letter, then letters, digits or _")
    op: str = Field(description="an op name: " + ", ".join(OPS))
    inputs: list[Union[str, float]] = Field(
        min_length=1, max_length=2,
        description="a list of 1 or 2 entries: input or node names, and numbers for constants, "
                    "e.g. [\"x\", 2]")

    @field_validator("op")
    @classmethod
    def _known_op(cls, value: str) -> str:
        if value not in OPS:
            import difflib
            close = difflib.get_close_matches(value, list(OPS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise PydanticCustomError("unknown_name", "unknown op {value}; {hint}valid ops: {valid}",
                                      {"value": repr(value), "hint": hint, "valid": ", ".join(OPS)})
        return value


class CircuitSpec(BaseModel):
    """[circuit]: the gates (an expression, or nodes one by one), the inputs, and the settings of
    the numerical gradient, the tug and random local search."""

    model_config = _CONFIG

    expression: str | None = Field(
        None, min_length=1, max_length=MAX_EXPRESSION_CHARS,
        description=f"a string of at most {MAX_EXPRESSION_CHARS} characters, such as \"(x * y) + z\"")
    inputs: dict[str, float] = Field(
        min_length=1, max_length=MAX_INPUTS,
        description=f"a table of 1 to {MAX_INPUTS} input names and their values, e.g. x = -2.0")
    nodes: list[CircuitNode] | None = Field(
        None, min_length=1, max_length=MAX_GATES, description=f"1 to {MAX_GATES} [[circuit.nodes]] tables")
    fixed: list[str] = Field(
        default_factory=list, description="a list of input names that a tug leaves alone (data such as x, y)")
    h: float = Field(1e-5, gt=0, le=0.1, description="a number > 0 and <= 0.1 (the numerical gradient's step)")
    step_size: float = Field(0.01, gt=0, le=100, description="a number > 0 and <= 100 (each tug moves "
                                                              "an input by step_size × its gradient)")
    direction: Literal["increase", "decrease"] = Field(
        "increase", description='"increase" or "decrease" (which way a tug pushes the output)')
    steps: int = Field(10, ge=0, le=MAX_STEPS,
                       description=f"an integer >= 0 and <= {MAX_STEPS} (tug steps `nnsim run` takes)")
    search_tries: int = Field(100, ge=1, le=10_000, description="an integer >= 1 and <= 10000 "
                                                                "(random nudges tried per search step)")

    def gate_specs(self) -> list[GateSpec]:
        """The gates, from the expression or the nodes (the file must have validated)."""
        if self.expression is not None:
            return parse_expression(self.expression).gates
        return [GateSpec(n.name, n.op, tuple(n.inputs)) for n in self.nodes or []]


class CircuitGoals(BaseModel):
    """[goals] of a circuit: what `nnsim run` checks after tugging (all optional)."""

    model_config = _CONFIG

    output_at_least: float | None = Field(None, description="a number (the output to reach or pass)")
    output_at_most: float | None = Field(None, description="a number (the output to reach or stay under)")
    within_steps: int | None = Field(None, ge=0, le=MAX_STEPS,
                                     description=f"an integer >= 0 and <= {MAX_STEPS} (tug steps)")
    gradcheck_below: float | None = Field(
        None, gt=0, le=1, description="a number > 0 and <= 1 (the largest relative error allowed between "
                                      "analytic and central-difference gradients)")

    def is_empty(self) -> bool:
        return all(v is None for v in self.model_dump().values())


class CircuitView(BaseModel):
    """[view] of a circuit: where the app opens (optional)."""

    model_config = _CONFIG

    selected: str | None = Field(None, min_length=1, description="the name of an input or gate")
    stage: Literal["start", "forward", "backward"] = Field(
        "start", description='"start" (nothing computed), "forward" (values) or "backward" '
                             "(values and gradients)")


class CircuitScenario(BaseModel):
    """A whole circuit scenario file; `source_path` is where it was read from (not written)."""

    model_config = _CONFIG

    meta: CircuitMeta = Field(alias="scenario")
    circuit: CircuitSpec
    goals: CircuitGoals = Field(default_factory=CircuitGoals)
    view: CircuitView = Field(default_factory=CircuitView)
    source_path: Path | None = Field(None, exclude=True)

    kind: Literal["circuit"] = Field("circuit", exclude=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CircuitScenario):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    def build(self) -> Circuit:
        """A fresh circuit at the file's input values (not yet computed)."""
        return Circuit.build(self.circuit.inputs, self.circuit.gate_specs())


#: The top-level tables of a circuit file, with their models.
CIRCUIT_SECTIONS: dict[str, type[BaseModel]] = {
    "scenario": CircuitMeta, "circuit": CircuitSpec, "goals": CircuitGoals, "view": CircuitView,
}


def dump_circuit_scenario(scenario: CircuitScenario) -> str:
    """The circuit scenario as TOML text (defaults and None values left out);
    `loads_scenario(dump_circuit_scenario(s)) == s`."""
    import tomli_w

    meta = scenario.meta.model_dump()
    doc: dict[str, Any] = {"scenario": {"name": meta["name"], "kind": "circuit",
                                        "description": meta["description"], "seed": meta["seed"]}}
    spec = scenario.circuit
    circuit = spec.model_dump(exclude_defaults=True, exclude={"inputs", "nodes"})
    doc["circuit"] = {**circuit, "inputs": dict(spec.inputs)}
    if spec.nodes is not None:
        doc["circuit"]["nodes"] = [n.model_dump() for n in spec.nodes]
    for name, table in (("goals", scenario.goals), ("view", scenario.view)):
        values = table.model_dump(exclude_defaults=True)
        if values:
            doc[name] = values
    return tomli_w.dumps(doc, multiline_strings=True)


def is_circuit(scenario: Any) -> bool:
    """True for a circuit scenario (what `load_scenario` returns for `kind = "circuit"`)."""
    return isinstance(scenario, CircuitScenario)


def document_kind(doc: dict[str, Any]) -> Any:
    """The kind a parsed TOML document declares: "network" when [scenario] has no `kind` and
    there is no [circuit] table; otherwise the value as written ("circuit", or something wrong,
    which `load_circuit_doc` reports), or None for a [circuit] table without a kind."""
    meta = doc.get("scenario")
    if isinstance(meta, dict) and "kind" in meta:
        return meta["kind"]
    return None if "circuit" in doc else "network"


def network_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without `kind = "network"` (the network tables have no `kind` key)."""
    meta = doc.get("scenario")
    if isinstance(meta, dict) and meta.get("kind") == "network":
        return {**doc, "scenario": {k: v for k, v in meta.items() if k != "kind"}}
    return doc


def scenario_kind(path: str | Path) -> str:
    """"circuit" or "network" for the file at `path`, read cheaply; never raises (a file that
    cannot be read or parsed is "network": its loader reports the problem)."""
    import tomllib

    from ..files import MAX_SCENARIO_BYTES, read_user_file
    try:  # a FIFO, a device or a huge file is refused unread (UserFileError is a ValueError)
        raw = read_user_file(path, MAX_SCENARIO_BYTES, what="scenario file")
        doc = tomllib.loads(raw.decode("utf-8").removeprefix("\ufeff"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError, RecursionError):
        return "network"
    return "network" if document_kind(doc) == "network" else "circuit"
