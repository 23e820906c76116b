"""Every key of the app in one table: the help screen and docs/app.md are written from it."""

from __future__ import annotations

from typing import NamedTuple


class Key(NamedTuple):
    """One key: what to press, where it works, what it does."""

    keys: str
    where: str
    what: str


KEYS: tuple[Key, ...] = (
    Key("space", "workspace", "play / pause continuous training"),
    Key("n", "workspace", "train one mini-batch (traced: the card and stepper show its numbers)"),
    Key("e", "workspace", "train to the end of the current epoch"),
    Key("f", "workspace", "stepper: next phase of the step (forward, loss, backward, update)"),
    Key("b", "workspace", "stepper: previous phase of the step"),
    Key("r", "workspace", "reset the weights (same seed) and start over"),
    Key("R", "workspace", "reset with a new random seed"),
    Key("[  ]", "workspace", "learning rate down / up one notch"),
    Key("-  +", "workspace", "training speed down / up (mini-batches per second)"),
    Key("←  →", "workspace", "history: back / forward through the recent steps (weights, "
        "gradients, loss, and what changed)"),
    Key(",  .", "workspace", "previous / next sample shown in the network view and card"),
    Key("w  W", "workspace", "card: next / previous incoming weight (▸; the gradient check wiggles it)"),
    Key("s", "workspace", "save the scenario (TOML, with your edits) and a checkpoint"),
    Key("g", "workspace", "gradient check: L(w ± h) and the numerical vs the analytic gradient, per tensor"),
    Key("1 2 3 4", "workspace", "show the network / stepper / boundary / plots"),
    Key("l", "workspace", "hide / show the lesson panel"),
    Key("m", "workspace", "hide / show the model panel"),
    Key("d", "workspace", "boundary: discretised output on / off"),
    Key("tab", "workspace", "move the focus (network view, model panel fields)"),
    Key("↑ ↓  enter", "network view", "move the cursor over a layer's neurons; enter shows the card"),
    Key("shift+← shift+→", "network view", "move the cursor to the previous / next layer"),
    Key("PgUp PgDn  Home End", "network view", "conv networks: the cursor one map row up / down, "
        "to the previous / next channel"),
    Key("k", "network view", "conv networks: the filters' weights (kernels) ↔ the feature maps"),
    Key("PgUp PgDn  Home End", "network view", "recurrent networks: the step cursor one time step "
        "back / on, to the first / last step (the card explains that step)"),
    Key("escape", "workspace", "leave a field / go back to the gallery"),
    Key("a  x", "model panel", "add a layer after / remove the highlighted layer"),
    Key("ctrl+↑ ctrl+↓", "model panel", "move the highlighted layer up / down"),
    Key("f", "circuit", "one gate on: through the forward pass, then the backward pass"),
    Key("b", "circuit", "one gate back"),
    Key("n", "circuit", "tug: every input moves by step × its gradient, then forward and backward again"),
    Key("g", "circuit", "numerical (central and forward differences) vs analytic gradient of each input"),
    Key("c", "circuit", "race random local search, the numerical and the analytic gradient (evaluations "
        "counted)"),
    Key("r", "circuit", "reset the inputs to the file's values"),
    Key("[  ]", "circuit", "tug step size down / up"),
    Key("← → ↑ ↓", "circuit", "select the previous / next node (its card shows below)"),
    Key("l", "circuit", "hide / show the lesson text"),
    Key("escape", "circuit", "back to the gallery"),
    Key("enter", "gallery", "open the highlighted scenario"),
    Key("o", "anywhere", "open a scenario file"),
    Key("f12", "anywhere", "save an SVG screenshot in the current folder"),
    Key("?", "anywhere", "this help"),
    Key("q", "anywhere", "quit"),
)


def markdown_table() -> str:
    """The keys as a Markdown table (for docs/app.md)."""
    rows = ["| keys | where | what |", "|---|---|---|"]
    rows += [f"| `{k.keys}` | {k.where} | {k.what} |" for k in KEYS]
    return "\n".join(rows)
