"""The rows of an evaluation set: questions, multi-turn dialogues and their variants.

Row kinds (one JSON object per line; unknown fields such as `note` or `file` are ignored)
are listed in `scripts.evaluate`.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Question:
    """One evaluation row (see the module docstring for the kinds)."""

    id: str
    question: str
    answer_keys: tuple[str, ...] = ()
    expect_abstain: bool = False
    expect_unknown: bool = False
    forbidden: tuple[str, ...] = ()
    expect_intent: str | None = None
    doc: str | None = None
    article: str | None = None
    kind: str | None = None

    @property
    def answerable(self) -> bool:
        """The documents hold the answer."""
        return bool(self.answer_keys) and not (
            self.expect_abstain or self.expect_unknown or self.expect_intent
        )


def _question_from_row(row: dict[str, Any], number: int, path: Path | str) -> Question:
    keys = tuple(str(k) for k in row.get("answer_keys") or ())
    abstain = bool(row.get("expect_abstain", False))
    unknown = bool(row.get("expect_unknown", False))
    intent = row.get("expect_intent")
    if not keys and not abstain and not unknown and not intent:
        raise ValueError(
            f"{path}:{number}: needs answer_keys, expect_abstain, expect_unknown or expect_intent"
        )
    return Question(
        id=str(row.get("id", number)),
        question=str(row["question"]),
        answer_keys=keys,
        expect_abstain=abstain,
        expect_unknown=unknown,
        forbidden=tuple(str(f) for f in row.get("forbidden") or ()),
        expect_intent=str(intent) if intent else None,
        doc=str(row["doc"]) if row.get("doc") else None,
        article=str(row["article"]) if row.get("article") else None,
        kind=str(row["kind"]) if row.get("kind") else None,
    )


def load_questions(path: Path | str) -> list[Question]:
    """Reads a JSONL question file, skipping blank lines and ignoring unknown fields."""
    questions: list[Question] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            questions.append(_question_from_row(json.loads(line), number, path))
    return questions


@dataclass(frozen=True, slots=True)
class Dialogue:
    """A multi-turn row: the earlier turns, then the judged last turn."""

    id: str
    turns: tuple[str, ...]
    last: Question


def load_followups(path: Path | str) -> list[Dialogue]:
    """Reads a multi-turn file: one dialogue per line.

    A line is either `{"id", "turns": ["q1", "q2", ...], "answer_keys": [...], ...}` (the
    keys judge the last turn) or a JSON list of turns, each a string or an object with
    `question`, the last one carrying the keys.
    """
    dialogues: list[Dialogue] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if isinstance(row, list):
            turns = [t if isinstance(t, dict) else {"question": str(t)} for t in row]
            last_row = dict(turns[-1])
            last_row.setdefault("id", str(number))
        else:
            turns = [t if isinstance(t, dict) else {"question": str(t)} for t in row["turns"]]
            last_row = {**row, "question": turns[-1]["question"]}
        if len(turns) < 2:
            raise ValueError(f"{path}:{number}: a dialogue needs at least two turns")
        last = _question_from_row(last_row, number, path)
        dialogues.append(
            Dialogue(
                id=last.id,
                turns=tuple(str(t["question"]) for t in turns[:-1]),
                last=replace(last, kind=last.kind or "followup"),
            )
        )
    return dialogues


def make_variant(questions: Sequence[Question], variant: str | None) -> list[Question]:
    """Rewrites every question: "accentless" folds diacritics, "nfd" decomposes accents."""
    if not variant:
        return list(questions)
    from index.textnorm import fold_diacritics

    rewrite: Callable[[str], str]
    if variant == "accentless":
        rewrite = fold_diacritics
    elif variant == "nfd":

        def rewrite(text: str) -> str:
            return unicodedata.normalize("NFD", text)

    else:
        raise ValueError(f"unknown variant {variant!r}")
    return [replace(q, question=rewrite(q.question)) for q in questions]
