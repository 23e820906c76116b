"""The lesson's text, taken apart for the app: "What to do", "What to watch" and what to try next,
and the summary shown when play reaches the lesson's last epoch. Imports no textual.

Lesson descriptions are paragraphs; by convention one starts with "What to do:" and one with
"What to watch:" (every built-in lesson has both). A file without them still works: the first
paragraph stands in for "What to do", and the summary suggests generic next steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nnsim.engine import EpochRecord
from nnsim.scenarios.goals import GoalResult

__all__ = ["LessonEnd", "lesson_end", "next_steps", "paragraphs", "reflow", "sections", "what_to_do",
           "what_to_watch"]

_HEADS = ("what to do", "what to watch")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_NEXT_WORDS = re.compile(r"^(then|try|finally|next|now|afterwards|compare|set|change)\b|\btry\b",
                         re.IGNORECASE)
GENERIC_NEXT = ("Try another learning rate with [ and ], change a layer in the model panel, "
                "or press r to train again from the same start (R: a new seed).")


def reflow(text: str) -> str:
    """Hard-wrapped paragraphs joined into one line each (blank lines and lists kept)."""
    out: list[str] = []
    for para in text.strip().split("\n\n"):
        lines = [line.strip() for line in para.splitlines()]
        joined: list[str] = []
        for line in lines:
            if joined and not line.startswith(("-", "*", "•")) and not line[:2].rstrip(".").isdigit():
                joined[-1] += " " + line
            else:
                joined.append(line)
        out.append("\n".join(joined))
    return "\n\n".join(out)


def paragraphs(description: str) -> list[str]:
    """The description's paragraphs, each reflowed onto one line (lists keep their lines)."""
    return [p for p in reflow(description).split("\n\n") if p.strip()]


def sections(description: str) -> dict[str, str]:
    """{"what to do": …, "what to watch": …} without their headings (empty when absent)."""
    out = {head: "" for head in _HEADS}
    for para in paragraphs(description):
        low = para.lower()
        for head in _HEADS:
            if low.startswith(head + ":") and not out[head]:
                out[head] = para[len(head) + 1:].strip()
    return out


def what_to_do(description: str) -> str:
    """The "What to do" text, or the first paragraph when the lesson has none."""
    todo = sections(description)["what to do"]
    if todo:
        return todo
    paras = paragraphs(description)
    return paras[0] if paras else ""


def next_steps(description: str) -> str:
    """What to try once the lesson's epochs are done: the sentences of "What to do" that suggest a
    change ("Then try …", "Finally set …"), else generic advice."""
    sec = sections(description)
    todo = " ".join(line.lstrip("-*• ").strip() for line in sec["what to do"].splitlines())
    sentences = [s.strip() for s in _SENTENCE.split(todo) if s.strip()]
    picked = [s for i, s in enumerate(sentences) if i > 0 and _NEXT_WORDS.search(s)
              and not (len(s) < 40 and "(space)" in s)]
    return " ".join(picked) if picked else GENERIC_NEXT


def what_to_watch(description: str, limit: int = 2) -> str:
    """The first `limit` sentences of "What to watch" on one line ("" when the lesson has none)."""
    watch = " ".join(sections(description)["what to watch"].split())
    sentences = [s.strip() for s in _SENTENCE.split(watch) if s.strip()]
    return " ".join(sentences[:limit])


@dataclass(frozen=True)
class LessonEnd:
    """What the end-of-lesson summary shows."""

    epoch: int                      # epochs trained
    end_epoch: int                  # the lesson's `training.epochs`
    goals: list[GoalResult]
    record: EpochRecord | None      # the last epoch's figures
    watch: str                      # what the student should have seen
    next: str                       # what to try next

    @property
    def met(self) -> int:
        return sum(g.met for g in self.goals)

    @property
    def all_met(self) -> bool:
        return all(g.met for g in self.goals)


def lesson_end(epoch: int, end_epoch: int, goals: list[GoalResult], record: EpochRecord | None,
               description: str) -> LessonEnd:
    """The summary of a lesson that reached its last epoch."""
    return LessonEnd(epoch, end_epoch, list(goals), record, what_to_watch(description),
                     next_steps(description))
