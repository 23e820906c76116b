"""The `nnsim run` options for circuit scenarios, and the check that picks the circuit commands.

Light on purpose (argparse only at import): `build_parser` adds these options for every command
line, circuit or not.
"""

from __future__ import annotations

import argparse
import math
from typing import Callable

from .common import UsageError

#: run options that apply only to network scenarios, and those only to circuits
NETWORK_ONLY = {"epochs": "--epochs", "save": "--save", "load": "--load", "backend": "--backend"}
CIRCUIT_ONLY = {"steps": "--steps", "step_size": "--step-size", "h": "--h", "compare": "--compare"}


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (math.isfinite(value) and 0 < value <= 100):
        raise argparse.ArgumentTypeError(f"must be a number > 0 and <= 100, got {text}")
    return value


def add_run_options(p: argparse.ArgumentParser, integer: Callable[[int, int], Callable[[str], int]]) -> None:
    """--steps, --step-size, --h and --compare on the `run` parser."""
    p.add_argument("--steps", type=integer(0, 10_000), metavar="N",
                   help="circuits: tug steps to take (default: the file's circuit.steps)")
    p.add_argument("--step-size", type=_positive, metavar="S", dest="step_size",
                   help="circuits: each tug moves an input by S × its gradient (default: circuit.step_size)")
    p.add_argument("--h", type=_positive, metavar="H",
                   help="circuits: the numerical gradient's step (default: circuit.h)")
    p.add_argument("--compare", action="store_true",
                   help="circuits: also race random local search, the numerical and the analytic "
                        "gradient, counting evaluations")


def is_circuit_file(path: str) -> bool:
    """True when the file declares kind = "circuit" (read cheaply; never raises)."""
    from nnsim.scenarios.circuit import scenario_kind
    return scenario_kind(path) == "circuit"


def reject_options(args: argparse.Namespace, circuit: bool) -> None:
    """A circuit-only option on a network file, or the reverse, is a usage error."""
    wrong = NETWORK_ONLY if circuit else CIRCUIT_ONLY
    for key, flag in wrong.items():
        if getattr(args, key, None) not in (None, False):
            kind = "a circuit scenario" if circuit else "a network scenario"
            raise UsageError(f"{flag} does not apply to {kind} ({args.file})")
