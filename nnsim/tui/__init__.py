"""The Textual app: `run_app(path)` starts it; `NnsimApp` is the app class.

Textual is imported on first use, so the headless helpers here (session, controller, edits,
timeline) can be imported without it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NnsimApp", "run_app"]


def run_app(path: str | None = None) -> int:
    """Run the app (`nnsim` → gallery, `nnsim FILE` → that file's workspace); the exit status."""
    from .app import run_app as _run
    return _run(path)


def __getattr__(name: str) -> Any:
    if name == "NnsimApp":
        from .app import NnsimApp
        return NnsimApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
