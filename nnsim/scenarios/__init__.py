"""Scenario files (TOML): load with every problem reported at once, and write back.

```python
from nnsim.scenarios import load_scenario, save_scenario, ScenarioError

try:
    s = load_scenario("lesson.toml")
except ScenarioError as err:
    for problem in err.problems:   # file, path, value, message, line
        ...
s.meta.name, s.data.dataset, s.layers[0].units, s.training.learning_rate
save_scenario(s, "copy.toml")
```
"""

from .checks import check_scenario
from .loader import load_scenario, loads_scenario
from .problems import MISSING, Problem, ScenarioError
from .schema import (
    DataSpec,
    DenseLayer,
    DropoutLayer,
    Goals,
    LayerSpec,
    Meta,
    Scenario,
    Schedule,
    TrainingSpec,
    View,
)
from .writer import dump_scenario, save_scenario

__all__ = [
    "MISSING", "DataSpec", "DenseLayer", "DropoutLayer", "Goals", "LayerSpec", "Meta", "Problem",
    "Scenario", "ScenarioError", "Schedule", "TrainingSpec", "View", "check_scenario",
    "dump_scenario", "load_scenario", "loads_scenario", "save_scenario",
]
