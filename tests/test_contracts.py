"""Import contracts: dependencies point down, and the headless core never imports a UI library.

Each rule is checked two ways:

- statically, over the source: every `import` and `from … import` in each module of the subject
  (relative imports resolved, imports inside functions and `if` blocks included, and
  `importlib.import_module("…")` / `__import__("…")` with a literal name), so a lazy import on a
  rarely taken path is caught too;
- dynamically: a fresh interpreter imports each module of the subject (and, for a few subjects,
  runs a small exercise) and `sys.modules` is inspected, which also catches what the source
  does not show (a dependency of a dependency, a computed import). That interpreter must print
  nothing.

To add a rule, add a row to LAYERS or HEADLESS; a subject is a package (all its modules) or a
single module.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

import nnsim

PKG_DIR = Path(nnsim.__file__).resolve().parent      # .../nnsim
SRC_ROOT = PKG_DIR.parent                            # the folder that holds the nnsim package
LESSON = SRC_ROOT / "scenarios" / "06-two-circles.toml"


@dataclass(frozen=True)
class Rule:
    """`subject` (a package or module) may not import any module under `forbid`, except those
    under `allow`. `optional`: the subject may not exist yet (the rule is skipped until it does)."""

    subject: str
    forbid: tuple[str, ...]
    why: str
    allow: tuple[str, ...] = ()
    optional: bool = False

    @property
    def id(self) -> str:
        return f"{self.subject}-not-{'+'.join(self.forbid)}"

    def broken_by(self, module: str) -> bool:
        return _under(module, self.forbid) and not _under(module, self.allow)

    def describe(self) -> str:
        allowed = f" (except {', '.join(self.allow)})" if self.allow else ""
        return f"{self.subject} may not import {', '.join(self.forbid)}{allowed}: {self.why}"


UI = ("textual", "rich")

LAYERS = [
    Rule("nnsim.kernels", ("nnsim",), allow=("nnsim.kernels",),
         why="kernels are leaves (arrays and scalars in, arrays out); they import only modules "
             "inside nnsim.kernels, such as the catalogue of codes"),
    Rule("nnsim.engine", ("nnsim.scenarios", "nnsim.tui", "nnsim.cli"),
         why="the engine is below the scenario files and both front ends"),
    Rule("nnsim.data", ("nnsim.engine",), why="data sets are plain arrays, independent of the engine"),
    Rule("nnsim.scenarios", ("nnsim.tui", "nnsim.cli"), why="scenario files are below both front ends"),
    Rule("nnsim.tui", ("nnsim.cli",), why="the app never imports the command line"),
]

_HEADLESS_WHY = "headless code runs without a terminal UI (tests, CLI, notebooks)"
HEADLESS = [Rule(s, UI, why=_HEADLESS_WHY)
            for s in ("nnsim.engine", "nnsim.kernels", "nnsim.data", "nnsim.scenarios")]
HEADLESS += [Rule("nnsim.circuits", UI, why=_HEADLESS_WHY, optional=True)]
HEADLESS += [Rule("nnsim.numfmt", UI, why="the one number format serves the app and the CLI alike",
                  optional=True)]
HEADLESS += [Rule(m, UI, why="reading user files, writing outputs and cleaning user text serve "
                              "the headless core, the CLI and the app alike")
             for m in ("nnsim.files", "nnsim.atomic", "nnsim.textsafe")]
# The app's headless helpers (whichever exist): the app's logic, testable without Textual.
HEADLESS += [Rule(f"nnsim.tui.{m}", UI, why="the app's logic stays testable without Textual",
                  optional=True)
             for m in ("controller", "session", "edits", "timeline", "keys", "pacing", "warmup",
                       "lesson")]

RULES = LAYERS + HEADLESS

# Runtime paths that import lazily, run after the imports in the dynamic check.
EXERCISE = {
    "nnsim.data": "import nnsim.data as d; d.load_dataset('circle'); d.load_dataset('iris')",
    "nnsim.scenarios": f"import nnsim.scenarios as s; s.load_scenario({str(LESSON)!r})",
}


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


# -- the modules of a subject, from the source tree ------------------------------------------------
def _path_of(module: str) -> Path | None:
    """The source file of an nnsim module or package (its __init__.py), or None."""
    parts = module.split(".")
    if parts[0] != "nnsim":
        return None
    base = PKG_DIR.joinpath(*parts[1:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    py = base.with_suffix(".py")
    return py if py.is_file() else None


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC_ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules_of(subject: str) -> list[tuple[str, Path]]:
    """(module name, file) for the subject: one module, or every module of a package."""
    path = _path_of(subject)
    if path is None:
        return []
    if path.name != "__init__.py":
        return [(subject, path)]
    files = sorted(p for p in path.parent.rglob("*.py") if "__pycache__" not in p.parts)
    return [(_module_name(p), p) for p in files]


# -- static check -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportSite:
    file: Path
    line: int
    code: str
    target: str     # the module this statement imports

    def __str__(self) -> str:
        return f"{self.file.relative_to(SRC_ROOT)}:{self.line}: `{self.code}` imports {self.target}"


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute module of `from <level dots><name> import …` written in `module`."""
    parts = module.split(".")
    package = parts if is_package else parts[:-1]
    if level - 1 > len(package) - 1:
        raise ValueError(f"relative import beyond the top-level package in {module}")
    base = package[:len(package) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _literal_import_call(node: ast.Call) -> str | None:
    """The name in `importlib.import_module("x")`, `import_module("x")` or `__import__("x")`."""
    f = node.func
    called = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    if called not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and not arg.value.startswith("."):
        return arg.value
    return None


@lru_cache(maxsize=None)
def import_sites(module: str, path: Path) -> tuple[ImportSite, ...]:
    """Every import in the file, wherever it sits (module level, functions, branches)."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source, filename=str(path))
    is_package = path.name == "__init__.py"
    sites = []

    def add(node: ast.AST, target: str) -> None:
        code = " ".join(lines[node.lineno - 1:node.end_lineno])
        sites.append(ImportSite(path, node.lineno, " ".join(code.split()), target))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = (_resolve_relative(module, is_package, node.level, node.module)
                    if node.level else node.module or "")
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                # `from pkg import name`: name is a submodule, or an attribute of pkg
                add(node, sub if alias.name != "*" and _path_of(sub) is not None else base)
        elif isinstance(node, ast.Call):
            target = _literal_import_call(node)
            if target is not None:
                add(node, target)
    return tuple(sorted(sites, key=lambda s: s.line))


def _subject_or_skip(rule: Rule) -> list[tuple[str, Path]]:
    mods = modules_of(rule.subject)
    if not mods:
        if rule.optional:
            pytest.skip(f"{rule.subject} does not exist (yet)")
        pytest.fail(f"{rule.subject} not found under {PKG_DIR}")
    return mods


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_static_imports(rule: Rule) -> None:
    bad = [site for name, path in _subject_or_skip(rule)
           for site in import_sites(name, path) if rule.broken_by(site.target)]
    if bad:
        pytest.fail(f"{rule.describe()}\n  " + "\n  ".join(map(str, bad)), pytrace=False)


# -- dynamic check ----------------------------------------------------------------------------
PROBE = r"""
import importlib, json, sys
steps, out = json.loads(sys.argv[1]), sys.argv[2]
loaded = []
for subject, kind, what in steps:
    before = set(sys.modules)
    if kind == "import":
        importlib.import_module(what)
        step = f"importing {what}"
    else:
        exec(what, {})
        step = f"running `{what}`"
    loaded.append([subject, step, sorted(set(sys.modules) - before)])
with open(out, "w", encoding="utf-8") as fh:
    json.dump(loaded, fh)
"""

# A layering rule gets an interpreter of its own (another subject imported first could hide what
# this one imports). The UI rules share one: importing only adds modules, so no textual/rich after
# every headless module is the same as none after each; the first module that brings one in is
# named (a module imported earlier as another's dependency is blamed on that one).
PROBE_GROUPS = {rule.subject: (rule.subject,) for rule in LAYERS}
UI_GROUP = tuple(rule.subject for rule in HEADLESS)


@lru_cache(maxsize=None)
def probe(subjects: tuple[str, ...], tmp: str) -> tuple[list[tuple[str, str, list[str]]], str]:
    """In a fresh interpreter, import each module of each subject in turn (then run the subjects'
    exercises); returns (subject, step, modules that step newly loaded) for every step, and
    whatever the interpreter printed."""
    steps = [(s, "import", name) for s in subjects for name, _ in modules_of(s)]
    steps += [(s, "run", EXERCISE[s]) for s in subjects if s in EXERCISE]
    out = Path(tmp) / f"{'+'.join(subjects)[:100]}-{len(subjects)}.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(SRC_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    run = subprocess.run([sys.executable, "-c", PROBE, json.dumps(steps), str(out)],
                         capture_output=True, text=True, timeout=300, env=env, cwd=tmp)
    assert run.returncode == 0, f"importing {', '.join(subjects)} failed:\n{run.stderr}"
    return [tuple(x) for x in json.loads(out.read_text(encoding="utf-8"))], run.stdout


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("probe"))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_imports_in_a_fresh_interpreter(rule: Rule, probe_dir: str) -> None:
    _subject_or_skip(rule)
    group = PROBE_GROUPS.get(rule.subject, ()) if rule.forbid != UI else UI_GROUP
    loaded, printed = probe(group, probe_dir)
    parts = rule.subject.split(".")
    ancestors = {".".join(parts[:i]) for i in range(1, len(parts))}  # Python imports these first
    bad = {step: [m for m in mods if rule.broken_by(m) and m not in ancestors]
           for subject, step, mods in loaded if subject == rule.subject}
    bad = {step: mods for step, mods in bad.items() if mods}
    if bad:
        pytest.fail(f"{rule.describe()}\n  " + "\n  ".join(
            f"{step} loaded {', '.join(mods[:8])}{' …' if len(mods) > 8 else ''}"
            for step, mods in bad.items()), pytrace=False)
    assert printed == "", f"importing {', '.join(group)} printed to stdout:\n{printed}"


# -- the checker itself -----------------------------------------------------------------------
def test_static_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Relative, nested and function-level imports, and literal import_module calls, resolve."""
    src = tmp_path / "m.py"
    src.write_text(
        "import os.path\n"
        "from . import sibling\n"
        "from ..engine import activations as acts\n"
        "from .. import tui\n"
        "def f():\n"
        "    import rich.text\n"
        "    if True:\n"
        "        from textual.app import App\n"
        "    importlib.import_module('nnsim.cli.main')\n",
        encoding="utf-8")
    targets = [s.target for s in import_sites("nnsim.kernels.m", src)]
    assert targets == ["os.path", "nnsim.kernels", "nnsim.engine.activations", "nnsim.tui",
                       "rich.text", "textual.app", "nnsim.cli.main"]
    kernels = LAYERS[0]
    assert [t for t in targets if kernels.broken_by(t)] == [
        "nnsim.engine.activations", "nnsim.tui", "nnsim.cli.main"]
    assert [t for t in targets if HEADLESS[0].broken_by(t)] == ["rich.text", "textual.app"]
