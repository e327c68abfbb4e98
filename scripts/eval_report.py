"""What `scripts.evaluate` writes: the `--details` records and the printed table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scripts.eval_judging import Judged


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


def print_table(title: str, rows: dict[str, dict[str, Any]]) -> None:
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
