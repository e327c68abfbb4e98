"""Offline checks of the held-out evaluation files, so a typo never turns into a fake score.

The holdout files are written from the documents alone, blind to the implementation. These
tests keep them honest: every answer key is text that really is in the document that answers
it (and in the cited article), every forbidden figure is a real figure of some other item,
every out-of-scope row carries no key, and each file holds enough rows of each kind for the
issue targets to be measured on it. Matching uses the evaluator's own rule
(`scripts.eval_judging.normalize_for_match`, `doc_matches`), so a key that passes here can match
at evaluation time.

The files are for reporting, never for tuning:

    python -m scripts.evaluate --questions tests/data/holdout_questions.jsonl \
        --followups tests/data/followups_holdout.jsonl
    make eval-legal   # once, to build data/eval-legal; then:
    KNOWLEDGE_DIR=data/eval-legal/knowledge INDEX_DIR=data/eval-legal/index \
        python -m scripts.evaluate --questions tests/data/legal_holdout.jsonl
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from index.textnorm import fold_diacritics
from scripts.eval_judging import doc_matches, normalize_for_match

DATA_DIR = Path(__file__).resolve().parent
KNOWLEDGE_DIR = Path(__file__).resolve().parents[2] / "knowledge"
# Test data only: the product never reads ../shared at run time.
CORPUS_DIR = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SHARED_EVAL_DIR = CORPUS_DIR.parent / "eval"

QUESTIONS = DATA_DIR / "holdout_questions.jsonl"
LEGAL = DATA_DIR / "legal_holdout.jsonl"
FOLLOWUPS = DATA_DIR / "followups_holdout.jsonl"

INTENTS = frozenset(
    {"register", "talk_to_staff", "check_eligibility", "delete_data", "help", "greeting"}
)
QUESTION_KINDS = frozenset(
    {"accented", "unaccented", "english", "keyword", "situational", "abstain", "unknown", "intent"}
)
LEGAL_KINDS = QUESTION_KINDS | {"superseded"}
#: Minimum rows per kind, from the issue targets (≥ 15 near-domain out-of-scope questions,
#: enough action requests to measure intent routing, a handful of honest-unknown rows).
QUESTION_MINIMUMS = {"abstain": 18, "unknown": 8, "intent": 8}
LEGAL_MINIMUMS = {"abstain": 15, "unknown": 5, "superseded": 4}
#: Every Pháp điển document of the corpus must be asked about.
PHAPDIEN_NUMBERS = (
    "45/2012/NĐ-CP",
    "46/2012/TT-BCT",
    "36/2013/TT-BCT",
    "26/2014/TT-BCT",
    "26/2014/TTLT-BTC-BCT",
    "16/2011/TTLT-BCT-BNV",
)
_ARTICLE_HEADING = re.compile(r"^#{1,6}\s+(Điều\s+\d+|Chương\b)", re.MULTILINE)


@dataclass(frozen=True)
class Doc:
    """One Markdown document: its file, front-matter number and status, and its body text."""

    path: Path
    number: str
    status: str
    body: str

    def article(self, name: str) -> str | None:
        """Text of one article ("Điều 5"), up to the next article or chapter heading."""
        matches = list(_ARTICLE_HEADING.finditer(self.body))
        for index, match in enumerate(matches):
            if normalize_for_match(match.group(1)) == normalize_for_match(name):
                end = matches[index + 1].start() if index + 1 < len(matches) else None
                return self.body[match.start() : end]
        return None


def _read_doc(path: Path) -> Doc:
    text = path.read_text(encoding="utf-8")
    meta: dict[str, Any] = {}
    body = text
    if text.startswith("---"):
        _, front, body = text.split("---", 2)
        meta = yaml.safe_load(front) or {}
    return Doc(path, str(meta.get("number") or ""), str(meta.get("status") or ""), body)


@cache
def knowledge_docs() -> tuple[Doc, ...]:
    """The Markdown documents of knowledge/ (criteria.yaml is not a document)."""
    return tuple(_read_doc(p) for p in sorted(KNOWLEDGE_DIR.rglob("*.md")))


@cache
def corpus_docs() -> tuple[Doc, ...]:
    """The corpus documents that `make eval-legal` indexes: *.md except the README."""
    return tuple(
        _read_doc(p) for p in sorted(CORPUS_DIR.glob("*.md")) if p.name.lower() != "readme.md"
    )


def _needs_corpus() -> None:
    if not CORPUS_DIR.is_dir():
        pytest.skip(f"the shared corpus is absent ({CORPUS_DIR}); it is test data only")


def _rows(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            assert isinstance(row, dict), f"{path.name}:{number} is not a JSON object"
            rows.append(row)
    return rows


def _legal_dev_articles() -> set[tuple[str, str]]:
    """(document, article) pairs that the legal dev set already asks about."""
    path = SHARED_EVAL_DIR / "legal_dev.jsonl"
    if not path.is_file():
        return set()
    return {(r["doc"], r["article"]) for r in _rows(path) if r.get("doc") and r.get("article")}


def _holding(text: str, docs: tuple[Doc, ...]) -> list[Doc]:
    needle = normalize_for_match(text)
    return [d for d in docs if needle and needle in normalize_for_match(d.body)]


def _named(doc: str, docs: tuple[Doc, ...]) -> list[Doc]:
    return [d for d in docs if doc_matches(doc, number=d.number, doc_id=d.path.name)]


def _style(row: dict[str, Any]) -> str | None:
    return row.get("style") or row.get("kind")


def _check_keys(row: dict[str, Any], docs: tuple[Doc, ...]) -> None:
    """Answer keys are in a document body (the named one, and its article, when given)."""
    keys = row.get("answer_keys") or []
    assert 1 <= len(keys) <= 3, f"{row['id']}: give 1–3 answer keys"
    candidates = _named(row["doc"], docs) if row.get("doc") else list(docs)
    assert candidates, f"{row['id']}: no document is named {row.get('doc')!r}"
    if row.get("file"):
        candidates = [d for d in candidates if d.path.name == row["file"]]
        assert candidates, f"{row['id']}: {row['file']} is not document {row.get('doc')!r}"
    for key in keys:
        assert key.strip() and key == key.strip(), f"{row['id']}: blank or padded key {key!r}"
        holders = _holding(key, tuple(candidates))
        assert holders, f"{row['id']}: key {key!r} is not in {row.get('doc') or 'any document'}"
        if row.get("article"):
            texts = [d.article(row["article"]) for d in holders]
            assert any(t is not None for t in texts), f"{row['id']}: no {row['article']}"
            assert any(
                t is not None and normalize_for_match(key) in normalize_for_match(t) for t in texts
            ), f"{row['id']}: key {key!r} is not in {row['article']} of {row['doc']}"


def _check_row(row: dict[str, Any], docs: tuple[Doc, ...], kinds: frozenset[str]) -> None:
    assert isinstance(row.get("id"), str) and row["id"], f"row without id: {row}"
    assert row.get("kind") in kinds, f"{row['id']}: kind {row.get('kind')!r}"
    question = row.get("question") or (row.get("turns") or [""])[-1]
    assert isinstance(question, str) and question.strip(), f"{row['id']}: empty question"
    if _style(row) == "unaccented":
        for text in row.get("turns") or [question]:
            assert fold_diacritics(text) == text, f"{row['id']}: accents in {text!r}"
    if row.get("expect_abstain"):
        assert row["kind"] == "abstain", f"{row['id']}: an abstain row has kind abstain"
        assert not row.get("answer_keys"), f"{row['id']}: an abstain row has no answer keys"
        assert not row.get("forbidden"), f"{row['id']}: an abstain row has no forbidden list"
    elif row.get("expect_intent"):
        assert row["kind"] == "intent", f"{row['id']}: an intent row has kind intent"
        assert row["expect_intent"] in INTENTS, f"{row['id']}: intent {row['expect_intent']}"
        assert not row.get("answer_keys"), f"{row['id']}: an intent row has no answer keys"
    elif row.get("expect_unknown"):
        assert row["kind"] in {"unknown", "followup"}, f"{row['id']}: kind of an unknown row"
        forbidden = row.get("forbidden") or []
        assert forbidden, f"{row['id']}: an unknown row lists the figures it must not show"
        assert not row.get("answer_keys"), f"{row['id']}: an unknown row has no answer keys"
        for figure in forbidden:
            assert _holding(figure, docs), f"{row['id']}: {figure!r} is in no document"
    else:
        _check_keys(row, docs)


def _check_file(path: Path, docs: tuple[Doc, ...], kinds: frozenset[str]) -> list[dict[str, Any]]:
    rows = _rows(path)
    ids = Counter(row.get("id") for row in rows)
    assert not [i for i, n in ids.items() if n > 1], f"{path.name}: duplicate ids"
    for row in rows:
        _check_row(row, docs, kinds)
    return rows


def test_holdout_questions_are_grounded_in_knowledge() -> None:
    rows = _check_file(QUESTIONS, knowledge_docs(), QUESTION_KINDS)
    kinds = Counter(row["kind"] for row in rows)
    for kind, minimum in QUESTION_MINIMUMS.items():
        assert kinds[kind] >= minimum, f"{QUESTIONS.name}: {kinds[kind]} {kind} rows"
    answerable = sum(1 for row in rows if row.get("answer_keys"))
    assert answerable >= 30, f"{QUESTIONS.name}: only {answerable} answerable rows"
    for style in ("accented", "unaccented", "english", "keyword"):
        assert kinds[style] >= 4, f"{QUESTIONS.name}: only {kinds[style]} {style} rows"
    assert not any("doc_status" in row or "file" in row for row in rows)
    assert {row["expect_intent"] for row in rows if row.get("expect_intent")} == INTENTS


def test_legal_holdout_is_grounded_in_knowledge_and_corpus() -> None:
    _needs_corpus()
    docs = knowledge_docs() + corpus_docs()
    rows = _check_file(LEGAL, docs, LEGAL_KINDS)
    kinds = Counter(row["kind"] for row in rows)
    for kind, minimum in LEGAL_MINIMUMS.items():
        assert kinds[kind] >= minimum, f"{LEGAL.name}: {kinds[kind]} {kind} rows"
    for row in rows:
        if not row.get("answer_keys"):
            assert row.get("doc") is None and row.get("file") is None, row["id"]
            continue
        files = [d for d in corpus_docs() if d.path.name == row.get("file")]
        assert len(files) == 1, f"{row['id']}: file {row.get('file')!r} is not a corpus document"
        doc = files[0]
        assert row["doc_status"] == doc.status, f"{row['id']}: doc_status is {doc.status}"
        assert row["doc"] in {doc.number, doc.path.stem}, f"{row['id']}: doc {row['doc']!r}"
        if row["kind"] == "superseded":
            assert row.get("note"), f"{row['id']}: a superseded row explains itself in a note"
            assert doc.status in {"superseded", "amended"}, f"{row['id']}: {doc.status}"
    asked = {(row["doc"], row["article"]) for row in rows if row.get("article")}
    dev = _legal_dev_articles()
    for number in PHAPDIEN_NUMBERS:
        articles = {a for d, a in asked if d == number}
        fresh = {a for a in articles if (number, a) not in dev}
        # Many articles per document, and mostly ones legal_dev does not already ask about.
        assert len(fresh) >= 3, f"{LEGAL.name}: {number} asks about {sorted(articles)}"
    reused = [r["id"] for r in rows if (r.get("doc"), r.get("article")) in dev]
    assert all(r["kind"] == "superseded" for r in rows if r["id"] in reused), (
        f"{LEGAL.name}: only a superseded-rule row may reuse a legal_dev article: {reused}"
    )


def test_followups_replace_an_item_and_are_grounded() -> None:
    rows = _check_file(FOLLOWUPS, knowledge_docs(), frozenset({"followup"}))
    assert len(rows) >= 12, f"{FOLLOWUPS.name}: only {len(rows)} dialogues"
    for row in rows:
        turns = row.get("turns")
        assert isinstance(turns, list) and 2 <= len(turns) <= 3, f"{row['id']}: 2–3 turns"
        assert all(isinstance(t, str) and t.strip() for t in turns), f"{row['id']}: turns"
        # A follow-up leans on what came before, so it is shorter than the opening question.
        assert len(turns[-1]) < len(turns[0]), f"{row['id']}: the last turn is a follow-up"
    unknown = sum(1 for row in rows if row.get("expect_unknown"))
    assert 2 <= unknown <= 4, f"{FOLLOWUPS.name}: {unknown} expect_unknown dialogues"
    assert any(len(row["turns"]) == 3 for row in rows), "no three-turn dialogue"


def _texts(path: Path) -> list[str]:
    """Every question and turn of a question file (rows are objects or lists of turns)."""
    texts: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        turns = row if isinstance(row, list) else row.get("turns") or [row.get("question")]
        texts += [str(t["question"] if isinstance(t, dict) else t) for t in turns]
    return texts


def test_questions_do_not_repeat_the_dev_sets() -> None:
    """No holdout question is a copy of a dev or tuning question (same text after folding)."""
    holdout = (QUESTIONS, LEGAL, FOLLOWUPS)
    # Every other JSONL beside this file is tuning data (the paraphrase set and its splits).
    sources = [p for p in sorted(DATA_DIR.glob("*.jsonl")) if p not in holdout]
    sources += [SHARED_EVAL_DIR / n for n in ("dev_questions.jsonl", "legal_dev.jsonl")]
    seen = {
        fold_diacritics(normalize_for_match(text))
        for source in sources
        if source.is_file()
        for text in _texts(source)
    }
    assert seen, "no dev or tuning questions were found"
    for path in holdout:
        for text in _texts(path):
            assert fold_diacritics(normalize_for_match(text)) not in seen, (path.name, text)


def test_tuning_legal_is_grounded_in_knowledge_and_corpus() -> None:
    """Every legal tuning key is in a document; annotated rows obey the holdout's full rule."""
    _needs_corpus()
    docs = knowledge_docs() + corpus_docs()
    rows = _rows(DATA_DIR / "tuning_legal.jsonl")
    assert len(rows) >= 100, f"tuning_legal.jsonl: only {len(rows)} rows"
    assert len({row["id"] for row in rows}) == len(rows), "tuning_legal.jsonl: duplicate ids"
    for row in rows:
        if row.get("file"):  # rows written with kind, file and doc_status (tl85 onwards)
            _check_row(row, docs, LEGAL_KINDS)
        elif row.get("answer_keys"):  # older rows: one spelling of the answer is enough
            keys = row["answer_keys"]
            assert any(_holding(key, docs) for key in keys), f"{row['id']}: {keys} in no document"


def test_tuning_legal_english_is_grounded_in_the_corpus() -> None:
    """The English legal tuning rows (issue 8) obey the legal holdout's full rule."""
    _needs_corpus()
    docs = knowledge_docs() + corpus_docs()
    rows = _check_file(DATA_DIR / "tuning_legal_english.jsonl", docs, LEGAL_KINDS)
    assert {row["kind"] for row in rows} == {"english"}
    for row in rows:
        files = [d for d in corpus_docs() if d.path.name == row["file"]]
        assert len(files) == 1, f"{row['id']}: file {row['file']!r} is not a corpus document"
        assert row["doc_status"] == files[0].status, f"{row['id']}: doc_status is {files[0].status}"


def test_tuning_english_scope_rows_are_english_out_of_scope() -> None:
    """The English near-domain out-of-scope tuning rows (issue 8) are abstain rows, in English."""
    rows = _check_file(DATA_DIR / "tuning_english_scope.jsonl", (), LEGAL_KINDS)
    assert len(rows) >= 25, f"tuning_english_scope.jsonl: only {len(rows)} rows"
    for row in rows:
        assert row.get("expect_abstain") is True, f"{row['id']}: not an out-of-scope row"
        assert row.get("style") == "english", f"{row['id']}: style {row.get('style')!r}"
        assert row["question"].isascii(), f"{row['id']}: not written in English"


def test_tuning_legal_unknowns_are_grounded() -> None:
    """The legal unknown tuning rows (issue 8): answered keys are in a document, and what an
    unknown row forbids is a figure some document states (a look-alike answer)."""
    _needs_corpus()
    docs = knowledge_docs() + corpus_docs()
    rows = _rows(DATA_DIR / "tuning_legal_unknowns.jsonl")
    assert len({row["id"] for row in rows}) == len(rows), "tuning_legal_unknowns.jsonl: duplicate ids"
    unknown = [row for row in rows if row.get("expect_unknown")]
    assert 10 <= len(unknown) < len(rows), f"{len(unknown)} unknown rows of {len(rows)}"
    for row in rows:
        for text in row.get("answer_keys") or row.get("forbidden") or ():
            assert _holding(text, docs), f"{row['id']}: {text!r} in no document"
