"""Fusion of the dense and lexical candidate lists into one ranking.

Either Reciprocal Rank Fusion or a weighted sum of min-max normalised scores; each fused
result keeps the raw score of both retrievers, which the rerank and the confidence read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Fusion = Literal["weighted", "rrf"]

#: RRF damping constant from Cormack et al. (2009); 60 is the customary value.
RRF_K = 60


@dataclass(frozen=True, slots=True)
class ScoredId:
    """A chunk id with the fused score and the raw score of each retriever."""

    chunk_id: int
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    #: The passage ranker's score, for the head it reordered (None beyond it).
    rank_score: float | None = None


def rrf_fuse(
    dense: Sequence[tuple[int, float]],
    bm25: Sequence[tuple[int, float]],
    *,
    k: int = RRF_K,
    dense_weight: float = 0.5,
) -> list[ScoredId]:
    """Fuses two ranked lists with (weighted) Reciprocal Rank Fusion.

    Args:
        dense: (chunk_id, cosine) pairs, best first.
        bm25: (chunk_id, BM25 score) pairs, best first.
        k: RRF damping constant.
        dense_weight: Share of the dense list; 0.5 is plain RRF.

    Returns:
        Fused results, best first; score = sum of 2 * weight / (k + rank), ranks from 1,
        so plain RRF keeps its textbook values.
    """
    fused: dict[int, list[float | None]] = {}
    totals: dict[int, float] = {}
    for slot, ranked, weight in ((0, dense, dense_weight), (1, bm25, 1.0 - dense_weight)):
        for rank, (chunk_id, raw) in enumerate(ranked, start=1):
            fused.setdefault(chunk_id, [None, None])[slot] = raw
            totals[chunk_id] = totals.get(chunk_id, 0.0) + 2.0 * weight / (k + rank)
    return _ranked(totals, fused)


def min_max(scores: Sequence[float]) -> list[float]:
    """Scales scores to [0, 1] over the candidate pool.

    A constant list maps to 1.0 when positive (every candidate equally good) and to 0.0
    otherwise, so a retriever that found nothing contributes nothing.

    Args:
        scores: Raw scores.

    Returns:
        Normalised scores in the same order.
    """
    if not scores:
        return []
    low, high = min(scores), max(scores)
    if high - low <= 1e-12:
        return [1.0 if high > 0 else 0.0 for _ in scores]
    return [(s - low) / (high - low) for s in scores]


def weighted_fuse(
    dense: Sequence[tuple[int, float]],
    bm25: Sequence[tuple[int, float]],
    *,
    dense_weight: float,
) -> list[ScoredId]:
    """Fuses two ranked lists by a weighted sum of min-max normalised scores.

    A chunk missing from one list gets 0 from that list.

    Args:
        dense: (chunk_id, cosine) pairs.
        bm25: (chunk_id, BM25 score) pairs.
        dense_weight: w in score = w * dense + (1 - w) * bm25.

    Returns:
        Fused results, best first.
    """
    fused: dict[int, list[float | None]] = {}
    totals: dict[int, float] = {}
    for slot, ranked, weight in ((0, dense, dense_weight), (1, bm25, 1.0 - dense_weight)):
        normalised = min_max([raw for _, raw in ranked])
        for (chunk_id, raw), norm in zip(ranked, normalised, strict=True):
            fused.setdefault(chunk_id, [None, None])[slot] = raw
            totals[chunk_id] = totals.get(chunk_id, 0.0) + weight * norm
    return _ranked(totals, fused)


def _ranked(totals: dict[int, float], raw: dict[int, list[float | None]]) -> list[ScoredId]:
    # Ties break on the dense score, then on the chunk id, so rankings are deterministic.
    order = sorted(
        totals,
        key=lambda cid: (-totals[cid], -(raw[cid][0] or 0.0), -(raw[cid][1] or 0.0), cid),
    )
    return [ScoredId(cid, totals[cid], raw[cid][0], raw[cid][1]) for cid in order]


def limit_per_doc(
    results: Sequence[ScoredId], doc_of: Mapping[int, str], *, k: int, max_per_doc: int
) -> list[ScoredId]:
    """Keeps at most `max_per_doc` chunks of one document in the first k results.

    Chunks over the limit are moved behind the others rather than dropped, so fewer than
    k distinct documents still fill k slots.

    Args:
        results: Fused results, best first.
        doc_of: chunk_id -> doc_id.
        k: Number of results wanted.
        max_per_doc: Cap per document.

    Returns:
        Up to k results.
    """
    kept: list[ScoredId] = []
    overflow: list[ScoredId] = []
    per_doc: dict[str, int] = {}
    for item in results:
        doc_id = doc_of.get(item.chunk_id, "")
        if per_doc.get(doc_id, 0) < max_per_doc:
            per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
            kept.append(item)
        else:
            overflow.append(item)
        if len(kept) >= k:
            break
    return (kept + overflow)[:k]
