"""Scenario -> (dataset, trainer): the one place the app builds an engine session.

Everything goes through `build_session` here (which calls the scenario package's builder), so
the rest of the app never builds trainers itself. Also: the built-in demo, and where scenario
files are found. Imports no textual.
"""

from __future__ import annotations

import re
from pathlib import Path

from nnsim.data import Dataset
from nnsim.scenarios import Scenario, load_scenario, loads_scenario
from nnsim.scenarios.build import Session
from nnsim.scenarios.build import build_session as _build
from nnsim.scenarios.library import builtin_lessons_dir

__all__ = ["DEMO_TOML", "Session", "build_session", "builtin_lesson_dir", "builtin_lessons",
           "demo_scenario", "load_session", "local_scenarios", "slug"]

#: The playground's two-circles experiment: tanh [4, 2], mse on ±1 labels, lr 0.03, batch 10.
DEMO_TOML = '''
[scenario]
name = "Two circles (demo)"
description = """
A disc of one class inside a ring of the other. The network has two hidden tanh layers
(4 and 2 neurons) and one tanh output trained with mean squared error on labels -1 and +1.

Press space to train, n for one mini-batch, f to walk one step phase by phase.
Watch the decision boundary bend into a circle."""
seed = 0

[data]
dataset = "circle"
noise = 0.0
test_fraction = 0.5

[[layers]]
units = 4
activation = "tanh"

[[layers]]
units = 2
activation = "tanh"

[[layers]]
units = 1
activation = "tanh"

[training]
loss = "mse"
optimizer = "sgd"
learning_rate = 0.03
batch_size = 10
epochs = 200

[goals]
test_loss_below = 0.1
'''


def demo_scenario() -> Scenario:
    """The built-in two-circles demo."""
    return loads_scenario(DEMO_TOML, source="<demo>")


def load_session(path: str | Path) -> Session:
    """Load and build the scenario at `path`; raises ScenarioError listing every problem."""
    return build_session(load_scenario(path))


def build_session(scenario: Scenario, dataset: Dataset | None = None) -> Session:
    """Build the dataset (unless given) and the trainer a scenario describes (ScenarioError)."""
    return _build(scenario, dataset=dataset)


# -- finding scenario files -----------------------------------------------------------------
def builtin_lesson_dir() -> Path | None:
    """Where the built-in lessons live (the same lookup as `nnsim list`), None if there are none."""
    folder = builtin_lessons_dir()
    return folder if folder.is_dir() and any(folder.glob("*.toml")) else None


def builtin_lessons(folder: Path | None = None) -> list[Path]:
    """The built-in lesson files (or those in `folder`), sorted by name."""
    folder = folder if folder is not None else builtin_lesson_dir()
    return sorted(folder.glob("*.toml")) if folder else []


def local_scenarios(folder: Path) -> list[Path]:
    """Scenario files (*.toml) in `folder`, sorted, built-ins excluded."""
    builtin = builtin_lesson_dir()
    if builtin is not None and folder.resolve() == builtin.resolve():
        return []
    return sorted(p for p in folder.glob("*.toml") if p.is_file())


def slug(name: str) -> str:
    """A file-name-safe version of a scenario name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "scenario"
