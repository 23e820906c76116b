"""Shared fixtures (seeded generators) and the Hypothesis profiles.

Profiles:
- "ci": derandomized (the examples are a fixed function of each test, so a run on a fresh clone
  is reproducible), no example database (a fresh clone has none, so a local database must not
  hide a failure CI would see), no deadline, and the reproduction blob printed on failure.
- "dev" (default): randomized, with the local example database, so local runs keep exploring
  and replay what failed before.

"ci" is selected when `NNSIM_HYPOTHESIS_PROFILE=ci` or the `CI` variable is set (`.ci/run` sets
the former); `NNSIM_HYPOTHESIS_PROFILE=dev` forces "dev". Tests that set `max_examples` keep it.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

# Both profiles start from Hypothesis's own defaults, not from whatever profile Hypothesis picked
# for this environment (it loads a built-in "ci" profile when it detects CI), so each profile
# means the same thing everywhere. No deadline in either: timings on a shared 2-core machine,
# with Numba loading kernels on first use, are not a correctness signal.
_BASE = settings.get_profile("default")
settings.register_profile("ci", _BASE, derandomize=True, deadline=None, database=None,
                          print_blob=True)
settings.register_profile("dev", _BASE, derandomize=False, deadline=None, print_blob=True)


def _profile() -> str:
    chosen = os.environ.get("NNSIM_HYPOTHESIS_PROFILE", "").strip()
    if chosen:
        return chosen
    return "ci" if os.environ.get("CI") else "dev"


settings.load_profile(_profile())


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
