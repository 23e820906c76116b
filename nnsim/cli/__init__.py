"""The `nnsim` command line (may use rich; the engine never does).

`nnsim.cli.main.main(argv)` is the entry point; `nnsim.scenarios.library.builtin_lessons()` lists the
built-in lessons for the app too. See docs/cli.md.
"""
