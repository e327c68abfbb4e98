"""The metrics of judged answers: rank hits, rates, latency percentiles, per kind."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scripts.eval_judging import Judged

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
