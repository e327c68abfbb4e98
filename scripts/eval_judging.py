"""How one answer is judged against its row, on the text a user is shown."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.schema import Answer, Citation, Passage
    from scripts.eval_questions import Question

#: Phrases (accent-folded) by which a shown answer says the value is not confirmed.
HONEST_UNKNOWN_PHRASES = (
    "chua neu",
    "chua tim thay",
    "chua tim duoc",
    "chua co thong tin",
    "khong co thong tin",
    "chua the xac nhan",
    "chua xac nhan",
    "chua duoc xac nhan",
    "khong tim thay",
    "khong quy dinh",
)
#: Phrases (accent-folded) of a status notice next to a citation.
STATUS_PHRASES = ("het hieu luc", "sua doi", "thay the", "khong con ap dung")


@dataclass(slots=True)
class Judged:
    """One asked question with what was shown and how it scored."""

    item: Question
    kind: str
    answer: Answer
    shown: str
    body: list[str]
    rank: int | None = None
    flags: dict[str, bool | None] = field(default_factory=dict)


def normalize_for_match(text: str) -> str:
    """NFC, casefold and collapse whitespace, so keys match regardless of form."""
    from index.textnorm import compare_key

    return compare_key(text)


def _folded(text: str) -> str:
    from index.textnorm import fold_diacritics

    return fold_diacritics(normalize_for_match(text))


def contains_key(text: str, keys: Iterable[str]) -> bool:
    """Tells whether any answer key is a substring of the text after normalisation."""
    haystack = normalize_for_match(text)
    return any(normalize_for_match(key) in haystack for key in keys if key.strip())


def _doc_key(value: str) -> str:
    return _folded(value).replace(" ", "")


def doc_matches(expected: str, *, number: str | None, doc_id: str) -> bool:
    """Tells whether a document is the expected one, by its number or its file name."""
    want = _doc_key(expected)
    stem = Path(doc_id).name.rsplit(".", 1)[0] if doc_id else ""
    return bool(want) and want in {_doc_key(number or ""), _doc_key(stem), _doc_key(doc_id)}


def article_matches(expected: str, article: str | None) -> bool:
    """Tells whether a cited article ("Điều 5 khoản 1") is the expected one ("Điều 5")."""
    if not article:
        return False
    want, got = _folded(expected), _folded(article)
    return got == want or got.startswith(want + " ") or got.startswith(want + ",")


def first_hit_rank(
    passages: Sequence[Passage], keys: Iterable[str], *, doc: str | None = None
) -> int | None:
    """1-based rank of the first passage holding an answer key (from `doc` when given)."""
    keys = list(keys)
    for rank, passage in enumerate(passages, start=1):
        if doc is not None and not doc_matches(
            doc, number=passage.doc.number, doc_id=passage.doc.doc_id
        ):
            continue
        if contains_key(passage.chunk.text, keys):
            return rank
    return None


def derive_kind(item: Question) -> str:
    """The row's kind: its own, else from its expectation, else from how it is written."""
    if item.kind:
        return item.kind
    if item.expect_abstain:
        return "abstain"
    if item.expect_unknown:
        return "unknown"
    if item.expect_intent:
        return "intent"
    from index.question import looks_accentless_vietnamese
    from index.textnorm import has_diacritics

    if has_diacritics(item.question):
        return "accented"
    if looks_accentless_vietnamese(item.question):
        return "unaccented"
    return "english"


def _notice_shown(shown: str, citation: Citation) -> bool:
    names = [n for n in (citation.number, citation.title) if n]
    for line in shown.splitlines():
        folded = _folded(line)
        if any(p in folded for p in STATUS_PHRASES) and (
            any(_folded(n) in folded for n in names) or "van ban nay" in folded
        ):
            return True
    return False


def judge(item: Question, answer: Answer, *, k: int, kind: str | None = None) -> Judged:
    """Scores one answer against its row, on the text a user is shown."""
    from bot.answer_views import body_paragraphs, render_answer
    from index.schema import NEEDS_NOTICE

    shown = render_answer(answer)
    body = body_paragraphs(answer) if answer.outcome in ("answered", "unknown") else []
    judged = Judged(item, kind or derive_kind(item), answer, shown, body)
    flags = judged.flags
    shown_citations = answer.citations if answer.outcome in ("answered", "unknown") else []
    first = shown_citations[0] if shown_citations else None
    if item.answerable:
        judged.rank = first_hit_rank(answer.passages[:k], item.answer_keys, doc=item.doc)
        body_text = "\n\n".join(body)
        flags["answer_hit"] = answer.confident and contains_key(body_text, item.answer_keys)
        flags["answer_first"] = (
            answer.confident and bool(body) and contains_key(body[0], item.answer_keys)
        )
        flags["false_abstain"] = not answer.confident
    if item.doc and not item.expect_abstain:
        flags["doc_hit"] = first is not None and doc_matches(
            item.doc, number=first.number, doc_id=first.doc_id
        )
        if item.article:
            flags["article_hit"] = bool(flags["doc_hit"]) and article_matches(
                item.article, first.article if first else None
            )
    if item.expect_abstain:
        flags["abstain"] = not answer.confident
    if item.expect_unknown:
        folded = _folded(shown)
        honest = any(p in folded for p in HONEST_UNKNOWN_PHRASES)
        flags["unknown_honesty"] = honest and not contains_key(shown, item.forbidden)
    if item.expect_intent:
        flags["intent"] = answer.outcome == "routed" and answer.intent == item.expect_intent
    stale = [c for c in shown_citations if c.status in NEEDS_NOTICE]
    if stale:
        flags["superseded_flagged"] = all(_notice_shown(shown, c) for c in stale)
    return judged
