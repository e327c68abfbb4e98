"""Retrieval and answer quality on a JSONL question set, broken down by kind.

`python -m scripts.evaluate --questions PATH [--k 5] [--json] [--mode dense|bm25|hybrid]
[--fusion rrf|weighted] [--all-modes] [--variant accentless|nfd] [--details FILE]
[--followups FILE]`

Row kinds (one JSON object per line; unknown fields such as `note` or `file` are ignored):

* answerable: `{"id", "question", "answer_keys": [...], "doc"?, "article"?, "kind"?}`;
* out of scope: `{"id", "question", "expect_abstain": true}`;
* answer not in the documents: `{"id", "question", "expect_unknown": true, "forbidden": [...]}`;
* an action: `{"id", "question", "expect_intent": "register" | "talk_to_staff" | ...}`.

Answers are judged on what a user is shown (`bot.answer_views.render_answer`), so the
numbers measure the product, not an internal field. A row without `kind` gets one from its
expectation, or from how it is written (accented, unaccented, english).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.logs import configure_logging

if TYPE_CHECKING:
    from index.engine import Engine
    from index.schema import Answer, Citation, Passage
    from index.settings import Settings

logger = logging.getLogger(__name__)

#: Keys of every metrics dict; outside checks read these names, so they never change.
METRIC_KEYS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr@5",
    "answer_hit",
    "abstain_accuracy",
    "false_abstain",
    "p50_ms",
    "p95_ms",
    "n",
)
#: Keys added for the legal documents and the answer layer.
EXTRA_KEYS = (
    "answer_first",
    "answer_chars_p50",
    "unknown_honesty",
    "doc_hit",
    "article_hit",
    "superseded_flagged",
    "intent_accuracy",
)
#: How many rows each rate was computed over (a rate over 0 rows is reported as None).
COUNT_KEYS = (
    "n_answerable",
    "n_abstain",
    "n_unknown",
    "n_intent",
    "n_doc",
    "n_article",
    "n_flag_checked",
)
MODES: dict[str, dict[str, Any]] = {
    "dense": {"mode": "dense"},
    "bm25": {"mode": "bm25"},
    "hybrid-rrf": {"mode": "hybrid", "fusion": "rrf"},
    "hybrid-weighted": {"mode": "hybrid", "fusion": "weighted"},
}
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


def hit_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose first hit is within the top k."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr_at(ranks: Sequence[int | None], k: int) -> float:
    """Mean reciprocal rank, counting only hits within the top k."""
    if not ranks:
        return 0.0
    return sum(1.0 / r for r in ranks if r is not None and r <= k) / len(ranks)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


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
    from index.retrieval import has_vietnamese_diacritics, looks_accentless_vietnamese

    if has_vietnamese_diacritics(item.question):
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


def _rate(values: Sequence[bool | None]) -> float | None:
    present = [bool(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def summarize(judged: Sequence[Judged], *, legacy_zero: bool = True) -> dict[str, Any]:
    """Aggregates judged answers into the metrics named in `METRIC_KEYS` and `EXTRA_KEYS`.

    With `legacy_zero`, the original keys keep their old meaning (0.0 over no rows); the
    added rates are None over no rows, and `COUNT_KEYS` say how many rows each was
    computed over. Per-kind summaries use None for every rate that does not apply.
    """

    def flag(name: str) -> list[bool | None]:
        return [j.flags.get(name) for j in judged if name in j.flags]

    ranks = [j.rank for j in judged if j.item.answerable]
    latencies = [j.answer.latency_ms for j in judged]
    lengths = [float(len("\n\n".join(j.body))) for j in judged if j.item.answerable and j.body]

    def legacy(value: float | None) -> float | None:
        return (value or 0.0) if legacy_zero else value

    def ranked(value: float) -> float | None:
        return value if ranks or legacy_zero else None

    metrics: dict[str, Any] = {
        "hit@1": ranked(hit_at(ranks, 1)),
        "hit@3": ranked(hit_at(ranks, 3)),
        "hit@5": ranked(hit_at(ranks, 5)),
        "mrr@5": ranked(mrr_at(ranks, 5)),
        "answer_hit": legacy(_rate(flag("answer_hit"))),
        "abstain_accuracy": legacy(_rate(flag("abstain"))),
        "false_abstain": legacy(_rate(flag("false_abstain"))),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "n": len(judged),
        "answer_first": _rate(flag("answer_first")),
        "answer_chars_p50": percentile(lengths, 50) if lengths else None,
        "unknown_honesty": _rate(flag("unknown_honesty")),
        "doc_hit": _rate(flag("doc_hit")),
        "article_hit": _rate(flag("article_hit")),
        "superseded_flagged": _rate(flag("superseded_flagged")),
        "intent_accuracy": _rate(flag("intent")),
        "n_answerable": len(ranks),
        "n_abstain": len(flag("abstain")),
        "n_unknown": len(flag("unknown_honesty")),
        "n_intent": len(flag("intent")),
        "n_doc": len(flag("doc_hit")),
        "n_article": len(flag("article_hit")),
        "n_flag_checked": len(flag("superseded_flagged")),
    }
    return metrics


def summarize_by_kind(judged: Sequence[Judged]) -> dict[str, dict[str, Any]]:
    """The same metrics for each kind of row, kinds in first-seen order."""
    kinds = list(dict.fromkeys(j.kind for j in judged))
    return {
        kind: summarize([j for j in judged if j.kind == kind], legacy_zero=False) for kind in kinds
    }


def ask_all(
    engine: Engine,
    questions: Sequence[Question],
    *,
    k: int = 5,
    mode: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Judged]:
    """Asks every question through `Engine.answer` and judges what would be shown."""
    judged: list[Judged] = []
    for done, item in enumerate(questions, start=1):
        answer = engine.answer(item.question, mode=mode, k=max(k, 5))  # type: ignore[arg-type]
        judged.append(judge(item, answer, k=k))
        if progress is not None:
            progress(done, len(questions))
    return judged


def ask_dialogues(
    engine: Engine, dialogues: Sequence[Dialogue], *, k: int = 5, mode: str | None = None
) -> list[Judged]:
    """Plays each dialogue through the engine's follow-up handling; judges the last turn."""
    from index.followup import next_context

    judged: list[Judged] = []
    for dialogue in dialogues:
        previous: str | None = None
        for turn in dialogue.turns:
            earlier = engine.answer(turn, mode=mode, k=max(k, 5), previous=previous)  # type: ignore[arg-type]
            previous = next_context(previous, earlier)
        answer = engine.answer(dialogue.last.question, mode=mode, k=max(k, 5), previous=previous)  # type: ignore[arg-type]
        judged.append(judge(dialogue.last, answer, k=k))
    return judged


def evaluate(
    engine: Engine,
    questions: Sequence[Question],
    *,
    k: int = 5,
    mode: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Asks every question and returns the metrics, with a `by_kind` breakdown.

    Args:
        engine: The engine to evaluate.
        questions: From `load_questions`.
        k: Passages retrieved per question (hit@5 and MRR@5 need k >= 5).
        mode: Retrieval mode; the engine's setting when None.
        progress: Called with (done, total) after each question.

    Returns:
        The metrics named in `METRIC_KEYS`, `EXTRA_KEYS` and `COUNT_KEYS`, plus `by_kind`;
        rates are in [0, 1], latencies in ms.
    """
    judged = ask_all(engine, questions, k=k, mode=mode, progress=progress)
    return {**summarize(judged), "by_kind": summarize_by_kind(judged)}


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


def ensure_index(settings: Settings) -> None:
    """Builds the index when it is missing or out of date, so a fresh checkout works."""
    from index.build import build_index, index_status

    status = index_status(settings)
    if status == "current":
        return
    logger.info("Index is %s; building it from %s", status, settings.knowledge_dir)
    build_index(settings, full=status == "mismatch")


def detail_record(judged: Judged) -> dict[str, Any]:
    """One JSONL line of `--details`: expectation, outcome, rank, shown text, citations."""
    from bot.answer_views import citation_line

    answer = judged.answer
    item = judged.item
    return {
        "id": item.id,
        "kind": judged.kind,
        "question": item.question,
        "resolved": answer.resolved or item.question,
        "expected": {
            "answer_keys": list(item.answer_keys),
            "doc": item.doc,
            "article": item.article,
            "abstain": item.expect_abstain,
            "unknown": item.expect_unknown,
            "forbidden": list(item.forbidden),
            "intent": item.expect_intent,
        },
        "outcome": answer.outcome,
        "intent": answer.intent,
        "confident": answer.confident,
        "confidence": answer.confidence,
        "rank": judged.rank,
        "flags": judged.flags,
        "latency_ms": round(answer.latency_ms, 2),
        "shown": judged.shown,
        "citations": [
            {
                "line": citation_line(c),
                "doc_id": c.doc_id,
                "article": c.article,
                "status": c.status,
                "number": c.number,
                "doc_type": c.doc_type,
            }
            for c in answer.citations
        ],
        "passages": [
            {
                "doc_id": p.doc.doc_id,
                "doc_type": p.doc.doc_type,
                "path": list(p.chunk.path) or list(p.chunk.heading_path),
                "score": round(p.score, 4),
                "text": p.chunk.text[:300],
            }
            for p in answer.passages[:5]
        ],
    }


def _format_cell(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key == "n" or key.startswith("n_"):
        return str(int(value))
    if key.endswith("_ms") or key == "answer_chars_p50":
        return f"{value:.1f}"
    return f"{value:.3f}"


#: Columns of the printed table (the JSON has every key).
TABLE_KEYS = (
    "hit@1",
    "hit@5",
    "mrr@5",
    "answer_hit",
    "answer_first",
    "abstain_accuracy",
    "false_abstain",
    "unknown_honesty",
    "doc_hit",
    "article_hit",
    "superseded_flagged",
    "intent_accuracy",
    "answer_chars_p50",
    "p50_ms",
    "p95_ms",
    "n",
)


def _print_table(title: str, rows: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("run")
    for key in TABLE_KEYS:
        table.add_column(key, justify="right")
    for name, metrics in rows.items():
        table.add_row(name, *(_format_cell(key, metrics.get(key)) for key in TABLE_KEYS))
        for kind, sub in (metrics.get("by_kind") or {}).items():
            table.add_row(f"  · {kind}", *(_format_cell(key, sub.get(key)) for key in TABLE_KEYS))
    console = Console()
    if not console.is_terminal:
        console.width = 240  # a file or pipe gets the whole table, not an 80-column squeeze
    console.print(table)


def build_parser() -> argparse.ArgumentParser:
    """The options of `python -m scripts.evaluate`; `khuyencong evaluate` is generated from it."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.evaluate", description="Evaluate retrieval and answers."
    )
    parser.add_argument("--questions", type=Path, required=True, help="JSONL question file")
    parser.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--mode", choices=["dense", "bm25", "hybrid"], default=None)
    parser.add_argument("--fusion", choices=["rrf", "weighted"], default=None)
    parser.add_argument("--dense-weight", type=float, default=None, help="override the weight")
    parser.add_argument(
        "--abstain-threshold", type=float, default=None, help="override the threshold"
    )
    parser.add_argument(
        "--all-modes", action="store_true", help="dense, bm25, hybrid-rrf, hybrid-weighted"
    )
    parser.add_argument(
        "--variant",
        choices=["accentless", "nfd"],
        default=None,
        help="rewrite the questions (diacritics removed, or NFD) to test robustness",
    )
    parser.add_argument(
        "--details", type=Path, default=None, help="write one JSONL record per question here"
    )
    parser.add_argument(
        "--followups", type=Path, default=None, help="multi-turn JSONL file (last turn judged)"
    )
    return parser


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None, *, engine: Engine | None = None) -> int:
    """Runs the evaluation from the command line; returns the exit code.

    Args:
        argv: Command-line arguments (sys.argv[1:] when None).
        engine: An already loaded engine (tests); loaded from the environment when None.
    """
    args = _parse_args(argv)
    configure_logging(logging.WARNING if args.json else logging.INFO, stream=sys.stderr)
    for path in (args.questions, args.followups):
        if path is not None and not path.is_file():
            logger.error("Question file not found: %s", path)
            return 2
    questions = make_variant(load_questions(args.questions), args.variant)
    dialogues = load_followups(args.followups) if args.followups else []
    if engine is None:
        from index.engine import load_engine
        from index.settings import Settings

        settings = Settings()
        ensure_index(settings)
        engine = load_engine(settings)
    overrides: dict[str, Any] = {}
    if args.fusion:
        overrides["fusion"] = args.fusion
    if args.dense_weight is not None:
        overrides["dense_weight"] = args.dense_weight
    if args.abstain_threshold is not None:
        overrides["abstain_threshold"] = args.abstain_threshold
    base = engine.with_overrides(**overrides) if overrides else engine

    runs: dict[str, dict[str, Any]]
    if args.all_modes:
        runs = MODES
    else:
        name = args.mode or base.settings.retrieval_mode
        if name == "hybrid":
            name = f"hybrid-{base.settings.fusion}"
        runs = {name: {"mode": args.mode}}
    results: dict[str, dict[str, Any]] = {}
    details: list[dict[str, Any]] = []
    for name, run in runs.items():
        target = base.with_overrides(fusion=run["fusion"]) if "fusion" in run else base
        judged = ask_all(target, questions, k=args.k, mode=run["mode"])
        results[name] = {**summarize(judged), "by_kind": summarize_by_kind(judged)}
        details.extend({"run": name, **detail_record(j)} for j in judged)
    followups: dict[str, Any] | None = None
    if dialogues:
        judged = ask_dialogues(base, dialogues, k=args.k, mode=args.mode)
        followups = {**summarize(judged), "by_kind": summarize_by_kind(judged)}
        details.extend({"run": "followups", **detail_record(j)} for j in judged)

    if args.details is not None:
        args.details.parent.mkdir(parents=True, exist_ok=True)
        with args.details.open("w", encoding="utf-8") as handle:
            for record in details:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if args.json:
        payload: dict[str, Any] = results if args.all_modes else dict(next(iter(results.values())))
        if followups is not None:
            payload["followups"] = followups
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        label = f" ({args.variant})" if args.variant else ""
        rows = dict(results)
        if followups is not None:
            rows[f"followups ({len(dialogues)})"] = followups
        _print_table(f"{args.questions.name}{label}: {len(questions)} questions", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
